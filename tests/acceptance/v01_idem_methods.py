# PROTOCOL "Idempotency" across every state-changing method not covered by r14/s08/t09:
# the first reply (success or error) to (participant, request_id) is returned again for a retry with the same
# params, byte-for-byte (same keys, same order, same values; the retry's own id echoed), applying nothing;
# the same request_id with other params (or on another method) is DUPLICATE; a kept error stays kept after
# the state changes.
from common import *

def body(r):
    """the reply without its id, as JSON text in the server's key order"""
    return json.dumps({k: v for k, v in r.items() if k != 'id'})

async def idem(c, name, m, p, alt, rid):
    r1 = await c.raw(m, dict(p, request_id=rid))
    r2 = await c.raw(m, dict(p, request_id=rid), id_=f'retry-{rid}')
    check(f'{name}: retry with same request_id returns the first reply byte-for-byte', body(r1) == body(r2), (r1, r2))
    check(f'{name}: the retry echoes its own id', r2.get('id') == f'retry-{rid}', r2.get('id'))
    if alt is not None:
        r3 = await c.raw(m, dict(alt, request_id=rid))
        check(f'{name}: same request_id, other params -> DUPLICATE', r3.get('error', {}).get('code') == 'DUPLICATE', r3)
    return r1

async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('individual', fund=50_000_000)
    bank = await ctx.mk('bank'); bs = await ctx.mk('backstop', fund=10_000_000)
    now = await ctx.now()
    # --- asset.register
    ap = dict(asset_id='IDEM-1', kind='invention_patent', title='t', owner=own.pid, region='chengdu', industry='other',
              valuation=10_000_000, expires_at=T0 + 3650 * DAY)
    r = await idem(a, 'asset.register', 'asset.register', ap, dict(ap, title='t2'), 'ar-1')
    check('asset.register first reply ok', 'result' in r, r)
    # --- pledge.register / pledge.consent (bank)
    pp = dict(asset_id='IDEM-1', pledgee=bank.pid, loan_outstanding=3_000_000, registration_no='R1')
    r = await idem(bank, 'pledge.register', 'pledge.register', pp, dict(pp, loan_outstanding=3_000_001), 'pr-1')
    check('pledge.register first reply ok', 'result' in r, r)
    r = await idem(bank, 'pledge.consent', 'pledge.consent', dict(asset_id='IDEM-1'), None, 'pc-1')
    check('pledge.consent first reply ok', 'result' in r, r)
    # --- disposal.open: retry returns the same case, opens one case only
    dp = dict(assets=['IDEM-1'], pledgee=bank.pid, pledgor=own.pid, valuation=10_000_000)
    r = await idem(bank, 'disposal.open', 'disposal.open', dp, dict(dp, valuation=10_000_100), 'do-1')
    check('disposal.open first reply ok', 'result' in r, r)
    rep = await bank.call('report.disposals')
    check('disposal.open retried: one case only', len(rep['rows']) == 1, rep['rows'])
    if 'result' in r:
        dg = await bank.call('disposal.get', case_id=r['result']['case_id'])
        check('disposal.open retried: claim not doubled', dg['claim'] == 3_000_000, dg['claim'])
    # --- auction.create: one auction
    asset2 = await new_asset(ctx, own)
    cp = dict(lot=[asset2], purpose='transfer', format='english', start_price=1_000_000, increment=10_000, deposit=100_000,
              opens_at=now, closes_at=now + DAY)
    r = await idem(a, 'auction.create', 'auction.create', cp, dict(cp, start_price=1_010_000), 'ac-1')
    A = r['result']['auction_id']
    # --- auction.register: deposit held once
    r = await idem(X, 'auction.register', 'auction.register', dict(auction_id=A), None, 'rg-1')
    check('auction.register first reply has bidder_code', 'bidder_code' in r.get('result', {}), r)
    acc = await X.call('account.get')
    check('auction.register retried: deposit held once', acc['cash_held'] == 100_000 and acc['cash_available'] == 49_900_000, acc)
    await Y.call('auction.register', auction_id=A)
    # --- auction.proxy: applied once
    r = await idem(X, 'auction.proxy', 'auction.proxy', dict(auction_id=A, max_amount=1_100_000), dict(auction_id=A, max_amount=1_200_000), 'px-1')
    g = await a.call('auction.get', auction_id=A)
    check('auction.proxy retried: one bid', g['bids'] == 1 and g['price'] == 1_000_000, g)
    # --- another method with a request_id already used -> DUPLICATE, nothing applied
    e = await X.raw('auction.bid', dict(auction_id=A, amount=1_500_000, request_id='px-1'))
    g = await a.call('auction.get', auction_id=A)
    check('request_id used by auction.proxy, now on auction.bid -> DUPLICATE, nothing applied',
          e.get('error', {}).get('code') == 'DUPLICATE' and g['bids'] == 1, (e, g['bids']))
    # --- auction.cancel on a second auction
    asset3 = await new_asset(ctx, own)
    _, C = await new_auction(ctx, own, asset=asset3)
    await X.call('auction.register', auction_id=C)
    r = await idem(a, 'auction.cancel', 'auction.cancel', dict(auction_id=C, reason='withdrawn'), dict(auction_id=C, reason='other'), 'cn-1')
    check('auction.cancel first reply: cancelled', r.get('result', {}).get('state') == 'cancelled', r)
    acc = await X.call('account.get')
    check('auction.cancel: deposit released once (only A held)', acc['cash_held'] == 100_000, acc)
    # --- backstop.offer
    r = await idem(bs, 'backstop.offer', 'backstop.offer', dict(price_bp=3000, max_amount=5_000_000), dict(price_bp=3100, max_amount=5_000_000), 'bo-1')
    check('backstop.offer first reply has offer_id', 'offer_id' in r.get('result', {}), r)
    # --- market.create + units.issue
    asset4 = await new_asset(ctx, own)
    mpar = dict(market_id='IM', asset_id=asset4, licence=LIC, tick=10, min_qty=1)
    r = await idem(own, 'market.create', 'market.create', mpar, dict(mpar, tick=20), 'mc-1')
    check('market.create retried: first reply (not a DUPLICATE market)', 'result' in r, r)
    r = await idem(own, 'units.issue', 'units.issue', dict(market_id='IM', qty=100), dict(market_id='IM', qty=101), 'ui-1')
    acc = await own.call('account.get')
    check('units.issue retried: applied once (100 units)', mp(acc, 'IM')[0] == 100, acc['positions'])
    # --- Dutch accept: retried -> the same price and ts, not AUCTION_CLOSED
    t = await ctx.now()
    _, D = await new_auction(ctx, own, fmt='dutch', start=1_000_000, inc=10_000, dep=100_000, opens=t + HOUR, closes=t + 2 * DAY,
                             dutch={'decrement': 50_000, 'interval_ms': 10 * MIN, 'floor': 500_000})
    await Y.call('auction.register', auction_id=D)
    e1 = await Y.raw('auction.accept', dict(auction_id=D, request_id='acc-1'))
    check('auction.accept before opens_at -> AUCTION_NOT_OPEN', e1.get('error', {}).get('code') == 'AUCTION_NOT_OPEN', e1)
    await ctx.adv(HOUR + 15 * MIN)
    e2 = await Y.raw('auction.accept', dict(auction_id=D, request_id='acc-1'))
    g = await a.call('auction.get', auction_id=D)
    check('kept AUCTION_NOT_OPEN replayed byte-for-byte after the auction opened; nothing applied',
          body(e1) == body(e2) and g['state'] == 'open', (e1, e2, g['state']))
    r = await idem(Y, 'auction.accept', 'auction.accept', dict(auction_id=D), None, 'acc-2')
    check('auction.accept first reply: price 950000', r.get('result', {}).get('price') == 950_000, r)
    # --- settlements: close A (X wins at 1,000,000 via proxy)
    gA = await a.call('auction.get', auction_id=A)
    await ctx.adv_to(gA['closes_at'])
    gA = await a.call('auction.get', auction_id=A)
    sid = gA['settlement_id']
    gD = await a.call('auction.get', auction_id=D); sidD = gD['settlement_id']
    # a kept INSUFFICIENT_FUNDS: Z wins, cannot pay, is funded, retries with the same request_id
    Z = await ctx.mk('individual', fund=200_000)
    _, B = await new_auction(ctx, own, start=1_000_000, inc=10_000, dep=100_000)
    await Z.call('auction.register', auction_id=B); await Z.call('auction.bid', auction_id=B, amount=1_000_000)
    gB = await a.call('auction.get', auction_id=B); await ctx.adv_to(gB['closes_at'])
    sidB = (await a.call('auction.get', auction_id=B))['settlement_id']
    e1 = await Z.raw('settlement.pay', dict(settlement_id=sidB, request_id='sp-z'))
    check('settlement.pay without cash -> INSUFFICIENT_FUNDS', e1.get('error', {}).get('code') == 'INSUFFICIENT_FUNDS', e1)
    await a.call('account.fund', participant_id=Z.pid, amount=5_000_000)
    e2 = await Z.raw('settlement.pay', dict(settlement_id=sidB, request_id='sp-z'))
    s = await a.call('settlement.get', settlement_id=sidB)
    check('kept INSUFFICIENT_FUNDS replayed after funding; settlement still awaiting_payment',
          body(e1) == body(e2) and s['state'] == 'awaiting_payment', (e2, s['state']))
    e3 = await Z.raw('settlement.pay', dict(settlement_id=sidB, request_id='sp-z2'))
    check('a new request_id then pays', e3.get('result', {}).get('state') == 'paid', e3)
    # pay / confirm / fail retried
    before = await X.call('account.get')
    r = await idem(X, 'settlement.pay', 'settlement.pay', dict(settlement_id=sid), None, 'sp-1')
    check('settlement.pay first reply: paid', r.get('result', {}).get('state') == 'paid', r)
    after = await X.call('account.get')
    check('settlement.pay retried: escrow moved once (price - deposit = 900,000)',
          before['cash_available'] - after['cash_available'] == 900_000, (before, after))
    r = await idem(a, 'settlement.confirm', 'settlement.confirm', dict(settlement_id=sid, registration_no='REG-1'),
                   dict(settlement_id=sid, registration_no='REG-2'), 'sc-1')
    check('settlement.confirm first reply: confirmed', r.get('result', {}).get('state') == 'confirmed', r)
    r = await idem(a, 'settlement.fail', 'settlement.fail', dict(settlement_id=sidD, reason='no registration'),
                   dict(settlement_id=sidD, reason='other'), 'sf-1')
    check('settlement.fail first reply: failed', r.get('result', {}).get('state') == 'failed', r)
    # a kept error on a state-changing call: confirm of an unpaid settlement -> INVALID_STATE, kept after it is paid
    Q = await ctx.mk('individual', fund=5_000_000)
    _, E = await new_auction(ctx, own, start=1_000_000, inc=10_000, dep=100_000)
    await Q.call('auction.register', auction_id=E); await Q.call('auction.bid', auction_id=E, amount=1_000_000)
    gE = await a.call('auction.get', auction_id=E); await ctx.adv_to(gE['closes_at'])
    sidE = (await a.call('auction.get', auction_id=E))['settlement_id']
    e1 = await a.raw('settlement.confirm', dict(settlement_id=sidE, registration_no='RE', request_id='sc-e'))
    await Q.call('settlement.pay', settlement_id=sidE)
    e2 = await a.raw('settlement.confirm', dict(settlement_id=sidE, registration_no='RE', request_id='sc-e'))
    s = await a.call('settlement.get', settlement_id=sidE)
    check('confirm before pay: error kept and replayed after pay; settlement stays paid',
          'error' in e1 and body(e1) == body(e2) and s['state'] == 'paid', (e1, e2, s['state']))
run('v01', sc)
