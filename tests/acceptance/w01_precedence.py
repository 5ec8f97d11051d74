# PROTOCOL.md "Edges and precedence": "Checks run in this order, and the first that fails gives the code: ... the method
# exists and its params are well formed (BAD_REQUEST ...); the role may use the method (FORBIDDEN); the objects named exist
# and are the caller's to touch (NOT_FOUND); then the rules". Applied to many methods with TWO failing checks at once:
# malformed + wrong role -> BAD_REQUEST; wrong role + object that does not exist -> FORBIDDEN; right role + missing (or
# another's) object + a rule that would fail -> NOT_FOUND. "A rejected request changes nothing."
from common import *
async def sc(ctx):
    a = ctx.adm
    op = await ctx.mk('operator'); bank = await ctx.mk('bank'); bank2 = await ctx.mk('bank')
    own = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('individual', fund=50_000_000)
    poor = await ctx.mk('individual')          # no cash at all
    bs = await ctx.mk('backstop', fund=10_000_000); rf = await ctx.mk('risk_fund')
    aidc, cid, rnd1 = await new_case(ctx, bank, own, 10_000_000)
    # a paid settlement of X (so settlement.pay by X would be INVALID_STATE, by Y NOT_FOUND)
    _, A = await new_auction(ctx, own)
    await X.call('auction.register', auction_id=A); await X.call('auction.bid', auction_id=A, amount=1_000_000)
    await ctx.adv(DAY)
    sid = (await a.call('auction.get', auction_id=A))['settlement_id']
    await X.call('settlement.pay', settlement_id=sid)
    # a market with a filled order of X (cancel by X would be INVALID_STATE)
    mass = await new_asset(ctx, own)
    await own.call('market.create', market_id='M1', asset_id=mass, licence=LIC, tick=10, min_qty=1)
    await own.call('units.issue', market_id='M1', qty=100)
    await own.call('order.place', market_id='M1', side='sell', type='limit', price=100, qty=5, tif='gtc', client_order_id='s1')
    fo = await X.call('order.place', market_id='M1', side='buy', type='limit', price=100, qty=5, tif='gtc', client_order_id='f1')
    check('setup: X order filled', fo['status'] == 'filled', fo)
    _, E = await new_auction(ctx, own)   # open English, no bids
    now = await ctx.now()
    # 1. malformed + wrong role -> BAD_REQUEST
    bad_role = [
        (bank, 'auction.bid', dict(auction_id=E, amount='x')),
        (rf, 'auction.register', dict(auction_id=E, extra=1)),
        (X, 'settlement.confirm', dict(settlement_id=sid)),                     # registration_no missing
        (X, 'time.advance', dict(ms=0)),
        (op, 'time.advance', dict(ms=-5)),
        (bank, 'order.place', dict(market_id='M1', side='buy', type='market', price=100, qty=1, tif='ioc', client_order_id='b1')),
        (rf, 'backstop.offer', dict(price_bp='x', max_amount=1)),
        (X, 'participant.create', dict(name='n', kind='pirate', region='chengdu', whitelisted=True)),
        (X, 'participant.create', dict(name='n', kind=5, region='chengdu', whitelisted=True)),
        (bank, 'order.place', dict(market_id='M1', side='buy', type='limit', price=100, qty='x', tif='gtc', client_order_id='b2')),
        (bank, 'order.place', dict(market_id='M1', side='sideways', type='limit', price=100, qty=1, tif='gtc', client_order_id='b3')),
        (bank, 'auction.bid', dict(auction_id=E, amount=0)),
        (bank, 'auction.bid', dict(auction_id=E, amount=-5)),
        (rf, 'backstop.offer', dict(price_bp=0, max_amount=1)),
        (bank, 'order.place', dict(market_id='M1', side='buy', type='limit', price=100, qty=1, tif='day', client_order_id='b4')),
        (X, 'participant.create', dict(name='n', kind='enterprise', region='Chengdu!', whitelisted=True)),
        (bank, 'asset.register', dict(asset_id='Q1', kind='patent', title='t', owner=own.pid, region='chengdu', industry='other',
                                      valuation=100, expires_at=now + DAY)),
        (bank, 'asset.register', dict(asset_id='Q2', kind='trademark', title='t', owner=own.pid, region='chengdu', industry='mining',
                                      valuation=100, expires_at=now + DAY)),
        (X, 'disposal.open', dict(assets=[aidc], pledgee=bank.pid, pledgor=own.pid, valuation=1_000_000, plan={'regime': 'bogus'})),
        (X, 'disposal.open', dict(assets=[aidc], pledgee=bank.pid, pledgor=own.pid, valuation=1_000_000, plan={'start_bp': 6999})),
        (bank, 'auction.create', dict(lot=['NOPE'], purpose='sale', format='english', start_price=1, increment=1, deposit=0, opens_at=now, closes_at=now + DAY)),
        (bank, 'auction.bid', dict(auction_id=E, amount=1_000_000, request_id='r' * 65)),
        (bank, 'auction.bid', dict(auction_id=E, amount=1_000_000, request_id=5)),
        (X, 'disposal.open', dict(assets=[aidc], pledgee=bank.pid, pledgor=own.pid, valuation=1_000_000, plan={'nonsense': 1})),
        (bank, 'market.create', dict(market_id='MQ', asset_id='NOPE', licence=dict(LIC, kind='bogus'), tick=10, min_qty=1)),
        (rf, 'market.create', dict(market_id='MQ', asset_id='NOPE', licence=dict(LIC, extra=1), tick=10, min_qty=1)),
        (bs, 'auction.create', dict(lot=['NOPE'], purpose='transfer', format='japanese', start_price=1, increment=1, deposit=0, opens_at=now, closes_at=now + DAY)),
        (bs, 'disposal.get', dict(case_id=5)),
        (X, 'report.disposals', dict(region=5)),
        (bank, 'auction.cancel', dict(auction_id=E)),                           # reason missing
        (rf, 'units.issue', dict(market_id='M1', qty='x')),
        (X, 'account.fund', dict(participant_id=X.pid, amount=1.5)),
    ]
    for c, m, p in bad_role:
        e = await c.errm(m, **p)
        check(f'{m} malformed ({json.dumps(p)[:90]}) by a role that may not use it -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    # 1b. right role, malformed params naming a missing object -> BAD_REQUEST (well-formed before NOT_FOUND)
    bad_nf = [
        (X, 'order.place', dict(market_id='NOPE-M', side='sideways', type='limit', price=100, qty=1, tif='gtc', client_order_id='c1')),
        (X, 'order.place', dict(market_id='NOPE-M', side='buy', type='limit', price=100, qty=1, tif='day', client_order_id='c2')),
        (X, 'order.place', dict(market_id='NOPE-M', side='buy', type='market', price=100, qty=1, tif='ioc', client_order_id='c3')),
        (own, 'market.create', dict(market_id='MQ2', asset_id='NOPE-AS', licence=dict(LIC, kind='bogus'), tick=10, min_qty=1)),
        (a, 'auction.create', dict(lot=['NOPE-AS'], purpose='transfer', format='japanese', start_price=1, increment=1, deposit=0,
                                   opens_at=now, closes_at=now + DAY)),
        (bank, 'disposal.open', dict(assets=['NOPE-AS'], pledgee=bank.pid, pledgor=own.pid, valuation=1_000_000, plan={'regime': 'bogus'})),
        (a, 'asset.register', dict(asset_id='Q3', kind='patent', title='t', owner='NOPE-P', region='chengdu', industry='other',
                                   valuation=100, expires_at=now + DAY)),
    ]
    for c, m, p in bad_nf:
        e = await c.errm(m, **p)
        check(f'{m} malformed ({json.dumps(p)[:90]}) naming a missing object -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    # 2. wrong role + object that does not exist -> FORBIDDEN
    forb = [
        (bank, 'auction.bid', dict(auction_id='NOPE-A', amount=1_000_000)),
        (rf, 'auction.register', dict(auction_id='NOPE-A')),
        (op, 'auction.accept', dict(auction_id='NOPE-A')),
        (bank, 'auction.proxy', dict(auction_id='NOPE-A', max_amount=1_000_000)),
        (X, 'auction.cancel', dict(auction_id='NOPE-A', reason='r')),
        (X, 'settlement.confirm', dict(settlement_id='NOPE-S', registration_no='R')),
        (bank, 'settlement.fail', dict(settlement_id='NOPE-S', reason='r')),
        (op, 'settlement.pay', dict(settlement_id='NOPE-S')),
        (X, 'disposal.get', dict(case_id='NOPE-C')),
        (bs, 'pledge.consent', dict(asset_id='NOPE-AS')),
        (X, 'pledge.register', dict(asset_id='NOPE-AS', pledgee=bank.pid, loan_outstanding=1, registration_no='R9')),
        (X, 'disposal.open', dict(assets=['NOPE-AS'], pledgee=bank.pid, pledgor=own.pid, valuation=1_000_000)),
        (bank, 'order.cancel', dict(market_id='NOPE-M', order_id='NOPE-O')),
        (op, 'order.place', dict(market_id='NOPE-M', side='buy', type='limit', price=100, qty=1, tif='gtc', client_order_id='o1')),
        (rf, 'market.create', dict(market_id='M9', asset_id='NOPE-AS', licence=LIC, tick=10, min_qty=1)),
        (bs, 'units.issue', dict(market_id='NOPE-M', qty=1)),
        (X, 'account.fund', dict(participant_id='NOPE-P', amount=1)),
        (bank, 'auction.create', dict(lot=['NOPE-AS'], purpose='transfer', format='english', start_price=1_000_000, increment=10_000,
                                      deposit=100_000, opens_at=now, closes_at=now + DAY)),
        (X, 'backstop.offer', dict(price_bp=2000, max_amount=1_000_000, regions=['chengdu'])),
    ]
    for c, m, p in forb:
        e = await c.errm(m, **p)
        check(f'{m} by a role that may not use it, naming a missing object -> FORBIDDEN', e[0] == 'FORBIDDEN', e)
    # 3. right role + missing object + a rule that would fail anyway -> NOT_FOUND
    nf = [
        (poor, 'auction.register', dict(auction_id='NOPE-A')),                  # would be INSUFFICIENT_FUNDS
        (poor, 'auction.bid', dict(auction_id='NOPE-A', amount=1_000_001)),     # unregistered, off grid
        (X, 'auction.accept', dict(auction_id='NOPE-A')),
        (X, 'auction.proxy', dict(auction_id='NOPE-A', max_amount=1)),
        (op, 'auction.cancel', dict(auction_id='NOPE-A', reason='r')),
        (op, 'settlement.confirm', dict(settlement_id='NOPE-S', registration_no='R')),
        (op, 'settlement.fail', dict(settlement_id='NOPE-S', reason='r')),
        (poor, 'settlement.pay', dict(settlement_id='NOPE-S')),
        (poor, 'order.place', dict(market_id='NOPE-M', side='buy', type='limit', price=105, qty=1, tif='gtc', client_order_id='p1')),
        (X, 'order.cancel', dict(market_id='M1', order_id='NOPE-O')),
        (X, 'order.cancel', dict(market_id='NOPE-M', client_order_id='f1')),
        (own, 'units.issue', dict(market_id='NOPE-M', qty=1)),
        (bank, 'pledge.consent', dict(asset_id='NOPE-AS')),
        (bank, 'disposal.get', dict(case_id='NOPE-C')),
        (op, 'account.get', dict(participant_id='NOPE-P')),
        (a, 'account.fund', dict(participant_id='NOPE-P', amount=1)),
        (X, 'auction.get', dict(auction_id='NOPE-A')),
        (own, 'market.create', dict(market_id='M1', asset_id='NOPE-AS', licence=LIC, tick=10, min_qty=1)),  # market id taken too
        (bank, 'pledge.register', dict(asset_id='NOPE-AS', pledgee=bank.pid, loan_outstanding=1, registration_no='R8')),
    ]
    for c, m, p in nf:
        e = await c.errm(m, **p)
        check(f'{m} naming a missing object (a rule would also fail) -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    # 4. another's object where the role could use the method on its own, and a rule would fail -> NOT_FOUND
    e = await Y.errm('settlement.pay', settlement_id=sid)               # already paid: INVALID_STATE for its buyer
    check("settlement.pay of another's already paid settlement -> NOT_FOUND (not INVALID_STATE)", e[0] == 'NOT_FOUND', e)
    e = await X.errm('settlement.pay', settlement_id=sid)
    check('settlement.pay of own paid settlement -> INVALID_STATE (the rule, so the NOT_FOUND above could differ)', e[0] == 'INVALID_STATE', e)
    e = await Y.errm('order.cancel', market_id='M1', order_id=fo['order_id'])
    check("order.cancel of another's filled order -> NOT_FOUND (not INVALID_STATE)", e[0] == 'NOT_FOUND', e)
    e = await X.errm('order.cancel', market_id='M1', order_id=fo['order_id'])
    check('order.cancel of own filled order -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    pa = await new_asset(ctx, own)
    await bank.call('pledge.register', asset_id=pa, pledgee=bank.pid, loan_outstanding=1_000_000, registration_no='R-pa')
    await bank.call('pledge.consent', asset_id=pa)
    e = await bank2.errm('pledge.consent', asset_id=pa)
    check("pledge.consent of another bank's pledge (already consented) -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await Y.errm('units.issue', market_id='M1', qty=1)
    check("units.issue on another licensor's market -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await rf.errm('account.get', participant_id=X.pid)
    check("risk_fund account.get of another's account -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await bs.errm('account.get', participant_id=X.pid)
    check("backstop account.get of another's account -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    # 5. rules after NOT_FOUND: BID_TOO_LOW before BAD_PRICE holds; NOT_QUALIFIED on a real auction
    e = await poor.errm('auction.bid', auction_id=E, amount=1_000_001)
    print('  info: unregistered bid on a real auction, off grid ->', e)
    check('unregistered bidder on a real open auction -> NOT_QUALIFIED or a rule code, not NOT_FOUND/FORBIDDEN', e[0] not in ('NOT_FOUND', 'FORBIDDEN', 'OK'), e)
    # refused calls changed nothing
    g = await a.call('auction.get', auction_id=E)
    check('auction E untouched (open, 0 bids)', g['state'] == 'open' and g['bids'] == 0, g)
    acc = await a.call('account.get', participant_id=poor.pid)
    check('poor account untouched', acc['cash_available'] == 0 and acc['cash_held'] == 0, acc)
run('w01', sc)
