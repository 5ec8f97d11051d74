# Audit b (sale effects): purpose `transfer` sold in every format (english with a proxy bidder, dutch, sealed_first,
# sealed_second, fixed_price with one buyer), each with a buyer's premium (500 bp) and a seller's commission (300 bp).
# After the close, after settlement.pay and after settlement.confirm: the asset's owner (asset.get, positions
# {asset_id, units: 1}), seller / buyer / loser cash in fen, the settlement's fields, the auction channel's close push.
# PROTOCOL: "the winner's deposit counts toward the price; settlement.pay moves price + buyer's premium - deposit from
# cash_available into escrow"; "Titles appear in positions as {asset_id, units: 1}"; DOMAIN 8: "Title passes on the
# sale ruling / registration of the assignment, not on payment: the engine keeps money in escrow until the operator
# confirms registration"; "auction.create payment deadline: 10 days after the close unless payment_ms is given";
# "Sealed second-price: the winner pays max(second-highest bid, reserve, start_price)"; Dutch price(t) formula;
# fixed_price: "at closes_at a single registered buyer buys at start_price". After the sale the old owner's listing of
# the asset is NOT_FOUND ("another trader's asset"), the new owner's is accepted.
from common import *

F = 20_000_000
START, INC, DEP = 1_000_000, 10_000, 100_000
BP, CP = 500, 300

