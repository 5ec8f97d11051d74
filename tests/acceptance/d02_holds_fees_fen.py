# Audit d: holds and fees to the fen. PROTOCOL "Defaults": "a limit buy holds limit price x leaves_qty in cash_held ...;
# a market buy must be covered by cash_available at the prices it would take. Trades settle at once (cash and units
# together); fees 0 unless the market sets them"; "Orders": "INSUFFICIENT_FUNDS (a limit buy needs price x qty
# available)" - for ioc and fok limits too, even when they would fill cheaper; cash_available excludes what is held.
# market.create maker_fee_bp / taker_fee_bp: each fill charges the resting side the maker fee and the incoming side the
# taker fee (buyer on top of the notional, seller out of the proceeds). Amounts are picked so every fee is a whole fen;
# rounding and a fee larger than the cash left are printed as info (the contract does not say).
from common import *

def fl(r): return [(f['price'], f['qty']) for f in r['fills']]

async def sc(ctx):
    a = ctx.adm
    S = await ctx.mk('enterprise')
    asset = await new_asset(ctx, S)
    await S.call('market.create', market_id='F', asset_id=asset, licence=LIC, tick=100, min_qty=10, maker_fee_bp=25, taker_fee_bp=30)
    await S.call('units.issue', market_id='F', qty=1000)
    O = order_maker('F', 'sell')
    async def acc(c): return await a.call('account.get', participant_id=c.pid)
    # --- 1. a limit ioc / fok buy needs price x qty available even if it would fill cheaper
    await S.call('order.place', **O(price=500, qty=10, client_order_id='s500'))
    B = await ctx.mk('individual', fund=10_999)
    for tif in ('ioc', 'fok', 'gtc'):
        e = await refused(ctx, f'{tif} buy 10 @ 1100 with 10,999 (ask 10 @ 500 would cost 5,000)', B, 'order.place', [B, S],
                          **O(side='buy', price=1100, qty=10, tif=tif, client_order_id='b1'))
        check(f'1 limit {tif} buy one fen short of price x qty -> INSUFFICIENT_FUNDS', e[0] == 'INSUFFICIENT_FUNDS', e)
    await a.call('account.fund', participant_id=B.pid, amount=1)
    s0 = await acc(S)
    r = await B.call('order.place', **O(side='buy', price=1100, qty=10, tif='ioc', client_order_id='b1'))
    check('1 ioc buy 10 @ 1100 with exactly 11,000: filled 10 @ 500', (r['status'], fl(r)) == ('filled', [(500, 10)]), r)
    b = await acc(B); s = await acc(S)
    check('1 buyer: 11,000 - 5,000 - taker 30bp 15 = 5,985, nothing held', (b['cash_available'], b['cash_held']) == (5_985, 0), b)
    mfee = s0['cash_available'] + 5_000 - s['cash_available']
    print(f'  info: maker fee on 5,000 at 25 bp (12.5) charged {mfee}')
    check('1 seller: + 5,000 - maker fee 12 or 13', mfee in (12, 13), (s0, s))

    # --- 2. cash_available excludes what is held
    C = await ctx.mk('individual', fund=20_000)
    await C.call('order.place', **O(side='buy', price=1000, qty=10, client_order_id='c1'))
    r = await C.call('order.place', **O(side='buy', price=900, qty=10, client_order_id='c2'))
    c = await acc(C)
    check('2 two resting buys hold 10,000 + 9,000; available 1,000', r['status'] == 'open' and (c['cash_available'], c['cash_held']) == (1_000, 19_000), c)
    e = await refused(ctx, 'limit buy 10 @ 200 with 1,000 available, 19,000 held', C, 'order.place', [C], **O(side='buy', price=200, qty=10, client_order_id='c3'))
    check('2 limit buy needing 2,000 with 1,000 available (19,000 held) -> INSUFFICIENT_FUNDS', e[0] == 'INSUFFICIENT_FUNDS', e)
    r = await C.call('order.place', **O(side='buy', price=100, qty=10, client_order_id='c3'))
    check('2 limit buy needing exactly the 1,000 available rests (id c3 not used up by the refusal)', r['status'] == 'open' and (await acc(C))['cash_available'] == 0, r)
    await S.call('order.place', **O(price=1400, qty=10, client_order_id='s1400'))
    e = await refused(ctx, 'market buy 10 (needs 14,000) with 0 available, 20,000 held', C, 'order.place', [C, S],
                      **{k: v for k, v in O(side='buy', type='market', tif='ioc', client_order_id='c4').items() if k != 'price'})
    check('2 market buy not covered by cash_available (held cash does not count) -> INSUFFICIENT_FUNDS', e[0] == 'INSUFFICIENT_FUNDS', e)
    for k in ('c1', 'c2', 'c3'): await C.call('order.cancel', market_id='F', client_order_id=k)
    c = await acc(C)
    check('2 after cancelling all three: 20,000 available, 0 held', (c['cash_available'], c['cash_held']) == (20_000, 0), c)
    await S.call('order.cancel', market_id='F', client_order_id='s1400')

    # --- 3. taker buyer across levels, maker seller; then the buyer rests a sell and is hit by a market buy
    await S.call('order.place', **O(price=1000, qty=10, client_order_id='s1'))
    await S.call('order.place', **O(price=1100, qty=20, client_order_id='s2'))
    T = await ctx.mk('individual', fund=100_000)
    s0 = await acc(S)
    r = await T.call('order.place', **O(side='buy', price=1200, qty=40, client_order_id='t1'))
    check('3 T buy 40 @ 1200: 10 @ 1000 + 20 @ 1100, 10 rest', (r['status'], r['filled_qty'], r['leaves_qty'], fl(r)) == ('partially_filled', 30, 10, [(1000, 10), (1100, 20)]), r)
    t = await acc(T); s = await acc(S)
    check('3 T: hold 1200 x 10 = 12,000; available 100,000 - 32,000 - taker (30 + 66) - 12,000 = 55,904',
          (t['cash_held'], t['cash_available'], mp(t, 'F')) == (12_000, 55_904, (30, 0)), t)
    check('3 S (maker): + 32,000 - (25 + 55) = +31,920; units -30, none held', s['cash_available'] - s0['cash_available'] == 31_920 and mp(s, 'F') == (mp(s0, 'F')[0] - 30, 0), (s0, s))
    # S sells into T's resting bid as taker: fill at the bid's 1200; T pays the maker fee from cash_available
    s0 = s
    r = await S.call('order.place', **O(price=1000, qty=10, tif='fok', client_order_id='s3'))
    check('3 S fok sell 10 @ 1000 fills 10 @ 1200 (resting price)', (r['status'], fl(r)) == ('filled', [(1200, 10)]), r)
    t = await acc(T); s = await acc(S)
    check('3 T (maker buyer): hold 0; available 55,904 - maker 30 = 55,874; units 40', (t['cash_held'], t['cash_available'], mp(t, 'F')) == (0, 55_874, (40, 0)), t)
    check('3 S (taker seller): + 12,000 - taker 36 = +11,964', s['cash_available'] - s0['cash_available'] == 11_964, (s0, s))
    r = await T.call('order.place', **O(price=1400, qty=20, client_order_id='t2'))
    check('3 T rests sell 20 @ 1400: units_held 20', r['status'] == 'open' and mp(await acc(T), 'F') == (40, 20), r)
    U = await ctx.mk('individual', fund=14_042)
    e = await refused(ctx, 'market buy 20 (needs 28,000) with 14,042', U, 'order.place', [U, T],
                      **{k: v for k, v in O(side='buy', type='market', tif='fok', qty=20, client_order_id='u1').items() if k != 'price'})
    check('3 market fok buy not covered -> INSUFFICIENT_FUNDS', e[0] == 'INSUFFICIENT_FUNDS', e)
    r = await U.call('order.place', **{k: v for k, v in O(side='buy', type='market', tif='ioc', qty=10, client_order_id='u2').items() if k != 'price'})
    check('3 market ioc buy 10 with 14,042: 10 @ 1400', (r['status'], fl(r)) == ('filled', [(1400, 10)]), r)
    t = await acc(T); u = await acc(U)
    check('3 U: 14,042 - 14,000 - taker 42 = 0', (u['cash_available'], u['cash_held'], mp(u, 'F')) == (0, 0, (10, 0)), u)
    check('3 T (maker seller): 55,874 + 14,000 - maker 35 = 69,839; units 30, held 10', (t['cash_available'], mp(t, 'F')) == (69_839, (30, 10)), t)
    # --- 4. units: a sell needs units not already locked
    e = await refused(ctx, 'T sells 30 with 30 units, 10 locked in a resting sell', T, 'order.place', [T], **O(price=1500, qty=30, client_order_id='t3'))
    print('  info: sell of more units than free (units - units_held) ->', e[0])
    check('4 selling more than the free units is refused', e[0] not in ('OK', 'INTERNAL'), e)
    r = await T.call('order.place', **O(price=1500, qty=20, client_order_id='t3'))
    check('4 selling exactly the free 20 rests; units_held 30 (id t3 reusable after the refusal)', r['status'] == 'open' and mp(await acc(T), 'F') == (30, 30), r)
    e = await refused(ctx, 'market sell 10 with 0 free units', T, 'order.place', [T], **{k: v for k, v in O(type='market', tif='ioc', client_order_id='t4').items() if k != 'price'})
    check('4 market sell with no free units is refused', e[0] not in ('OK', 'INTERNAL'), e)
    c = await T.call('order.cancel', market_id='F', client_order_id='t2')
    check('4 cancel t2 (10 filled of 20): filled 10, leaves 0, units_held 20', (c['status'], c['filled_qty'], c['leaves_qty']) == ('cancelled', 10, 0) and mp(await acc(T), 'F') == (30, 20), c)

    # --- 4b. order.replace (extension) moving a resting sell onto a bid: the replaced order is the taker
    U2 = await ctx.mk('individual', fund=30_000)
    await U2.call('order.place', **O(side='buy', price=1400, qty=10, client_order_id='u2'))
    await T.call('order.cancel', market_id='F', client_order_id='t3')
    tid = (await T.call('order.place', **O(price=1500, qty=10, client_order_id='t5')))['order_id']
    t0 = await acc(T)
    r = await T.call('order.replace', market_id='F', order_id=tid, price=1400)
    check('4b T sell 10 @ 1500 replaced to 1400 fills U2 bid 10 @ 1400', (r['status'], fl(r)) == ('filled', [(1400, 10)]), r)
    t = await acc(T); u2 = await acc(U2)
    check('4b T (taker after replace): + 14,000 - taker 42', t['cash_available'] - t0['cash_available'] == 13_958, (t0, t))
    check('4b U2 (maker): 30,000 - 14,000 - maker 35 = 15,965, hold 0, 10 units', (u2['cash_available'], u2['cash_held'], mp(u2, 'F')) == (15_965, 0, (10, 0)), u2)
    # --- 5. conservation: cash + fees, units
    fees = 15 + mfee + 30 + 66 + 25 + 55 + 30 + 36 + 42 + 35 + 42 + 35
    people = [S, B, C, T, U, U2]
    accs = [await acc(x) for x in people]
    tot = sum(x['cash_available'] + x['cash_held'] for x in accs)
    check(f'5 cash conserved: funded 11,000 + 20,000 + 100,000 + 14,042 + 30,000 - fees {fees}', tot == 11_000 + 20_000 + 100_000 + 14_042 + 30_000 - fees, tot)
    check('5 units conserved (1000)', sum(mp(x, 'F')[0] for x in accs) == 1000)

    # --- info: rounding of fractional fees, and a fee larger than the cash left (the contract is silent on both)
    asset2 = await new_asset(ctx, S)
    await S.call('market.create', market_id='G', asset_id=asset2, licence=LIC, tick=1, min_qty=1, maker_fee_bp=25, taker_fee_bp=30)
    await S.call('units.issue', market_id='G', qty=1000)
    for i, (p, q) in enumerate(((1, 1), (10, 5), (50, 7), (333, 3))):
        await S.call('order.place', market_id='G', side='sell', type='limit', price=p, qty=q, tif='gtc', client_order_id=f'g{i}')
    R = await ctx.mk('individual', fund=1_000_000); s0 = await acc(S)
    r = await R.call('order.place', market_id='G', side='buy', type='limit', price=400, qty=16, tif='gtc', client_order_id='r')
    paid = 1_000_000 - (await acc(R))['cash_available']; got = (await acc(S))['cash_available'] - s0['cash_available']
    print(f'  info: fills {fl(r)} notional 1,400: taker paid fee {paid - 1400} (per fill floor 3, ceil 7, on the sum 4), maker fee {1400 - got} (per fill floor 2)')
    await S.call('order.place', **O(price=1000, qty=10, client_order_id='sx'))
    X = await ctx.mk('individual', fund=10_010)
    r = await X.errm('order.place', **O(side='buy', price=1000, qty=10, client_order_id='x'))
    x = await acc(X)
    print(f'  info: taker buy 10 @ 1000 (taker fee 30) with 10,010 -> {r[0]} {r[1].get("status") if r[0] == "OK" else ""}; cash after {x["cash_available"]} (fee charged {10_010 - 10_000 - x["cash_available"]} of 30)')
    check('a fee beyond the cash left never drives cash_available negative', x['cash_available'] >= 0, x)
run('d02', sc)
