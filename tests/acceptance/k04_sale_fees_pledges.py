# A technology manager sells a pledged patent whose licence units already paid part of the senior claim, with a
# buyer's premium and a seller's commission, while its buyer holds cash for an order on another market.
# PROTOCOL "Money flows visible in account.get" (deposit held, counts toward the price; settlement.pay moves
# price + premium - deposit into escrow), rule 13/14 (pledgees first, registration order, each up to what remains of
# its claim; surplus to the pledgor; docs settlement.confirm: "a voluntary sale of a pledged asset likewise pays its
# live pledges first ... each up to what remains of its claim"; proceeds net of the seller's commission, docs
# "Payouts with several pledgees"), holds across markets count against cash_available (INSUFFICIENT_FUNDS), and
# each participant's private channel: deposit pushes, latest balance push = account.get after every step.
from common import *

async def sc(ctx):
    a = ctx.adm
    A = await ctx.mk('bank'); Bk = await ctx.mk('bank')
    T = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=2_000_000); Y = await ctx.mk('individual', fund=1_000_000)
    for c, n in ((A, 'bankA'), (Bk, 'bankB'), (T, 'T'), (X, 'X'), (Y, 'Y')): c.name = n
    for c in (A, Bk, T, X, Y): await c.call('subscribe', channels=['private'])
    await asyncio.sleep(0.2)
    for c in (A, Bk, T, X, Y): c.allp = list(c.pushes); c.pushes = []

    async def accounts(label, exp):
        await asyncio.sleep(0.15)
        for c, e in exp:
            got = norm(await c.call('account.get'))
            check(f'{label}: {c.name} account = {e}', got == e, got)
        for c in (A, Bk, T, X, Y):
            bal = [p for p in c.pushes if p['channel'] == 'private' and p['type'] == 'balance']
            c.allp += c.pushes; c.last = c.pushes; c.pushes = []
            if bal:
                acc = norm(await c.call('account.get'))
                check(f'{label}: {c.name} latest private balance push = account.get', norm(bal[-1]['data']) == acc, (bal[-1]['data'], acc))

    V = await new_asset(ctx, T, valuation=3_000_000); W = await new_asset(ctx, T, valuation=1_000_000)
    await A.call('pledge.register', asset_id=V, pledgee=A.pid, loan_outstanding=450_000, registration_no='A-V', interest=50_000)
    p = await Bk.call('pledge.register', asset_id=V, pledgee=Bk.pid, loan_outstanding=380_000, registration_no='B-V', penalties=20_000)
    check('B-V claim 380,000 + 20,000 = 400,000', p.get('claim') == 400_000, p)
    await A.call('pledge.consent', asset_id=V); await Bk.call('pledge.consent', asset_id=V)
    for m, asset in (('MV', V), ('MW', W)):
        await T.call('market.create', market_id=m, asset_id=asset, licence=LIC, tick=100, min_qty=10)
    await T.call('units.issue', market_id='MV', qty=300); await T.call('units.issue', market_id='MW', qty=100)
    o = lambda **k: dict(dict(type='limit', tif='gtc'), **k)
    await T.call('order.place', **o(market_id='MV', side='sell', price=1_500, qty=200, client_order_id='t1'))
    await T.call('order.place', **o(market_id='MW', side='sell', price=2_000, qty=100, client_order_id='t2'))
    await X.call('order.place', **o(market_id='MV', side='buy', price=1_500, qty=200, client_order_id='x1'))
    TP = {'A:' + V: (1,), 'A:' + W: (1,), 'M:MV': (100, 0), 'M:MW': (100, 100)}
    await accounts('units 200 @ 1,500 = 300,000 to bank A', [(A, (300_000, 0, {})), (Bk, (0, 0, {})), (T, (0, 0, TP)), (X, (1_700_000, 0, {'M:MV': (200, 0)}))])
    await X.call('order.place', **o(market_id='MW', side='buy', price=1_900, qty=100, client_order_id='x2'))
    await accounts('X bid 100 @ 1,900 on MW rests', [(X, (1_510_000, 190_000, {'M:MV': (200, 0)}))])
    e = await X.errm('order.place', **o(market_id='MV', side='buy', price=1_600, qty=1000, client_order_id='x3'))
    check('buy 1,000 @ 1,600 = 1,600,000 on MV with 1,510,000 available (190,000 held on MW) -> INSUFFICIENT_FUNDS', e[0] == 'INSUFFICIENT_FUNDS', e)

    now = await ctx.now()
    au = (await T.call('auction.create', lot=[V], purpose='transfer', format='english', start_price=1_000_000, increment=20_000, deposit=100_000,
                       opens_at=now, closes_at=now + DAY, buyer_premium_bp=500, seller_commission_bp=1000))['auction_id']
    await X.call('auction.register', auction_id=au); await Y.call('auction.register', auction_id=au)
    await accounts('deposits held', [(X, (1_410_000, 290_000, {'M:MV': (200, 0)})), (Y, (900_000, 100_000, {}))])
    for c in (X, Y):
        d = [p['data'] for p in c.last if p['type'] == 'deposit']
        check(f'{c.name} private: deposit push held 100,000', any(x.get('auction_id') == au and x.get('amount') == 100_000 and x.get('state') == 'held' for x in d), d)
    await X.call('auction.bid', auction_id=au, amount=1_000_000)
    await Y.call('auction.bid', auction_id=au, amount=1_020_000)
    await ctx.adv(DAY)
    g = await a.call('auction.get', auction_id=au); sid = g['settlement_id']
    check('sold to Y at 1,020,000', (g['state'], g['price']) == ('sold', 1_020_000), g)
    await accounts('closed: X deposit released, Y deposit kept', [(X, (1_510_000, 190_000, {'M:MV': (200, 0)})), (Y, (900_000, 100_000, {}))])
    d = [p['data'] for p in X.last if p['type'] == 'deposit']
    check('X private: deposit push released', any(x.get('auction_id') == au and x.get('state') == 'released' for x in d), d)
    s = await Y.call('settlement.get', settlement_id=sid)
    check('settlement: price 1,020,000, buyer_premium 5% = 51,000, buyer Y', (s.get('price'), s.get('buyer_premium'), s.get('buyer'), s.get('state')) == (1_020_000, 51_000, Y.pid, 'awaiting_payment'), s)
    e = await Y.errm('settlement.pay', settlement_id=sid)
    check('pay 1,020,000 + 51,000 - 100,000 = 971,000 with 900,000 available -> INSUFFICIENT_FUNDS', e[0] == 'INSUFFICIENT_FUNDS', e)
    await a.call('account.fund', participant_id=Y.pid, amount=100_000)
    await Y.call('settlement.pay', settlement_id=sid)
    await accounts('paid: 971,000 into escrow', [(Y, (29_000, 1_071_000, {}))])
    await a.call('settlement.confirm', settlement_id=sid, registration_no='CNIPA-K04')
    # net proceeds 1,020,000 - 10% 102,000 = 918,000: A's remaining 200,000, B 400,000, T 318,000
    await accounts('confirmed', [(A, (500_000, 0, {})), (Bk, (400_000, 0, {})), (T, (318_000, 0, {'A:' + W: (1,), 'M:MV': (100, 0), 'M:MW': (100, 100)})),
                                 (Y, (29_000, 0, {'A:' + V: (1,)})), (X, (1_510_000, 190_000, {'M:MV': (200, 0)}))])
    for c in (A, Bk, T, X, Y):
        s = [p['seq'] for p in c.allp if p['channel'] == 'private']
        check(f'{c.name} private seq gap-free', s == list(range(s[0], s[0] + len(s))) if s else True, s)
run('k04', sc)
