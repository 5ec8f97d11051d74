# DOMAIN rule 14 over a case of two assets (docs/protocol.md "Payouts with several pledgees": the pledges are registered
# across all the case's assets in one order): P pledged to A, then Q to B, then P to B; B opens the case on [P, Q]
# (claim = its two pledges); the sale after a three-bid English contest pays A, then B's Q pledge, then B's P pledge,
# each up to its claim (principal + interest + penalties + costs, one fen matters), the surplus to the pledgor (code 103);
# both titles to the winner, every pledge released. Rule 17 edges: share_bp 10000 (the whole shortfall) accepted, 10001
# refused with BAD_REQUEST; a fund without enough cash never goes negative and the case records exactly what it paid.
from common import *
async def sc(ctx):
    a = ctx.adm
    A = await ctx.mk('bank'); B = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    F = 50_000_000
    X = await ctx.mk('individual', fund=F); Y = await ctx.mk('individual', fund=F)
    P = await new_asset(ctx, own, valuation=12_000_000); Q = await new_asset(ctx, own, valuation=8_000_000)
    await A.call('pledge.register', asset_id=P, pledgee=A.pid, loan_outstanding=5_000_000, registration_no='PA', interest=600_000, penalties=300_000, costs=100_000)
    await ctx.adv(1)
    await B.call('pledge.register', asset_id=Q, pledgee=B.pid, loan_outstanding=4_000_000, registration_no='QB')
    await ctx.adv(1)
    await B.call('pledge.register', asset_id=P, pledgee=B.pid, loan_outstanding=3_000_000, registration_no='PB', costs=1)
    V = 20_000_000
    e = await B.errm('disposal.open', assets=[P, Q], pledgee=B.pid, pledgor=own.pid, valuation=V,
                     plan={'risk_fund': {'participant_id': (await ctx.mk('risk_fund')).pid, 'share_bp': 10001}})
    check('risk_fund share_bp 10001 -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    fund = await ctx.mk('risk_fund', fund=F)
    r = await B.call('disposal.open', assets=[P, Q], pledgee=B.pid, pledgor=own.pid, valuation=V,
                     plan={'risk_fund': {'participant_id': fund.pid, 'share_bp': 10000}})
    cid, aid = r['case_id'], r['auction_id']
    check('claim = B\'s pledges 4,000,000 + 3,000,001', r['claim'] == 7_000_001, r['claim'])
    check('case pledges in registration order across assets: A/P, B/Q, B/P',
          [(p['asset_id'], p['pledgee'], p['claim']) for p in r.get('pledges', [])] == [(P, A.pid, 6_000_000), (Q, B.pid, 4_000_000), (P, B.pid, 3_000_001)], r.get('pledges'))
    g = await a.call('auction.get', auction_id=aid)
    check('start 14,000,000, deposit 1,400,000, increment 1 % = 140,000', (g['start_price'], g['deposit'], g['increment']) == (14_000_000, 1_400_000, 140_000), g)
    check('lot = both assets', sorted(g['lot']) == sorted([P, Q]), g['lot'])
    for c in (X, Y): await c.call('auction.register', auction_id=aid)
    await ctx.adv_to(g['opens_at'])
    await X.call('auction.bid', auction_id=aid, amount=14_000_000)
    await Y.call('auction.bid', auction_id=aid, amount=14_140_000)
    await X.call('auction.bid', auction_id=aid, amount=14_280_000)
    await ctx.adv_to(g['closes_at'])
    g = await a.call('auction.get', auction_id=aid)
    check('sold to X at 14,280,000', g['state'] == 'sold' and g['price'] == 14_280_000, (g['state'], g['price']))
    await X.call('settlement.pay', settlement_id=g['settlement_id'])
    await a.call('settlement.confirm', settlement_id=g['settlement_id'], registration_no='REG-PQ')
    s = await a.call('settlement.get', settlement_id=g['settlement_id'])
    pay = sorted((t['amount'], t['code']) for t in s['transfers'] if t['code'] in (103, 105))
    check('transfers: 105 x 6,000,000 / 4,000,000 / 3,000,001; 103 x 1,279,999 to the pledgor',
          pay == sorted([(6_000_000, 105), (4_000_000, 105), (3_000_001, 105), (1_279_999, 103)]), s['transfers'])
    check('cash: A 6,000,000, B 7,000,001, pledgor 1,279,999, X paid 14,280,000, fund untouched',
          [(await c.call('account.get'))['cash_available'] for c in (A, B, own, X, fund)] == [6_000_000, 7_000_001, 1_279_999, F - 14_280_000, F],
          [(await c.call('account.get'))['cash_available'] for c in (A, B, own, X, fund)])
    d = await B.call('disposal.get', case_id=cid)
    check('case: closed sold, pledges paid in full, net 7,000,001, fund 0, rate 1.0',
          (d['state'], d['outcome'], [p['paid'] for p in d['pledges']], d['recovery']['net_to_bank'], d['recovery']['fund_share']) ==
          ('closed', 'sold', [6_000_000, 4_000_000, 3_000_001], 7_000_001, 0) and abs(d['recovery']['recovery_rate'] - 1.0) < 1e-9, (d['state'], d['pledges'], d['recovery']))
    xa = await X.call('account.get')
    check('X holds both titles', (pos(xa, P) or {}).get('units') == 1 and (pos(xa, Q) or {}).get('units') == 1, xa['positions'])
    for asset in (P, Q):
        ga = await a.call('asset.get', asset_id=asset)
        check(f'{asset}: every pledge released, owner X', ga['pledges'] == [] and ga['pledge'] is None and ga['owner'] == X.pid, ga)
    # a fund short of cash: share_bp 10000 of a 3,000,000 shortfall, fund holds 1,000,000
    poor = await ctx.mk('risk_fund', fund=1_000_000)
    asset2, c2, a2 = await new_case(ctx, B, own, 10_000_000, loan=10_000_000, plan={'risk_fund': {'participant_id': poor.pid, 'share_bp': 10000}})
    g = await a.call('auction.get', auction_id=a2)
    await Y.call('auction.register', auction_id=a2)
    await ctx.adv_to(g['opens_at']); await Y.call('auction.bid', auction_id=a2, amount=7_000_000)
    await ctx.adv_to(g['closes_at'])
    g = await a.call('auction.get', auction_id=a2)
    await Y.call('settlement.pay', settlement_id=g['settlement_id'])
    b0 = (await B.call('account.get'))['cash_available']
    e = await a.errm('settlement.confirm', settlement_id=g['settlement_id'], registration_no='REG-2')
    pa = await poor.call('account.get'); b1 = (await B.call('account.get'))['cash_available']
    d = await B.call('disposal.get', case_id=c2)
    print('  info: confirm with a fund short of cash:', e[0], 'fund', pa, 'case', d['state'], d['recovery'])
    check('poor fund: never negative, pays at most its cash', pa['cash_available'] >= 0 and pa['cash_held'] >= 0 and 1_000_000 - pa['cash_available'] <= 1_000_000, pa)
    check('poor fund: the case records exactly what the fund paid, the bank got price + that',
          d['recovery']['fund_share'] == 1_000_000 - pa['cash_available'] and (e[0] != 'OK' or b1 - b0 == 7_000_000 + d['recovery']['fund_share']),
          (d['recovery'], pa, b1 - b0))
run('p06', sc)
