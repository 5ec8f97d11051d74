# PROTOCOL.md Envelope: "params is validated strictly: an unknown field, a wrong type, a missing required field or a value
# out of range is BAD_REQUEST with the field named in the message", for every v1 method; unknown ids -> NOT_FOUND;
# the good params are then accepted (so each refusal was due to the field), and refused calls changed nothing.
from common import *
async def sc(ctx):
    a = ctx.adm
    op = await ctx.mk('operator'); bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=50_000_000); bs = await ctx.mk('backstop', fund=10_000_000)
    now = await ctx.now()
    plain = await new_asset(ctx, own)
    pl2 = await new_asset(ctx, own)
    await bank.call('pledge.register', asset_id=pl2, pledgee=bank.pid, loan_outstanding=1_000_000, registration_no='R-pl2')
    _, E = await new_auction(ctx, own)
    _, D = await new_auction(ctx, own, fmt='dutch', dutch={'decrement': 10_000, 'interval_ms': 10 * MIN, 'floor': 800_000})
    _, S = await new_auction(ctx, own)
    await X.call('auction.register', auction_id=S); await X.call('auction.register', auction_id=D)
    await X.call('auction.bid', auction_id=S, amount=1_000_000)
    aidc, cid, _ = await new_case(ctx, bank, own, 10_000_000)
    await ctx.adv(DAY - 1)  # S still open
    now = await ctx.now()
    S_ = 'x'   # a string where an integer is wanted
    # (caller, method, good params, [(field, wrong value)], required fields)
    T = [
        (a, 'asset.register', dict(asset_id='NEW-1', kind='utility_model', title='t', owner=own.pid, region='mianyang',
                                   industry='advanced_materials', valuation=5_000_000, expires_at=now + 400 * DAY, co_owners=[X.pid]),
         [('asset_id', 5), ('kind', 'patent'), ('title', 5), ('owner', 5), ('region', 5), ('industry', 5), ('valuation', S_),
          ('valuation', -1), ('expires_at', S_), ('expires_at', 1.5), ('co_owners', X.pid), ('co_owners', [5])],
         ['asset_id', 'kind', 'title', 'owner', 'region', 'industry', 'valuation', 'expires_at']),
        (bank, 'pledge.register', dict(asset_id=plain, pledgee=bank.pid, loan_outstanding=1_000_000, registration_no='R-1',
                                       interest=1, penalties=2, costs=3),
         [('asset_id', 5), ('pledgee', 5), ('loan_outstanding', S_), ('loan_outstanding', -5), ('registration_no', 5),
          ('interest', S_), ('interest', -1), ('penalties', S_), ('costs', 1.5)],
         ['asset_id', 'pledgee', 'loan_outstanding', 'registration_no']),
        (bank, 'pledge.consent', dict(asset_id=pl2), [('asset_id', 5)], ['asset_id']),
        (bank, 'disposal.open', dict(assets=[plain], pledgee=bank.pid, pledgor=own.pid, valuation=3_000_000),
         [('assets', plain), ('assets', [5]), ('pledgee', 5), ('pledgor', 5), ('valuation', S_), ('valuation', 0), ('valuation', -1),
          ('plan', 'x'), ('plan', {'start_bp': 'x'})],
         ['assets', 'pledgee', 'pledgor', 'valuation']),
        (bank, 'disposal.get', dict(case_id=cid), [('case_id', 5)], ['case_id']),
        (a, 'auction.create', dict(lot=[pl2], purpose='transfer', format='english', start_price=1_000_000, increment=10_000,
                                   deposit=100_000, opens_at=now, closes_at=now + DAY),
         [('lot', pl2), ('lot', [5]), ('purpose', 'sale'), ('format', 'japanese'), ('start_price', S_), ('start_price', 0),
          ('increment', S_), ('increment', 0), ('deposit', S_), ('deposit', -1), ('opens_at', S_), ('closes_at', S_),
          ('reserve', S_), ('extend_window_ms', S_), ('extend_by_ms', S_), ('buyer_premium_bp', S_), ('buyer_premium_bp', -1),
          ('seller_commission_bp', -1), ('payment_ms', S_), ('payment_ms', 0), ('priority_holders', 'x'), ('licence', 'x'),
          ('dutch', 'x')],
         ['lot', 'purpose', 'format', 'start_price', 'increment', 'deposit', 'opens_at', 'closes_at']),
        (X, 'auction.register', dict(auction_id=E), [('auction_id', 5)], ['auction_id']),
        (X, 'auction.bid', dict(auction_id=E, amount=1_000_000), [('auction_id', 5), ('amount', S_), ('amount', 0)], ['auction_id', 'amount']),
        (X, 'auction.proxy', dict(auction_id=S, max_amount=1_050_000),
         [('auction_id', 5), ('max_amount', S_), ('max_amount', 0), ('max_amount', -1)], ['auction_id', 'max_amount']),
        (X, 'auction.get', dict(auction_id=E), [('auction_id', 5)], ['auction_id']),
        (X, 'auction.accept', dict(auction_id=D), [('auction_id', 5)], ['auction_id']),
        (op, 'auction.cancel', dict(auction_id=E, reason='withdrawn'), [('auction_id', 5), ('reason', 5)], ['auction_id', 'reason']),
        (bs, 'backstop.offer', dict(price_bp=3000, max_amount=5_000_000, regions=['chengdu'], industries=['other'], expires_at=now + 90 * DAY),
         [('price_bp', S_), ('price_bp', 0), ('price_bp', -1), ('max_amount', S_), ('max_amount', 0), ('regions', 'chengdu'),
          ('regions', [5]), ('regions', ['Chengdu']), ('industries', 'other'), ('industries', ['mining']), ('expires_at', S_)],
         ['price_bp', 'max_amount']),
        (op, 'report.disposals', dict(from_=0, to=now, region='chengdu'), [('from', S_), ('to', S_), ('region', 5)], []),
        (X, 'unsubscribe', dict(channels=['private']), [('channels', 'private'), ('channels', [5])], ['channels']),
    ]
    for caller, m, good, wrong, req in T:
        good = {('from' if k == 'from_' else k): v for k, v in good.items()}
        for f in req:
            p = {k: v for k, v in good.items() if k != f}
            e = await caller.errm(m, **p)
            check(f'{m} missing {f} -> BAD_REQUEST naming it', e[0] == 'BAD_REQUEST' and f in str(e[1]), e)
        for f, v in wrong:
            p = dict(good); p[f] = v
            e = await caller.errm(m, **p)
            check(f'{m} {f}={v!r} -> BAD_REQUEST naming it', e[0] == 'BAD_REQUEST' and f in str(e[1]), e)
        p = dict(good); p['colour'] = 'red'
        e = await caller.errm(m, **p)
        check(f'{m} unknown field -> BAD_REQUEST naming it', e[0] == 'BAD_REQUEST' and 'colour' in str(e[1]), e)
        if m in ('auction.cancel', 'auction.accept'):
            continue   # applied below
        e = await caller.errm(m, **good)
        check(f'{m} good params -> ok', e[0] == 'OK', e)
    # settlement methods, once S has closed
    await ctx.adv(1)
    sid = (await a.call('auction.get', auction_id=S))['settlement_id']
    for caller, m, good, wrong, req in (
            (X, 'settlement.get', dict(settlement_id=sid), [('settlement_id', 5)], ['settlement_id']),
            (X, 'settlement.pay', dict(settlement_id=sid), [('settlement_id', 5)], ['settlement_id']),
            (op, 'settlement.confirm', dict(settlement_id=sid, registration_no='REG-1'), [('settlement_id', 5), ('registration_no', 5)],
             ['settlement_id', 'registration_no']),
            (op, 'settlement.fail', dict(settlement_id=sid, reason='r'), [('settlement_id', 5), ('reason', 5)], ['settlement_id', 'reason'])):
        for f in req:
            e = await caller.errm(m, **{k: v for k, v in good.items() if k != f})
            check(f'{m} missing {f} -> BAD_REQUEST naming it', e[0] == 'BAD_REQUEST' and f in str(e[1]), e)
        for f, v in wrong:
            p = dict(good); p[f] = v
            e = await caller.errm(m, **p)
            check(f'{m} {f}={v!r} -> BAD_REQUEST naming it', e[0] == 'BAD_REQUEST' and f in str(e[1]), e)
    s = await X.call('settlement.get', settlement_id=sid)
    check('refused settlement calls changed nothing (awaiting_payment)', s['state'] == 'awaiting_payment', s)
    # unknown ids -> NOT_FOUND
    NF = [(bank, 'pledge.register', dict(asset_id='NOPE', pledgee=bank.pid, loan_outstanding=1, registration_no='R-x')),
          (bank, 'pledge.register', dict(asset_id=plain, pledgee='P-nope', loan_outstanding=1, registration_no='R-y')),
          (a, 'asset.register', dict(asset_id='NEW-2', kind='trademark', title='t', owner='P-nope', region='chengdu',
                                     industry='other', valuation=1, expires_at=now + DAY)),
          (bank, 'disposal.open', dict(assets=['NOPE'], pledgee=bank.pid, pledgor=own.pid, valuation=1_000_000)),
          (bank, 'disposal.get', dict(case_id='C-nope')), (op, 'disposal.get', dict(case_id='C-nope')),
          (op, 'auction.cancel', dict(auction_id='A-nope', reason='r')), (X, 'auction.register', dict(auction_id='A-nope')),
          (X, 'auction.proxy', dict(auction_id='A-nope', max_amount=10)), (X, 'auction.accept', dict(auction_id='A-nope')),
          (X, 'settlement.get', dict(settlement_id='S-nope')), (X, 'settlement.pay', dict(settlement_id='S-nope')),
          (op, 'settlement.get', dict(settlement_id='S-nope')),
          (op, 'settlement.confirm', dict(settlement_id='S-nope', registration_no='r')),
          (op, 'settlement.fail', dict(settlement_id='S-nope', reason='r')),
          (op, 'auction.create', dict(lot=['NOPE'], purpose='transfer', format='english', start_price=1000, increment=10,
                                      deposit=100, opens_at=now, closes_at=now + DAY)),
          (X, 'order.cancel', dict(market_id='M-nope', client_order_id='c'))]
    for caller, m, p in NF:
        e = await caller.errm(m, **p)
        check(f'{m} {p} -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    e = await a.errm('asset.register', asset_id='NEW-2', kind='trademark', title='t', owner=own.pid, region='chengdu',
                     industry='other', valuation=1, expires_at=now + DAY)
    check('refused asset.register left the id free', e[0] == 'OK', e)
    e = await a.errm('asset.register', asset_id='NEW-3', kind='trademark', title='t', owner=own.pid, region='chengdu',
                     industry='other', valuation=1, expires_at=now + DAY, co_owners=['P-nope'])
    print('  info: asset.register with unknown co_owner ->', e)
    # priority holders naming unknown participant / rank 0
    e = await a.errm('auction.create', lot=['NEW-2'], purpose='transfer', format='english', start_price=1000, increment=10, deposit=100,
                     opens_at=now, closes_at=now + DAY, priority_holders=[{'participant_id': X.pid, 'rank': 0}])
    check('priority_holders rank 0 -> BAD_REQUEST', e[0] == 'BAD_REQUEST' and 'rank' in e[1], e)
    e = await a.errm('auction.create', lot=['NEW-2'], purpose='transfer', format='english', start_price=1000, increment=10, deposit=100,
                     opens_at=now, closes_at=now + DAY, priority_holders=[{'participant_id': X.pid}])
    check('priority_holders without rank -> BAD_REQUEST', e[0] == 'BAD_REQUEST' and 'rank' in e[1], e)
    e = await a.errm('auction.create', lot=[], purpose='transfer', format='english', start_price=1000, increment=10, deposit=100,
                     opens_at=now, closes_at=now + DAY)
    check('auction.create empty lot -> BAD_REQUEST', e[0] == 'BAD_REQUEST' and 'lot' in e[1], e)
    e = await bank.errm('disposal.open', assets=[], pledgee=bank.pid, pledgor=own.pid, valuation=1_000_000)
    check('disposal.open empty assets -> BAD_REQUEST', e[0] == 'BAD_REQUEST' and 'assets' in e[1], e)
    e = await X.errm('subscribe', channels=[])
    print('  info: subscribe [] ->', e)
    e = await X.errm('subscribe', channels=['nosuch.thing'])
    print('  info: subscribe unknown channel kind ->', e)
    e = await X.errm('subscribe', channels=['auction.A-nope'])
    print('  info: subscribe auction.<unknown> ->', e)
run('t02', sc)
