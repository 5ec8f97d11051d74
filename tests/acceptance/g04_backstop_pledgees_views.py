# Audit g (pledges, banks and claims): a backstop purchase (DOMAIN 11) of assets with two pledgees, in fen, and what
# each bank sees. DOMAIN 14 "pledgees are paid in registration order; the surplus goes to the pledgor"; PROTOCOL "The
# pledgee's payout is capped at the claim"; rule 17 risk fund share_bp of the case bank's shortfall; backstop buys "at
# the offer's own price (a share of the case's valuation)". Bank A (rank 1, not the case bank) and bank B (rank 2)
# on K1 and K2; B opens a case on each (short plan), nobody bids, one backstop offer at 30 % buys both at 3,000,000.
#  K1: A 1,000,000 + 50,000 + 25,000 + 12,345 = 1,087,345; B 2,000,000 + costs 1 = 2,000,001
#      -> A 1,087,345, B 1,912,655, pledgor 0; fund 50 % of B's shortfall 87,346 = 43,673.
#  K2: A 900,000 + 99,999 = 999,999; B 2,000,000 -> A 999,999, B 2,000,000, pledgor 1 fen; fund 0.
# Views: "disposal.get | operator, that bank"; "disposal.<case_id> (operator and that case's bank only)";
# "report.disposals | operator; bank (own cases)": A, although paid from B's cases, is not "that bank".
# A's "private" channel carries its balances (a balance push = account.get after the payout).
from common import *
PLAN = {'notice_ms': DAY, 'bidding_ms': DAY, 'renotice_ms': DAY, 'sell_off_ms': 10 * DAY}

