# PROTOCOL.md "Methods" table, column "who": every method called by each role that may not use it -> FORBIDDEN
# (well-formed params naming real objects, so FORBIDDEN is the first failing check); another participant's
# object where the role could use the method on its own -> NOT_FOUND; refused calls change nothing.
from common import *
async def sc(ctx):
    a = ctx.adm
    op = await ctx.mk('operator'); bank = await ctx.mk('bank'); bank2 = await ctx.mk('bank')
    own = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('individual', fund=50_000_000)
    bs = await ctx.mk('backstop', fund=50_000_000); rf = await ctx.mk('risk_fund')
    # objects: a pledged asset with an open case, an English auction with a settlement, an open Dutch auction, a market + order
    aid, cid, rnd1 = await new_case(ctx, bank, own, 10_000_000)
    plain = await new_asset(ctx, own)
    _, A = await new_auction(ctx, own)
    await X.call('auction.register', auction_id=A); await X.call('auction.bid', auction_id=A, amount=1_000_000)
    await ctx.adv(DAY)
    sid = (await a.call('auction.get', auction_id=A))['settlement_id']
    _, D = await new_auction(ctx, own, fmt='dutch', dutch={'decrement': 10_000, 'interval_ms': 10 * MIN, 'floor': 800_000})
    _, E = await new_auction(ctx, own)   # open English, no bids
    mkt_asset = await new_asset(ctx, own)
    await own.call('market.create', market_id='M1', asset_id=mkt_asset, licence=LIC, tick=10, min_qty=1)
    await own.call('units.issue', market_id='M1', qty=100)
    o = await X.call('order.place', market_id='M1', side='buy', type='limit', price=100, qty=5, tif='gtc', client_order_id='x1')
    roles = {'admin': a, 'operator': op, 'bank': bank, 'trader': X, 'backstop': bs, 'risk_fund': rf}
    now = await ctx.now()
    lic_ok = {'kind': 'non_exclusive', 'territory': ['cn'], 'field': 'all', 'term_months': 12, 'royalty_bp': 0}
    calls = [
        ('time.advance', dict(ms=1), ['operator', 'bank', 'backstop', 'risk_fund']),
        ('participant.create', dict(name='n', kind='enterprise', region='chengdu', whitelisted=True), ['backstop', 'risk_fund']),
        ('account.fund', dict(participant_id=X.pid, amount=1), ['bank', 'trader', 'backstop', 'risk_fund']),
        ('asset.register', dict(asset_id='ZZ1', kind='trademark', title='t', owner=own.pid, region='chengdu', industry='other',
                                valuation=100, expires_at=now + DAY), ['backstop', 'risk_fund']),
        ('pledge.register', dict(asset_id=plain, pledgee=bank.pid, loan_outstanding=100, registration_no='RR1'), ['trader', 'backstop', 'risk_fund']),
        ('pledge.consent', dict(asset_id=aid), ['operator', 'admin', 'backstop', 'risk_fund']),
        ('disposal.open', dict(assets=[aid], pledgee=bank.pid, pledgor=own.pid, valuation=10_000_000), ['trader', 'backstop', 'risk_fund']),
        ('disposal.get', dict(case_id=cid), ['trader', 'backstop', 'risk_fund']),
        ('auction.create', dict(lot=[plain], purpose='transfer', format='english', start_price=1_000_000, increment=10_000,
                                deposit=100_000, opens_at=now, closes_at=now + DAY), ['bank', 'backstop', 'risk_fund']),
        ('auction.cancel', dict(auction_id=E, reason='r'), ['bank', 'backstop', 'risk_fund']),
        ('auction.register', dict(auction_id=E), ['admin', 'operator', 'bank']),
        ('auction.bid', dict(auction_id=E, amount=1_000_000), ['admin', 'operator', 'bank', 'risk_fund']),
        ('auction.proxy', dict(auction_id=E, max_amount=1_100_000), ['admin', 'operator', 'bank', 'risk_fund']),
        ('auction.accept', dict(auction_id=D), ['admin', 'operator', 'bank', 'risk_fund']),
        ('backstop.offer', dict(price_bp=2000, max_amount=1_000_000), ['admin', 'operator', 'bank', 'trader', 'risk_fund']),
        ('market.create', dict(market_id='M2', asset_id=plain, licence=lic_ok, tick=10, min_qty=1), ['risk_fund']),
        ('units.issue', dict(market_id='M1', qty=1), ['backstop', 'risk_fund']),
        ('order.place', dict(market_id='M1', side='buy', type='limit', price=100, qty=1, tif='gtc', client_order_id='r1'), ['operator', 'risk_fund']),
        ('order.cancel', dict(market_id='M1', order_id=o['order_id']), ['bank', 'risk_fund']),
        ('settlement.pay', dict(settlement_id=sid), ['admin', 'operator', 'bank', 'risk_fund']),
        ('settlement.confirm', dict(settlement_id=sid, registration_no='REG'), ['bank', 'trader', 'backstop', 'risk_fund']),
        ('settlement.fail', dict(settlement_id=sid, reason='r'), ['bank', 'trader', 'backstop', 'risk_fund']),
        ('report.disposals', dict(), ['trader', 'backstop', 'risk_fund']),
    ]
    before = {k: await a.call('account.get', participant_id=c.pid) for k, c in roles.items() if k != 'admin'}
    for m, p, who in calls:
        for w in who:
            e = await roles[w].errm(m, **p)
            check(f'{m} by {w} -> FORBIDDEN', e[0] == 'FORBIDDEN', e)
    # nothing changed by the refused calls
    after = {k: await a.call('account.get', participant_id=c.pid) for k, c in roles.items() if k != 'admin'}
    check('refused calls changed no account', before == after, [k for k in before if before[k] != after[k]])
    g = await a.call('auction.get', auction_id=E)
    check('refused calls: auction E untouched (open, 0 bids)', g['state'] == 'open' and g['bids'] == 0, g)
    s = await a.call('settlement.get', settlement_id=sid)
    check('refused calls: settlement still awaiting_payment', s['state'] == 'awaiting_payment', s)
    dg = await a.call('disposal.get', case_id=cid)
    check('refused calls: case still round_1 with 1 round', dg['state'] == 'round_1' and len(dg['rounds']) == 1, dg)
    e = await a.errm('auction.get', auction_id='A-999')
    # subscribe to a disposal channel: FORBIDDEN for roles other than operator and that case's bank
    for w in ('backstop', 'risk_fund'):
        e = await roles[w].errm('subscribe', channels=[f'disposal.{cid}'])
        check(f'subscribe disposal.<case> by {w} -> FORBIDDEN', e[0] == 'FORBIDDEN', e)
    # anyone logged in may read an auction
    for w in ('bank', 'backstop', 'risk_fund', 'operator'):
        e = await roles[w].errm('auction.get', auction_id=A)
        check(f'auction.get by {w} -> ok', e[0] == 'OK' and e[1]['auction_id'] == A, e)
    # operator and that bank read the case; the operator reads any settlement; the seller is a party
    e = await op.errm('disposal.get', case_id=cid)
    check('disposal.get by operator -> ok', e[0] == 'OK' and e[1]['case_id'] == cid, e)
    e = await bank.errm('disposal.get', case_id=cid)
    check('disposal.get by its bank -> ok', e[0] == 'OK', e)
    e = await op.errm('settlement.get', settlement_id=sid)
    check('settlement.get by operator -> ok', e[0] == 'OK' and e[1]['settlement_id'] == sid, e)
    e = await X.errm('settlement.get', settlement_id=sid)
    check('settlement.get by buyer -> ok', e[0] == 'OK', e)
    e = await own.errm('settlement.get', settlement_id=sid)
    check('settlement.get by seller (a party) -> ok', e[0] == 'OK', e)
    # NOT_FOUND: another participant's object, role could use the method on its own
    e = await bank2.errm('disposal.get', case_id=cid)
    check("disposal.get of another bank's case -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await bank2.errm('report.disposals')
    check('report.disposals for another bank: no rows of this case', e[0] == 'OK' and len(e[1]['rows']) == 0, e)
    e = await bank2.errm('pledge.consent', asset_id=aid)
    check("pledge.consent by another bank -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await Y.errm('order.cancel', market_id='M1', order_id=o['order_id'])
    check("order.cancel of another trader's order -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await Y.errm('order.cancel', market_id='M1', client_order_id='x1')
    check("order.cancel by another trader with the owner's client_order_id -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await Y.errm('settlement.pay', settlement_id=sid)
    check("settlement.pay of another's settlement -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await bs.errm('settlement.get', settlement_id=sid)
    check('settlement.get by a backstop not party -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    e = await Y.errm('auction.create', lot=[plain], purpose='transfer', format='english', start_price=1_000_000, increment=10_000,
                     deposit=100_000, opens_at=now, closes_at=now + DAY)
    check("trader auction.create on another's asset -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await Y.errm('market.create', market_id='M3', asset_id=plain, licence=lic_ok, tick=10, min_qty=1)
    check("trader market.create on another's asset -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await Y.errm('asset.register', asset_id='ZZ2', kind='trademark', title='t', owner=own.pid, region='chengdu',
                     industry='other', valuation=100, expires_at=now + DAY)
    print('  info: trader asset.register for another owner ->', e)
    check('trader asset.register for another owner refused', e[0] != 'OK', e)
    e = await bank2.errm('disposal.open', assets=[aid], pledgee=bank.pid, pledgor=own.pid, valuation=10_000_000)
    print('  info: bank disposal.open naming another bank as pledgee ->', e)
    check('bank disposal.open naming another bank as pledgee refused (NOT_FOUND or FORBIDDEN)', e[0] in ('NOT_FOUND', 'FORBIDDEN'), e)
    e = await X.errm('auction.proxy', auction_id=E, max_amount=1_100_000)
    check('auction.proxy unregistered -> NOT_QUALIFIED', e[0] == 'NOT_QUALIFIED', e)
    e = await Y.errm('auction.accept', auction_id=D)
    check('auction.accept unregistered -> NOT_QUALIFIED', e[0] == 'NOT_QUALIFIED', e)
    g = await a.call('auction.get', auction_id=D)
    check('auction D still open after refused accept', g['state'] == 'open', g)
    e = await rf.errm('account.get')
    check('risk_fund reads own account', e[0] == 'OK', e)
    # a trader may register its own asset
    e = await X.errm('asset.register', asset_id='OWN-X', kind='copyright', title='t', owner=X.pid, region='leshan',
                     industry='medicine_health', valuation=100, expires_at=now + DAY)
    check('trader asset.register for itself -> ok', e[0] == 'OK', e)
    e = await bank.errm('pledge.register', asset_id='OWN-X', pledgee=bank.pid, loan_outstanding=100, registration_no='RX')
    check('bank pledge.register -> ok', e[0] == 'OK', e)
    e = await op.errm('pledge.register', asset_id=plain, pledgee=bank2.pid, loan_outstanding=100, registration_no='RY')
    check('operator pledge.register -> ok', e[0] == 'OK', e)
run('t01', sc)
