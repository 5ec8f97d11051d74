# The bank asset manager forecloses on a patent whose licence units already paid part of its claim (docs/protocol.md
# settlement.confirm: "what it paid a pledge counts toward its claim ... a later sale or disposal of the asset counts
# only what remains (a case's claim)"; disposal.open: the case's claim is that bank's; "Payouts with several
# pledgees"): claim = loan + interest + penalties + costs = 335,000; units pay 100,000 first; the case's claim is
# 235,000; round 1 (plan start_bp 7000 of 1,000,000 = 700,000, deposit 10 % = 70,000, increment 2 % = 14,000) sells
# at 700,000; confirm pays bank A 235,000, bank B 100,000, the pledgor 365,000; recovery_rate 1. While the case is
# open the asset cannot be listed, pledged or consented (INVALID_STATE). Who sees the case, its channel, its
# settlement and the report (operator / case's bank / other bank NOT_FOUND / trader FORBIDDEN).
from common import *

def cash(acc): return (acc['cash_available'], acc['cash_held'])

async def sc(ctx):
    a = ctx.adm
    A = await ctx.mk('bank'); Bk = await ctx.mk('bank'); O = await ctx.mk('operator')
    T = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=1_000_000); Y = await ctx.mk('individual', fund=1_000_000)
    D = await new_asset(ctx, T, valuation=1_000_000)
    pa = await A.call('pledge.register', asset_id=D, pledgee=A.pid, loan_outstanding=300_000, registration_no='A-D', interest=20_000, penalties=10_000, costs=5_000)
    check('claim 300,000 + 20,000 + 10,000 + 5,000 = 335,000', pa.get('claim') == 335_000, pa)
    await Bk.call('pledge.register', asset_id=D, pledgee=Bk.pid, loan_outstanding=100_000, registration_no='B-D')
    await A.call('pledge.consent', asset_id=D); await Bk.call('pledge.consent', asset_id=D)
    await T.call('market.create', market_id='MD', asset_id=D, licence=LIC, tick=100, min_qty=10)
    await T.call('units.issue', market_id='MD', qty=100)
    await T.call('order.place', market_id='MD', side='sell', type='limit', price=1_000, qty=100, tif='gtc', client_order_id='t1')
    await Y.call('order.place', market_id='MD', side='buy', type='limit', price=1_000, qty=100, tif='gtc', client_order_id='y1')
    c = [cash(await p.call('account.get')) for p in (A, Bk, T, Y)]
    check('units sale 100,000: all to bank A (rank 1, 335,000 owed)', c == [(100_000, 0), (0, 0), (0, 0), (900_000, 0)], c)
    await A.call('subscribe', channels=['private'])
    await asyncio.sleep(0.1); A.pushes.clear()

    r = await A.call('disposal.open', assets=[D], pledgee=A.pid, pledgor=T.pid, valuation=1_000_000, plan={'notice_ms': HOUR})
    cid, au = r['case_id'], r['auction_id']
    check("case claim = what remains of bank A's claim: 335,000 - 100,000 = 235,000", r.get('claim') == 235_000, r.get('claim'))
    g = await a.call('auction.get', auction_id=au)
    check('round 1: start 700,000, deposit 70,000, increment 14,000, purpose disposal',
          (g['start_price'], g['deposit'], g['increment'], g['purpose']) == (700_000, 70_000, 14_000, 'disposal'), g)
    # the asset is under disposal
    now = await ctx.now()
    e = await T.errm('auction.create', lot=[D], purpose='transfer', format='english', start_price=900_000, increment=10_000, deposit=0, opens_at=now, closes_at=now + DAY)
    check('owner listing an asset under disposal -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    e = await Bk.errm('pledge.register', asset_id=D, pledgee=Bk.pid, loan_outstanding=1_000, registration_no='B-D2')
    check('pledge.register on an asset under disposal -> INVALID_STATE (docs pledge.register)', e[0] == 'INVALID_STATE', e)
    e = await Bk.errm('pledge.consent', asset_id=D)
    check('pledge.consent while under disposal -> INVALID_STATE (docs pledge.consent)', e[0] == 'INVALID_STATE', e)
    # who sees the case
    for who, c_, exp in (('case bank', A, 'OK'), ('operator', O, 'OK'), ('other pledgee bank', Bk, 'NOT_FOUND'), ('trader', T, 'FORBIDDEN')):
        e = await c_.errm('disposal.get', case_id=cid)
        check(f'disposal.get by {who} -> {exp}', e[0] == exp, e)
    for who, c_, exp in (('other bank', Bk, 'NOT_FOUND'), ('trader', T, 'FORBIDDEN')):
        e = await c_.errm('subscribe', channels=[f'disposal.{cid}'])
        check(f'subscribe disposal.<case> by {who} -> {exp} (docs Channels)', e[0] == exp, e)
    e = await A.errm('disposal.get', case_id='NO-SUCH')
    check('disposal.get unknown case -> NOT_FOUND', e[0] == 'NOT_FOUND', e)

    await X.call('auction.register', auction_id=au)
    check('X: deposit 70,000 held', cash(await X.call('account.get')) == (930_000, 70_000))
    await ctx.adv_to(g['opens_at'])
    await X.call('auction.bid', auction_id=au, amount=700_000)
    await ctx.adv_to(g['closes_at'])
    g = await a.call('auction.get', auction_id=au); sid = g['settlement_id']
    check('sold at 700,000', (g['state'], g['price']) == ('sold', 700_000), g)
    for who, c_, exp in (('buyer', X, 'OK'), ('case bank', A, 'OK'), ('pledgor (seller)', T, 'OK'), ('other trader', Y, 'NOT_FOUND')):
        e = await c_.errm('settlement.get', settlement_id=sid)
        check(f'settlement.get by {who} -> {exp}', e[0] == exp, e)
    e = await Bk.errm('settlement.get', settlement_id=sid)
    print('  info: settlement.get by the second pledgee (not the case bank):', e[0])
    s = await X.call('settlement.pay', settlement_id=sid)
    check('paid: X 300,000 available, 700,000 held', cash(await X.call('account.get')) == (300_000, 700_000))
    await a.call('settlement.confirm', settlement_id=sid, registration_no='CNIPA-K03')
    c = [cash(await p.call('account.get')) for p in (A, Bk, T, X)]
    check('confirm: A 100,000 + 235,000, B 100,000, pledgor 365,000, X 300,000', c == [(335_000, 0), (100_000, 0), (365_000, 0), (300_000, 0)], c)
    check('X holds the title', pos(await X.call('account.get'), D) is not None and pos(await T.call('account.get'), D) is None)
    k = await A.call('disposal.get', case_id=cid)
    rc = k.get('recovery', {})
    check('case closed sold; net_to_bank 235,000; recovery_rate 1', (k['state'], k.get('outcome'), rc.get('hammer'), rc.get('net_to_bank'), float(rc.get('recovery_rate', -1))) == ('closed', 'sold', 700_000, 235_000, 1.0), (k['state'], k.get('outcome'), rc))
    await asyncio.sleep(0.1)
    ps = [p for p in A.pushes if p['channel'] == 'private']
    check("bank A's private: a settlement push for its case (docs private: to the case's bank)", any(p['type'] == 'settlement' and p['data'].get('settlement_id') == sid for p in ps), [p['type'] for p in ps])
    bal = [p for p in ps if p['type'] == 'balance']
    check("bank A's latest balance push = account.get", bal and cash(bal[-1]['data']) == (335_000, 0), bal[-1:] if bal else ps)
    ra = await A.call('report.disposals'); rb = await Bk.call('report.disposals')
    check("report.disposals: bank A sees its case, bank B none", [x.get('case_id') for x in ra.get('rows', [])] == [cid] and rb.get('rows') == [], (ra.get('rows'), rb.get('rows')))
    e = await T.errm('report.disposals')
    check('report.disposals by a trader -> FORBIDDEN', e[0] == 'FORBIDDEN', e)
run('k03', sc)
