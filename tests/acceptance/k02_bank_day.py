# A bank asset manager's day with a technology manager's pledged patents, in exact fen (DOMAIN rules 13, 14;
# PROTOCOL pledge.register / pledge.consent / market.create / settlement.confirm; docs/protocol.md asset.get,
# pledge.register, settlement.confirm): claims = loan + interest + penalties + costs; three live pledges (bank A,
# bank B, bank A again) ranked in registration order; listing/licensing refused until EVERY pledgee consented;
# licence units sold by the licensor pay the pledges first, in registration order, each up to its claim, then the
# licensor; units resold by their buyers pay their sellers; a voluntary sale of a second pledged patent pays
# bank B's claim then bank A's then the owner; deposits and escrow in cash_held at each step; pledges released
# after the transfer; the banks' private balance pushes match account.get; who reads what (NOT_FOUND / FORBIDDEN).
from common import *

async def sc(ctx):
    a = ctx.adm
    A = await ctx.mk('bank'); Bk = await ctx.mk('bank'); C = await ctx.mk('bank'); O = await ctx.mk('operator')
    T = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=2_000_000); Y = await ctx.mk('individual', fund=2_000_000)
    for c, n in ((A, 'bankA'), (Bk, 'bankB'), (C, 'bankC'), (T, 'T'), (X, 'X'), (Y, 'Y')): c.name = n
    for c in (A, Bk, T): await c.call('subscribe', channels=['private'])
    await asyncio.sleep(0.2)
    for c in (A, Bk, T): c.pushes.clear()

    async def accounts(label, exp):
        await asyncio.sleep(0.15)
        for c, e in exp:
            got = norm(await c.call('account.get'))
            check(f'{label}: {c.name} account = {e}', got == e, got)
        for c in (A, Bk, T):
            bal = [p for p in c.pushes if p['channel'] == 'private' and p['type'] == 'balance']
            c.allp = getattr(c, 'allp', []) + c.pushes; c.pushes = []
            if bal:
                acc = norm(await c.call('account.get'))
                check(f'{label}: {c.name} latest private balance push = account.get', norm(bal[-1]['data']) == acc, (bal[-1]['data'], acc))
            c.hadbal = bool(bal)

    L = await new_asset(ctx, T, valuation=5_000_000)
    S = await new_asset(ctx, T, valuation=9_000_000)
    # --- pledges on L: A (110,000), B (50,000), A again (20,000)
    e = await T.errm('pledge.register', asset_id=L, pledgee=A.pid, loan_outstanding=100_000, registration_no='A-1')
    check('pledge.register by a trader -> FORBIDDEN', e[0] == 'FORBIDDEN', e)
    e = await A.errm('pledge.register', asset_id=L, pledgee=Bk.pid, loan_outstanding=100_000, registration_no='A-1')
    check("bank registering a pledge for another bank -> FORBIDDEN (docs pledge.register)", e[0] == 'FORBIDDEN', e)
    e = await A.errm('pledge.register', asset_id='NO-SUCH', pledgee=A.pid, loan_outstanding=100_000, registration_no='A-1')
    check('pledge.register on an unknown asset -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    e = await A.errm('pledge.register', asset_id=L, pledgee=A.pid, loan_outstanding=0, registration_no='A-1')
    check('loan_outstanding 0 -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    e = await A.errm('pledge.register', asset_id=L, pledgee=A.pid, loan_outstanding=100, registration_no='A-1', interest=-1)
    check('interest -1 -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    p1 = await A.call('pledge.register', asset_id=L, pledgee=A.pid, loan_outstanding=100_000, registration_no='A-1', interest=5_000, penalties=2_000, costs=3_000)
    check('pledge A-1: claim 100,000 + 5,000 + 2,000 + 3,000 = 110,000, not consented',
          (p1.get('claim'), p1.get('loan_outstanding'), p1.get('interest'), p1.get('penalties'), p1.get('costs'), p1.get('consented')) == (110_000, 100_000, 5_000, 2_000, 3_000, False), p1)
    p2 = await Bk.call('pledge.register', asset_id=L, pledgee=Bk.pid, loan_outstanding=50_000, registration_no='B-1')
    check('pledge B-1: claim 50,000 (interest, penalties, costs default 0)', (p2.get('claim'), p2.get('interest'), p2.get('penalties'), p2.get('costs')) == (50_000, 0, 0, 0), p2)
    p3 = await O.call('pledge.register', asset_id=L, pledgee=A.pid, loan_outstanding=15_000, registration_no='A-2', costs=5_000)
    check('pledge A-2 (registered by the operator): claim 20,000', p3.get('claim') == 20_000, p3)
    check('ranks 1, 2, 3 in registration order (docs)', [p.get('rank') for p in (p1, p2, p3)] == [1, 2, 3], [p.get('rank') for p in (p1, p2, p3)])
    for who, c in (('bank A', A), ('bank B', Bk), ('operator', O), ('owner', T)):
        g = await c.errm('asset.get', asset_id=L)
        ok = g[0] == 'OK' and [(x['pledgee'], x['claim'], x['registration_no']) for x in g[1].get('pledges', [])] == [(A.pid, 110_000, 'A-1'), (Bk.pid, 50_000, 'B-1'), (A.pid, 20_000, 'A-2')]
        check(f'asset.get by {who}: pledges A-1, B-1, A-2 in registration order', ok, g)
    g = await C.errm('asset.get', asset_id=L)
    check('asset.get by a bank with no pledge on it -> NOT_FOUND', g[0] == 'NOT_FOUND', g)
    await accounts('pledges registered', [(A, (0, 0, {})), (Bk, (0, 0, {})), (T, (0, 0, {'A:' + L: (1,), 'A:' + S: (1,)}))])

    # --- consent
    mk = dict(market_id='ML', asset_id=L, licence=LIC, tick=100, min_qty=10)
    e = await T.errm('market.create', **mk)
    check('licensing units of a pledged patent without consent -> INVALID_STATE (rule 13)', e[0] == 'INVALID_STATE', e)
    e = await C.errm('pledge.consent', asset_id=L)
    check('pledge.consent by a bank that is not a pledgee -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    e = await T.errm('pledge.consent', asset_id=L)
    check('pledge.consent by the owner -> FORBIDDEN', e[0] == 'FORBIDDEN', e)
    c1 = await A.call('pledge.consent', asset_id=L)
    check("bank A consent -> its first-ranked pledge, consented", (c1.get('registration_no'), c1.get('consented')) == ('A-1', True), c1)
    e = await T.errm('market.create', **mk)
    check('only bank A consented (B not): market.create -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    await Bk.call('pledge.consent', asset_id=L)
    g = await A.call('asset.get', asset_id=L)
    check('every pledge consented (A consented for both its pledges)', [x.get('consented') for x in g.get('pledges', [])] == [True, True, True], g.get('pledges'))
    await T.call('market.create', **mk)
    await T.call('units.issue', market_id='ML', qty=500)
    o = lambda **k: dict(dict(market_id='ML', type='limit', tif='gtc'), **k)
    await T.call('order.place', **o(side='sell', price=1_000, qty=100, client_order_id='t1'))
    await accounts('units offered', [(T, (0, 0, {'A:' + L: (1,), 'A:' + S: (1,), 'M:ML': (500, 100)}))])
    # X buys 60: 60,000 -> pledge A-1 (remaining 50,000)
    await X.call('order.place', **o(side='buy', price=1_000, qty=60, client_order_id='x1'))
    await accounts('X buys 60 @ 1,000', [(A, (60_000, 0, {})), (Bk, (0, 0, {})), (T, (0, 0, {'A:' + L: (1,), 'A:' + S: (1,), 'M:ML': (440, 40)})),
                                         (X, (1_940_000, 0, {'M:ML': (60, 0)}))])
    check('bank A got a balance push for the 60,000', A.hadbal, A.allp[-3:])
    # Y buys 100: 40 fill (40,000 -> A-1, remaining 10,000), 60 rest holding 60,000
    await Y.call('order.place', **o(side='buy', price=1_000, qty=100, client_order_id='y1'))
    await accounts('Y buys 100 @ 1,000 (40 filled)', [(A, (100_000, 0, {})), (Bk, (0, 0, {})), (T, (0, 0, {'A:' + L: (1,), 'A:' + S: (1,), 'M:ML': (400, 0)})),
                                                      (Y, (1_900_000, 60_000, {'M:ML': (40, 0)}))])
    # T sells 100 more: 60 fill at 1,000 = 60,000: A-1 10,000 (full), B-1 50,000 (full); 40 rest
    await T.call('order.place', **o(side='sell', price=1_000, qty=100, client_order_id='t2'))
    await accounts('T sells into Y: A-1 10,000, B-1 50,000', [(A, (110_000, 0, {})), (Bk, (50_000, 0, {})),
                   (T, (0, 0, {'A:' + L: (1,), 'A:' + S: (1,), 'M:ML': (340, 40)})), (Y, (1_900_000, 0, {'M:ML': (100, 0)}))])
    check('bank B got a balance push for the 50,000', Bk.hadbal, Bk.allp[-3:])
    # X buys the 40 left: 40,000 -> A-2 20,000 (full), T 20,000
    await X.call('order.place', **o(side='buy', price=1_000, qty=40, client_order_id='x2'))
    await accounts('X buys 40: A-2 20,000, licensor 20,000', [(A, (130_000, 0, {})), (Bk, (50_000, 0, {})),
                   (T, (20_000, 0, {'A:' + L: (1,), 'A:' + S: (1,), 'M:ML': (300, 0)})), (X, (1_900_000, 0, {'M:ML': (100, 0)}))])
    g = await A.call('asset.get', asset_id=L)
    check("docs 'paid' per pledge: 110,000, 50,000, 20,000", [x.get('paid') for x in g.get('pledges', [])] == [110_000, 50_000, 20_000], g.get('pledges'))
    # X resells 50 units to Y at 1,200: pays X, not the pledgees
    await X.call('order.place', **o(side='sell', price=1_200, qty=50, client_order_id='x3'))
    await Y.call('order.place', **o(side='buy', price=1_200, qty=50, client_order_id='y2'))
    await accounts('X resells 50 @ 1,200 to Y', [(A, (130_000, 0, {})), (Bk, (50_000, 0, {})), (X, (1_960_000, 0, {'M:ML': (50, 0)})),
                                                  (Y, (1_840_000, 0, {'M:ML': (150, 0)}))])
    # claims met: the licensor keeps its next sale
    await T.call('order.place', **o(side='sell', price=1_000, qty=10, client_order_id='t3'))
    await Y.call('order.place', **o(side='buy', price=1_000, qty=10, client_order_id='y3'))
    await accounts('claims met: licensor keeps 10,000', [(A, (130_000, 0, {})), (Bk, (50_000, 0, {})),
                   (T, (30_000, 0, {'A:' + L: (1,), 'A:' + S: (1,), 'M:ML': (290, 0)})), (Y, (1_830_000, 0, {'M:ML': (160, 0)}))])

    # --- a voluntary sale of S: B registered first (claim 300,000), then A (200,000)
    await Bk.call('pledge.register', asset_id=S, pledgee=Bk.pid, loan_outstanding=250_000, registration_no='B-S', interest=30_000, penalties=10_000, costs=10_000)
    await A.call('pledge.register', asset_id=S, pledgee=A.pid, loan_outstanding=200_000, registration_no='A-S')
    now = await ctx.now()
    lst = dict(lot=[S], purpose='transfer', format='english', start_price=1_000_000, increment=10_000, deposit=100_000, opens_at=now, closes_at=now + DAY)
    e = await T.errm('auction.create', **lst)
    check('listing a pledged patent without consent -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    await A.call('pledge.consent', asset_id=S)
    e = await T.errm('auction.create', **lst)
    check('listing with the junior pledgee consenting only -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    await Bk.call('pledge.consent', asset_id=S)
    au = (await T.call('auction.create', **lst))['auction_id']
    await X.call('auction.register', auction_id=au); await Y.call('auction.register', auction_id=au)
    await accounts('deposits held', [(X, (1_860_000, 100_000, {'M:ML': (50, 0)})), (Y, (1_730_000, 100_000, {'M:ML': (160, 0)}))])
    await X.call('auction.bid', auction_id=au, amount=1_000_000)
    await Y.call('auction.bid', auction_id=au, amount=1_010_000)
    await X.call('auction.bid', auction_id=au, amount=1_020_000)
    await ctx.adv(DAY)
    g = await a.call('auction.get', auction_id=au)
    sid = g.get('settlement_id')
    check('sold at 1,020,000', (g['state'], g['price']) == ('sold', 1_020_000), g)
    await accounts('closed: loser released, winner deposit held', [(X, (1_860_000, 100_000, {'M:ML': (50, 0)})), (Y, (1_830_000, 0, {'M:ML': (160, 0)}))])
    for who, c, exp in (('buyer', X, 'OK'), ('seller', T, 'OK'), ('operator', O, 'OK'), ('losing bidder', Y, 'NOT_FOUND'), ('unrelated bank', C, 'NOT_FOUND')):
        e = await c.errm('settlement.get', settlement_id=sid)
        check(f'settlement.get by {who} -> {exp}', e[0] == exp, e)
    e = await Y.errm('settlement.pay', settlement_id=sid)
    check('settlement.pay by a non-buyer trader -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    await X.call('settlement.pay', settlement_id=sid)
    await accounts('paid: 920,000 into escrow', [(X, (940_000, 1_020_000, {'M:ML': (50, 0)})), (T, (30_000, 0, {'A:' + L: (1,), 'A:' + S: (1,), 'M:ML': (290, 0)}))])
    await a.call('settlement.confirm', settlement_id=sid, registration_no='CNIPA-K02')
    await accounts('confirmed: B 300,000, A 200,000, T 520,000', [(A, (330_000, 0, {})), (Bk, (350_000, 0, {})),
                   (T, (550_000, 0, {'A:' + L: (1,), 'M:ML': (290, 0)})), (X, (940_000, 0, {'M:ML': (50, 0), 'A:' + S: (1,)}))])
    g = await O.call('asset.get', asset_id=S)
    check('after the transfer: owner X, no live pledge', g.get('owner') == X.pid and not g.get('pledges') and g.get('pledge') is None, g)
    e = await Bk.errm('asset.get', asset_id=S)
    check('asset.get by the released pledgee -> NOT_FOUND (docs asset.get: live pledgees only)', e[0] == 'NOT_FOUND', e)
    tot = 0
    for c in (A, Bk, T, X, Y):
        n = norm(await c.call('account.get')); tot += n[0] + n[1]
    check('cash conserved: 4,000,000 funded', tot == 4_000_000, tot)
    for c in (A, Bk, T):
        c.allp += c.pushes
        s = [p['seq'] for p in c.allp if p['channel'] == 'private']
        check(f'{c.name} private seq gap-free', s == list(range(s[0], s[0] + len(s))) if s else True, s)
run('k02', sc)