async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=F); Y = await ctx.mk('enterprise', fund=F, region='deyang')
    W = await ctx.mk('individual')   # watcher on the auction channel
    people = [own, X, Y]

    async def listing(fmt, close_in=DAY, **kw):
        asset = await new_asset(ctx, own)
        now = await ctx.now()
        r = await own.call('auction.create', lot=[asset], purpose='transfer', format=fmt, start_price=START, increment=INC,
                           deposit=DEP, opens_at=now, closes_at=now + close_in, buyer_premium_bp=BP, seller_commission_bp=CP, **kw)
        A = r['auction_id']
        await W.call('subscribe', channels=[f'auction.{A}']); await W.drain(0.15)
        return asset, A

    async def settle(tag, asset, A, winner, loser, exp_price, closed_at=None):
        g = await a.call('auction.get', auction_id=A)
        check(f'{tag}: sold at {exp_price:,}', g['state'] == 'sold' and g['price'] == exp_price, (g['state'], g['price']))
        pushes = [p for p in await W.drain(0.2) if p['channel'] == f'auction.{A}']
        cl = [p for p in pushes if p['data'].get('state') == 'sold']
        check(f'{tag}: auction channel pushed the close (state sold, price {exp_price:,}, winner)',
              len(cl) == 1 and cl[0]['data'].get('price', exp_price) == exp_price and cl[0]['data'].get('winner') == g['winner'], pushes)
        seqs = [p['seq'] for p in pushes]
        check(f'{tag}: auction channel seq gap-free', seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True, seqs)
        sid = g['settlement_id']
        s = await winner.call('settlement.get', settlement_id=sid)
        prem = yuan_floor(exp_price * BP // 10000)
        print(f'  info: {tag}: auction closes_at {g["closes_at"]}, settlement due_at {s["due_at"]} (due - closes_at = {(s["due_at"] - g["closes_at"]) / DAY} d)')
        check(f'{tag}: settlement awaiting_payment, buyer = winner, price, premium 5% = {prem:,}, due_at = close + 10 d',
              (s['state'], s['buyer'], s['price'], s['buyer_premium'], s['due_at']) == ('awaiting_payment', winner.pid, exp_price, prem, (closed_at or g['closes_at']) + 10 * DAY), s)
        wa0 = await winner.call('account.get'); la = await loser.call('account.get'); oa0 = await own.call('account.get')
        check(f'{tag}: at close the winner holds its deposit only; the loser is released',
              (wa0['cash_held'], la['cash_held']) == (DEP, 0), (wa0, la))
        ga = await a.call('asset.get', asset_id=asset)
        check(f'{tag}: after the hammer the seller still owns the asset (asset.get owner, seller position)',
              ga.get('owner') == own.pid and pos(oa0, asset) is not None and pos(wa0, asset) is None, (ga.get('owner'), oa0, wa0))
        p = await winner.call('settlement.pay', settlement_id=sid)
        wa1 = await winner.call('account.get')
        check(f'{tag}: pay -> paid; price + premium - deposit = {exp_price + prem - DEP:,} moved from available; held = price + premium',
              p['state'] == 'paid' and wa1['cash_available'] == wa0['cash_available'] - (exp_price + prem - DEP) and wa1['cash_held'] == exp_price + prem,
              (p['state'], wa0, wa1))
        ga = await a.call('asset.get', asset_id=asset); oa1 = await own.call('account.get')
        check(f'{tag}: paid but not confirmed: title still with the seller, seller not yet paid (rule 8)',
              ga.get('owner') == own.pid and pos(oa1, asset) is not None and pos(wa1, asset) is None and oa1['cash_available'] == oa0['cash_available'], (ga.get('owner'), oa1, wa1))
        c = await a.call('settlement.confirm', settlement_id=sid, registration_no='REG-' + A)
        wa2 = await winner.call('account.get'); oa2 = await own.call('account.get')
        comm = yuan_floor(exp_price * CP // 10000)   # "Amounts derived from percentages ... rounded down to a whole yuan"
        check(f'{tag}: confirm -> confirmed', c['state'] == 'confirmed', c)
        check(f'{tag}: buyer: escrow emptied, title {{asset_id, units: 1}}',
              wa2['cash_held'] == 0 and wa2['cash_available'] == wa1['cash_available'] and (pos(wa2, asset) or {}).get('units') == 1, wa2)
        check(f'{tag}: seller: title gone, paid price - 3% commission = {exp_price - comm:,}',
              pos(oa2, asset) is None and oa2['cash_available'] - oa1['cash_available'] == exp_price - comm, (oa1, oa2))
        ga = await a.call('asset.get', asset_id=asset)
        check(f'{tag}: asset.get owner = buyer after confirm', ga.get('owner') == winner.pid, ga)
        check(f'{tag}: buyer paid in all price + premium', F - (wa2['cash_available'] + wa2['cash_held']) - winner.spent == exp_price + prem,
              (wa2, winner.spent))
        winner.spent += exp_price + prem
        return sid

    X.spent = 0; Y.spent = 0
    # 1. english with a proxy: X proxy up to 1,500,000; Y bids 1,200,000; close
    asset, A = await listing('english')
    cx = (await X.call('auction.register', auction_id=A))['bidder_code']; await Y.call('auction.register', auction_id=A)
    await X.call('auction.proxy', auction_id=A, max_amount=1_500_000)
    await Y.call('auction.bid', auction_id=A, amount=1_200_000)
    g = await a.call('auction.get', auction_id=A)
    check('english: the proxy (X) leads after Y bids 1,200,000, at 1,210,000 (one increment above)', g['leader'] == cx and g['price'] == 1_210_000, g)
    await ctx.adv_to(g['closes_at'])
    await settle('english+proxy', asset, A, X, Y, g['price'])
    # 2. dutch: 1,000,000 - 50,000 per 10 min, floor 600,000; Y accepts at 25 min -> 900,000
    asset, A = await listing('dutch', dutch={'decrement': 50_000, 'interval_ms': 10 * MIN, 'floor': 600_000})
    t0 = await ctx.now()
    await X.call('auction.register', auction_id=A); await Y.call('auction.register', auction_id=A)
    await ctx.adv_to(t0 + 25 * MIN)
    r = await Y.call('auction.accept', auction_id=A)
    check('dutch: accept at 25 min -> 900,000', r['price'] == 900_000, r)
    g = await a.call('auction.get', auction_id=A)
    print('  info: dutch after accept: closes_at - accept ts =', (g['closes_at'] - r['ts']) / MIN, 'min')
    await settle('dutch', asset, A, Y, X, 900_000, closed_at=r['ts'])   # sold at the accept: payment due 10 d after it
    # 3. sealed_first: X 1,234,000, Y 1,100,000 -> X pays its bid
    asset, A = await listing('sealed_first', close_in=HOUR)
    for c in (X, Y): await c.call('auction.register', auction_id=A)
    await X.call('auction.bid', auction_id=A, amount=1_234_000); await Y.call('auction.bid', auction_id=A, amount=1_100_000)
    await ctx.adv(HOUR)
    await settle('sealed_first', asset, A, X, Y, 1_234_000)
    # 4. sealed_second: Y 1,400,000, X 1,150,000, reserve 1,050,000 -> Y pays 1,150,000
    asset, A = await listing('sealed_second', close_in=HOUR, reserve=1_050_000)
    for c in (X, Y): await c.call('auction.register', auction_id=A)
    await Y.call('auction.bid', auction_id=A, amount=1_400_000); await X.call('auction.bid', auction_id=A, amount=1_150_000)
    await ctx.adv(HOUR)
    await settle('sealed_second', asset, A, Y, X, 1_150_000)
    # 5. fixed_price, one registered buyer: buys at start_price at closes_at
    asset, A = await listing('fixed_price', close_in=5 * DAY)
    await X.call('auction.register', auction_id=A)
    await ctx.adv(5 * DAY)
    await settle('fixed_price', asset, A, X, Y, START)
    # the old owner may no longer list it; the new owner may
    now = await ctx.now()
    lst = dict(lot=[asset], purpose='transfer', format='english', start_price=START, increment=INC, deposit=DEP, opens_at=now, closes_at=now + DAY)
    e = await own.errm('auction.create', **lst)
    check("old owner lists the sold asset -> NOT_FOUND (another trader's asset)", e[0] == 'NOT_FOUND', e)
    e = await X.errm('auction.create', **lst)
    check('new owner lists it -> accepted', e[0] == 'OK', e)
    # money: everything funded is somewhere; the seller got the five prices less 3%
    oa = await own.call('account.get')
    total = 1_210_000 + 900_000 + 1_234_000 + 1_150_000 + START
    check('seller total = sum of prices - 3% each', oa['cash_available'] == sum(p - yuan_floor(p * CP // 10000) for p in (1_210_000, 900_000, 1_234_000, 1_150_000, START)), oa)
run('b01', sc)