async def sc(ctx):
    a = ctx.adm
    A = await ctx.mk('bank'); B = await ctx.mk('bank'); T = await ctx.mk('enterprise'); C3 = await ctx.mk('bank')
    fund = await ctx.mk('risk_fund', fund=1_000_000)
    bs = await ctx.mk('backstop', fund=6_000_000)
    V = 10_000_000
    K1 = await new_asset(ctx, T, valuation=V); K2 = await new_asset(ctx, T, valuation=V)
    await A.call('pledge.register', asset_id=K1, pledgee=A.pid, loan_outstanding=1_000_000, registration_no='A-K1', interest=50_000, penalties=25_000, costs=12_345)
    await B.call('pledge.register', asset_id=K1, pledgee=B.pid, loan_outstanding=2_000_000, registration_no='B-K1', costs=1)
    await A.call('pledge.register', asset_id=K2, pledgee=A.pid, loan_outstanding=900_000, registration_no='A-K2', interest=99_999)
    await B.call('pledge.register', asset_id=K2, pledgee=B.pid, loan_outstanding=2_000_000, registration_no='B-K2')
    plan = dict(PLAN, risk_fund={'participant_id': fund.pid, 'share_bp': 5000})
    c1 = await B.call('disposal.open', assets=[K1], pledgee=B.pid, pledgor=T.pid, valuation=V, plan=plan)
    c2 = await B.call('disposal.open', assets=[K2], pledgee=B.pid, pledgor=T.pid, valuation=V, plan=plan)
    check("K1 case claim = B's 2,000,001; K2 = 2,000,000", (c1['claim'], c2['claim']) == (2_000_001, 2_000_000), (c1['claim'], c2['claim']))
    await bs.call('backstop.offer', price_bp=3000, max_amount=6_000_000)
    cid1, cid2 = c1['case_id'], c2['case_id']
    # views of the other banks
    for who, c in (('senior pledgee A', A), ('unrelated bank C', C3)):
        e = await c.errm('disposal.get', case_id=cid1)
        check(f'disposal.get of B\'s case by {who} -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
        e = await c.errm('subscribe', channels=[f'disposal.{cid1}'])
        check(f'subscribe disposal.<B\'s case> by {who} refused (FORBIDDEN / NOT_FOUND)', e[0] in ('FORBIDDEN', 'NOT_FOUND'), e)
    e = await T.errm('disposal.get', case_id=cid1)
    check('disposal.get by the pledgor (trader) -> FORBIDDEN', e[0] == 'FORBIDDEN', e)
    for c in (A, B, T): await c.call('subscribe', channels=['private'])
    await B.call('subscribe', channels=[f'disposal.{cid1}'])
    await asyncio.sleep(0.2)
    for c in (A, B, T): c.pushes.clear()
    await ctx.adv_to(T0 + 15 * DAY)
    sids = []
    for cid in (cid1, cid2):
        d = await B.call('disposal.get', case_id=cid)
        check(f'{cid}: rounds auction 7,000,000 / auction 5,600,000 / sell_off 5,600,000, then settlement (backstop)',
              [(x['kind'], x['start_price']) for x in d['rounds']] == [('auction', 7_000_000), ('auction', 5_600_000), ('sell_off', 5_600_000)]
              and d['state'] == 'settlement' and d.get('settlement_id'), (d['state'], d['rounds']))
        sids.append(d.get('settlement_id'))
        if d.get('settlement_id'):
            s = await a.call('settlement.get', settlement_id=d['settlement_id'])
            check(f'{cid}: backstop bought at 30 % of 10,000,000 = 3,000,000', (s['buyer'], s['price']) == (bs.pid, 3_000_000), s)
    acc = await bs.call('account.get')
    check('backstop: 6,000,000 held until confirm', (acc['cash_available'], acc['cash_held']) == (0, 6_000_000), acc)
    cash0 = [(await c.call('account.get'))['cash_available'] for c in (A, B, T, fund)]
    check('nothing paid before confirm', cash0 == [0, 0, 0, 1_000_000], cash0)
    await a.call('settlement.confirm', settlement_id=sids[0], registration_no='G04-K1')
    cash1 = [(await c.call('account.get'))['cash_available'] for c in (A, B, T, fund)]
    check('K1 confirmed: A +1,087,345, B +1,912,655 + fund 43,673, pledgor 0, fund -43,673',
          [y - x for x, y in zip(cash0, cash1)] == [1_087_345, 1_912_655 + 43_673, 0, -43_673], [y - x for x, y in zip(cash0, cash1)])
    await a.call('settlement.confirm', settlement_id=sids[1], registration_no='G04-K2')
    cash2 = [(await c.call('account.get'))['cash_available'] for c in (A, B, T, fund)]
    check('K2 confirmed: A +999,999, B +2,000,000, pledgor +1, fund 0',
          [y - x for x, y in zip(cash1, cash2)] == [999_999, 2_000_000, 1, 0], [y - x for x, y in zip(cash1, cash2)])
    acc = await bs.call('account.get')
    check('backstop: cash 0, holds 0, both titles', (acc['cash_available'], acc['cash_held']) == (0, 0) and pos(acc, K1) and pos(acc, K2), acc)
    d1 = await B.call('disposal.get', case_id=cid1); d2 = await B.call('disposal.get', case_id=cid2)
    check('K1: closed backstop; net_to_bank 1,912,655, fund_share 43,673, rate (1,912,655 + 43,673) / 2,000,001',
          (d1['state'], d1['outcome'], d1['recovery']['net_to_bank'], d1['recovery']['fund_share']) == ('closed', 'backstop', 1_912_655, 43_673)
          and abs(d1['recovery']['recovery_rate'] - 1_956_328 / 2_000_001) < 1e-9, (d1['state'], d1['outcome'], d1['recovery']))
    check('K2: closed backstop; net_to_bank 2,000,000, fund_share 0, rate 1',
          (d2['state'], d2['outcome'], d2['recovery']['net_to_bank'], d2['recovery']['fund_share']) == ('closed', 'backstop', 2_000_000, 0)
          and abs(d2['recovery']['recovery_rate'] - 1.0) < 1e-9, (d2['state'], d2['outcome'], d2['recovery']))
    # reports
    ra = await A.call('report.disposals'); rb = await B.call('report.disposals'); ro = await a.call('report.disposals')
    check('report.disposals for A (paid from B\'s cases, none of its own): no rows', ra['rows'] == [], ra)
    check('report.disposals for B: its two cases, outcome backstop', sorted((x['case_id'], x['outcome']) for x in rb['rows']) == sorted([(cid1, 'backstop'), (cid2, 'backstop')]), rb['rows'])
    rowB = {x['case_id']: x for x in rb['rows']}
    check('B report row K1: claim 2,000,001, net 1,912,655, fund 43,673', (rowB.get(cid1, {}).get('claim'), rowB.get(cid1, {}).get('net_to_bank'), rowB.get(cid1, {}).get('fund_share')) == (2_000_001, 1_912_655, 43_673), rowB.get(cid1))
    check('operator report: the same two rows', sorted(x['case_id'] for x in ro['rows']) == sorted([cid1, cid2]), ro['rows'])
    # private pushes
    await asyncio.sleep(0.3)
    for name, c in (('A', A), ('B', B), ('pledgor', T)):
        bal = [p for p in c.pushes if p['channel'] == 'private' and p['type'] == 'balance']
        acc = await c.call('account.get')
        check(f'{name}: latest private balance push = account.get after the payouts',
              bal and (bal[-1]['data'].get('cash_available'), bal[-1]['data'].get('cash_held')) == (acc['cash_available'], acc['cash_held']),
              (bal[-1]['data'] if bal else None, acc))
    dp = [p for p in B.pushes if p['channel'] == f'disposal.{cid1}']
    check('B got disposal pushes for K1, ending closed', dp and dp[-1]['data'].get('state') == 'closed', [(p['type'], p['data'].get('state')) for p in dp])
    check('A got no disposal push', not [p for p in A.pushes if p['channel'].startswith('disposal.')], None)
run('g04', sc)
