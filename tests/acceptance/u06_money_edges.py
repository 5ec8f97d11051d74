# Money edges: a Dutch sale below the deposit (pay moves price + premium - deposit, which is negative: the excess deposit
# comes back), rounding of premium / commission / fund share (PROTOCOL: "Amounts derived from percentages ... are rounded
# down"), settlement.fail refunds with a premium, conservation of every fen.
from common import *
async def accts(ctx, cs): return {c.pid: await ctx.adm.call('account.get', participant_id=c.pid) for c in cs}
def total(acc): return sum(v['cash_available'] + v['cash_held'] for v in acc.values())
async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise'); F = 10_000_000
    X = await ctx.mk('individual', fund=F); Y = await ctx.mk('individual', fund=F)
    everyone = [own, X, Y]
    # Dutch: start 1,000,000, deposit 200,000, floor 100,000; accepted at 100,000 (+10% premium = 110,000 < deposit)
    now = await ctx.now()
    _, D = await new_auction(ctx, own, start=1_000_000, inc=10_000, dep=200_000, fmt='dutch', closes=now + 10 * DAY,
                             dutch={'decrement': 100_000, 'interval_ms': MIN, 'floor': 100_000}, buyer_premium_bp=1000)
    await X.call('auction.register', auction_id=D)
    await ctx.adv(9 * MIN)
    r = await X.call('auction.accept', auction_id=D)
    check('Dutch accepted at the floor 100,000', r['price'] == 100_000, r)
    g = await a.call('auction.get', auction_id=D)
    s = await X.call('settlement.get', settlement_id=g['settlement_id'])
    check('premium 10,000', s['buyer_premium'] == 10_000, s)
    print('  info: settlement of a sale below the deposit:', {k: s.get(k) for k in ('price', 'buyer_premium', 'deposit', 'amount_due')})
    x0 = await X.call('account.get')
    check('before pay: deposit 200,000 held', (x0['cash_held'], x0['cash_available']) == (200_000, F - 200_000), x0)
    e = await X.errm('settlement.pay', settlement_id=s['settlement_id'])
    x1 = await X.call('account.get')
    check('pay: escrow = price + premium 110,000; the rest of the deposit (90,000) back to available',
          e[0] == 'OK' and (x1['cash_held'], x1['cash_available']) == (110_000, F - 110_000), (e[0], x1))
    await a.call('settlement.confirm', settlement_id=s['settlement_id'], registration_no='RD')
    acc = await accts(ctx, everyone)
    check('after confirm: X paid 110,000 in all, seller got 100,000', acc[X.pid]['cash_available'] == F - 110_000 and acc[X.pid]['cash_held'] == 0
          and acc[own.pid]['cash_available'] == 100_000, acc)
    # rounding: price 1,234,567 with 333 bp premium (41,111.08) and 777 bp commission (95,925.85)
    _, R = await new_auction(ctx, own, start=1_234_567, inc=1, dep=100_000, buyer_premium_bp=333, seller_commission_bp=777)
    await Y.call('auction.register', auction_id=R); await Y.call('auction.bid', auction_id=R, amount=1_234_567)
    await ctx.adv(DAY)
    g = await a.call('auction.get', auction_id=R)
    s = await Y.call('settlement.get', settlement_id=g['settlement_id'])
    print('  info: premium of 333 bp on 1,234,567 (41,111.08) ->', s['buyer_premium'], '; settlement', {k: s[k] for k in s if k not in ('transfers',)})
    check('premium rounded down (to the fen 41,111 or the yuan 41,100)', s['buyer_premium'] in (41_111, 41_100), s['buyer_premium'])
    o0 = (await own.call('account.get'))['cash_available']
    await Y.call('settlement.pay', settlement_id=s['settlement_id'])
    y1 = await Y.call('account.get')
    check('Y escrow = price + premium', y1['cash_held'] == 1_234_567 + s['buyer_premium'], y1)
    await a.call('settlement.confirm', settlement_id=s['settlement_id'], registration_no='RR')
    got = (await own.call('account.get'))['cash_available'] - o0
    comm = 1_234_567 - got
    print('  info: commission of 777 bp on 1,234,567 (95,925.85) ->', comm)
    check('seller commission rounded down (95,925 fen or 95,900 yuan) -- or, if rounded up, flag', comm in (95_925, 95_900), comm)
    # settlement.fail after pay with a premium: buyer refunded price + premium, deposit included
    _, Q = await new_auction(ctx, own, start=1_000_000, inc=10_000, dep=100_000, buyer_premium_bp=1000)
    await X.call('auction.register', auction_id=Q); await X.call('auction.bid', auction_id=Q, amount=1_000_000)
    await ctx.adv(DAY)
    g = await a.call('auction.get', auction_id=Q)
    xb = await X.call('account.get')
    await X.call('settlement.pay', settlement_id=g['settlement_id'])
    await a.call('settlement.fail', settlement_id=g['settlement_id'], reason='registration refused')
    xa = await X.call('account.get')
    check('fail after pay: buyer gets price + premium back (deposit included)', xa['cash_held'] == 0 and xa['cash_available'] == xb['cash_available'] + xb['cash_held'], (xb, xa))
    # settlement.fail before pay: the deposit comes back (the buyer did nothing wrong)
    _, Q2 = await new_auction(ctx, own, start=1_000_000, inc=10_000, dep=100_000)
    await Y.call('auction.register', auction_id=Q2); await Y.call('auction.bid', auction_id=Q2, amount=1_000_000)
    await ctx.adv(DAY)
    g = await a.call('auction.get', auction_id=Q2)
    yb = await Y.call('account.get')
    e = await a.errm('settlement.fail', settlement_id=g['settlement_id'], reason='registry closed')
    ya = await Y.call('account.get')
    print('  info: settlement.fail before pay ->', e[0], yb, ya)
    if e[0] == 'OK':
        check('fail before pay: deposit released', ya['cash_held'] == yb['cash_held'] - 100_000 and ya['cash_available'] == yb['cash_available'] + 100_000, (yb, ya))
    acc = await accts(ctx, everyone)
    fees = 10_000 + s['buyer_premium'] + comm
    check('conserved: participants + fees = funded', total(acc) + fees == 2 * F, (total(acc), fees))
run('u06', sc)
