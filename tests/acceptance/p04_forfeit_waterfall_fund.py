# DOMAIN rules 7, 14, 17 in fen across several pledgees, the case opened by the second-ranked bank: claim = principal +
# interest + penalties + costs; a round-1 winner defaults -> its deposit is forfeited and goes down the pledges in
# registration order (docs/protocol.md "Payouts with several pledgees": code 107, the first-ranked bank first, although it
# did not open the case); the defaulter is barred; the re-run (same start, renotice after due_at) sells; at confirmation
# the proceeds pay what remains of the first pledge, then the case's bank, the pledgor nothing; the risk fund pays
# share_bp (5400, floor) of the case bank's shortfall (claim - net_to_bank). A second case without a shortfall: surplus
# to the pledgor, the fund pays nothing and no risk_share event. disposal.<case> pushes (default, round_1 re-run, sold,
# risk_share, closed, with reasons), disposal.get pledges/recovery, settlement transfers, report.disposals row.
from common import *
PLAN = {'notice_ms': DAY, 'bidding_ms': DAY, 'renotice_ms': DAY, 'payment_ms': 2 * DAY}
async def sc(ctx):
    a = ctx.adm
    A = await ctx.mk('bank'); B = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    FF = 10_000_000; F = 20_000_000
    fund = await ctx.mk('risk_fund', fund=FF)
    X = await ctx.mk('individual', fund=F); Y = await ctx.mk('individual', fund=F); Z = await ctx.mk('enterprise', fund=F)
    V = 10_000_000
    rf = {'risk_fund': {'participant_id': fund.pid, 'share_bp': 5400}}
    asW = await new_asset(ctx, own, valuation=V)
    pa = await A.call('pledge.register', asset_id=asW, pledgee=A.pid, loan_outstanding=3_000_000, registration_no='WA', interest=200_000, penalties=50_000, costs=25_000)
    check('A claim = 3,000,000 + 200,000 + 50,000 + 25,000', pa['claim'] == 3_275_000, pa)
    pb = await B.call('pledge.register', asset_id=asW, pledgee=B.pid, loan_outstanding=5_000_000, registration_no='WB', interest=123_456)
    check('B claim = 5,123,456', pb['claim'] == 5_123_456, pb)
    r = await a.call('disposal.open', assets=[asW], pledgee=B.pid, pledgor=own.pid, valuation=V, plan=dict(PLAN, **rf))
    cW, aW = r['case_id'], r['auction_id']
    check('case W claim = B\'s 5,123,456; pledges listed A then B', r['claim'] == 5_123_456
          and [(p['pledgee'], p['claim'], p['paid']) for p in r.get('pledges', [])] == [(A.pid, 3_275_000, 0), (B.pid, 5_123_456, 0)], r)
    asN = await new_asset(ctx, own, valuation=V)
    await A.call('pledge.register', asset_id=asN, pledgee=A.pid, loan_outstanding=2_000_000, registration_no='NA', costs=10_000)
    r = await A.call('disposal.open', assets=[asN], pledgee=A.pid, pledgor=own.pid, valuation=V, plan=dict(PLAN, **rf))
    cN, aN = r['case_id'], r['auction_id']
    await B.call('subscribe', channels=[f'disposal.{cW}']); await A.call('subscribe', channels=[f'disposal.{cN}'])
    for c in (X, Y): await c.call('auction.register', auction_id=aW)
    await Z.call('auction.register', auction_id=aN)
    await ctx.adv_to(T0 + DAY)
    await X.call('auction.bid', auction_id=aW, amount=7_000_000)
    await Z.call('auction.bid', auction_id=aN, amount=7_000_000)
    await ctx.adv_to(T0 + 2 * DAY)
    gW = await a.call('auction.get', auction_id=aW); gN = await a.call('auction.get', auction_id=aN)
    check('both round-1 auctions sold at 7,000,000', (gW['state'], gW['price'], gN['state'], gN['price']) == ('sold', 7_000_000, 'sold', 7_000_000), (gW, gN))
    sW1 = gW['settlement_id']
    await ctx.adv_to(T0 + 3 * DAY)
    await Z.call('settlement.pay', settlement_id=gN['settlement_id'])
    await a.call('settlement.confirm', settlement_id=gN['settlement_id'], registration_no='REG-N')
    # case N: no shortfall
    dN = await A.call('disposal.get', case_id=cN)
    check('N: closed sold; A paid its claim 2,010,000; fund 0', (dN['state'], dN['outcome'], dN['recovery']['net_to_bank'], dN['recovery']['fund_share'])
          == ('closed', 'sold', 2_010_000, 0), (dN['state'], dN['outcome'], dN['recovery']))
    check('N: pledgor gets the surplus 4,990,000; fund untouched',
          (await own.call('account.get'))['cash_available'] == 4_990_000 and (await fund.call('account.get'))['cash_available'] == FF, None)
    check('N: recovery_rate 1.0', abs(dN['recovery']['recovery_rate'] - 1.0) < 1e-9, dN['recovery'])
    # case W: X defaults at due_at = T0 + 4 d
    await ctx.adv_to(T0 + 4 * DAY)
    s1 = await a.call('settlement.get', settlement_id=sW1)
    check('W: settlement defaulted at due_at', s1['state'] == 'defaulted' and s1['due_at'] == T0 + 4 * DAY, (s1['state'], s1['due_at'] - T0))
    t107 = [(t['amount'], t['code']) for t in s1['transfers'] if t['code'] == 107]
    check('W: forfeit 700,000 paid out as one code-107 transfer (to A, ranked first)', t107 == [(700_000, 107)], s1['transfers'])
    check('W: A has 2,010,000 + 700,000, B nothing yet', (await A.call('account.get'))['cash_available'] == 2_710_000
          and (await B.call('account.get'))['cash_available'] == 0, None)
    xa = await X.call('account.get')
    check('W: X lost exactly its deposit', (xa['cash_available'], xa['cash_held']) == (F - 700_000, 0), xa)
    d = await B.call('disposal.get', case_id=cW)
    check('W: after default: state round_1, defaults 1, forfeited 700,000, net_to_bank 0, A paid 700,000',
          (d['state'], d['defaults'], d['recovery']['forfeited'], d['recovery']['net_to_bank'], [p['paid'] for p in d['pledges']])
          == ('round_1', 1, 700_000, 0, [700_000, 0]), (d['state'], d['defaults'], d['recovery'], d['pledges']))
    rr = d['rounds'][-1]
    g = await a.call('auction.get', auction_id=rr['auction_id'])
    check('W: re-run: a new round-1 auction, start 7,000,000, opens at due_at + renotice (T0 + 5 d)',
          rr['round'] == 1 and rr['auction_id'] != aW and g['start_price'] == 7_000_000 and g['opens_at'] == T0 + 5 * DAY, (rr, g['opens_at'] - T0))
    e = await X.err('auction.register', auction_id=g['auction_id'])
    check('W: defaulter barred (NOT_QUALIFIED)', e == 'NOT_QUALIFIED', e)
    await Y.call('auction.register', auction_id=g['auction_id'])
    await ctx.adv_to(T0 + 5 * DAY); await Y.call('auction.bid', auction_id=g['auction_id'], amount=7_000_000)
    await ctx.adv_to(T0 + 6 * DAY)
    g = await a.call('auction.get', auction_id=g['auction_id'])
    await ctx.adv_to(T0 + 7 * DAY); await Y.call('settlement.pay', settlement_id=g['settlement_id'])
    await ctx.adv_to(T0 + 8 * DAY); await a.call('settlement.confirm', settlement_id=g['settlement_id'], registration_no='REG-W')
    s2 = await a.call('settlement.get', settlement_id=g['settlement_id'])
    t105 = sorted(t['amount'] for t in s2['transfers'] if t['code'] == 105)
    check('W: proceeds: code-105 transfers 2,575,000 (A, rest of its claim) and 4,425,000 (B)', t105 == [2_575_000, 4_425_000], s2['transfers'])
    check('W: no transfer to the pledgor (code 103)', not [t for t in s2['transfers'] if t['code'] == 103], s2['transfers'])
    shortfall = 5_123_456 - 4_425_000
    share = shortfall * 5400 // 10000      # 377,166 (docs/protocol.md Values: every amount derived from basis points is floor(amount x bp / 10000))
    ba = (await B.call('account.get'))['cash_available']; fa = (await fund.call('account.get'))['cash_available']
    check(f'W: B has 4,425,000 + fund share {share} (54% of {shortfall})', ba == 4_425_000 + share, (ba, 4_425_000 + share))
    check('W: fund paid exactly the share', fa == FF - share, (fa, FF - share))
    check('W: A has both claims in full (3,275,000 + 2,010,000)', (await A.call('account.get'))['cash_available'] == 5_285_000, None)
    check('W: pledgor still only the N surplus', (await own.call('account.get'))['cash_available'] == 4_990_000, None)
    ya = await Y.call('account.get')
    check('W: Y paid 7,000,000 in all', (ya['cash_available'], ya['cash_held']) == (F - 7_000_000, 0), ya)
    d = await B.call('disposal.get', case_id=cW)
    rec = d['recovery']
    check('W: closed sold; hammer 7,000,000, net 4,425,000, fund_share, forfeited 700,000',
          (d['state'], d['outcome'], rec['hammer'], rec['net_to_bank'], rec['fund_share'], rec['forfeited']) == ('closed', 'sold', 7_000_000, 4_425_000, share, 700_000), (d['state'], d['outcome'], rec))
    check('W: recovery_rate = (4,425,000 + share) / 5,123,456', abs(rec['recovery_rate'] - (4_425_000 + share) / 5_123_456) < 1e-9, rec['recovery_rate'])
    check('W: pledges paid [3,275,000, 4,425,000]', [p['paid'] for p in d['pledges']] == [3_275_000, 4_425_000], d['pledges'])
    check('W: days to sale 6, cash 7, registration 8', (rec['days_to_sale'], rec['days_to_cash'], rec['days_to_registration']) == (6, 7, 8), rec)
    # pushes
    ps = [p for p in B.pushes if p['channel'] == f'disposal.{cW}']
    seqs = [p['seq'] for p in ps]
    check('W pushes: snapshot then gap-free', ps and ps[0]['type'] == 'snapshot' and seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs)
    up = [(p['type'], p['ts'], p['data'].get('state')) for p in ps[1:]]
    print('  info: W pushes', [(t, (ts - T0) / DAY, st, p['data'].get('reason')) for (t, ts, st), p in zip(up, ps[1:])])
    types = [u[0] for u in up]
    want = ['sold', 'default', 'round_1', 'sold', 'risk_share', 'closed']
    check(f'W pushes: {want} in that order', [t for t in types if t in want] == want, types)
    at = {}
    for t, ts, st in up: at.setdefault(t, []).append((ts, st))
    check('W pushes: sold at T0+2d and T0+6d (settlement), default and re-run at due_at T0+4d',
          at.get('sold') == [(T0 + 2 * DAY, 'settlement'), (T0 + 6 * DAY, 'settlement')] and [x[0] for x in at.get('default', [])] == [T0 + 4 * DAY]
          and at.get('round_1', [(0, 0)])[0] == (T0 + 4 * DAY, 'round_1'), {k: [((x - T0) / DAY, s) for x, s in v] for k, v in at.items()})
    rs = [p['data'] for p in ps[1:] if p['type'] == 'risk_share']
    check('W pushes: risk_share reason names the amount', rs and str(share) in rs[0].get('reason', ''), rs)
    check('W pushes: every push has a non-empty reason', all(p['data'].get('reason') for p in ps[1:]), [p['data'] for p in ps[1:]])
    pn = [p['type'] for p in A.pushes if p['channel'] == f'disposal.{cN}']
    check('N pushes: no risk_share (no shortfall), closed last', 'risk_share' not in pn and pn[-1:] == ['closed'], pn)
    # report
    rep = await a.call('report.disposals')
    row = {r['case_id']: r for r in rep['rows']}.get(cW, {})
    check('report W: bank B, claim, hammer, net, fund_share, forfeited, defaults 1, outcome sold',
          (row.get('bank'), row.get('claim'), row.get('hammer'), row.get('net_to_bank'), row.get('fund_share'), row.get('forfeited'), row.get('defaults'), row.get('outcome'))
          == (B.pid, 5_123_456, 7_000_000, 4_425_000, share, 700_000, 1, 'sold'), row)
    check('report W: days 6 / 7 / 8, recovery_rate', (row.get('days_to_sale'), row.get('days_to_cash'), row.get('days_to_registration')) == (6, 7, 8)
          and abs(row.get('recovery_rate', 0) - (4_425_000 + share) / 5_123_456) < 1e-9, row)
    check('report totals: fund_share, forfeited, net_to_bank over both cases',
          (rep['totals']['fund_share'], rep['totals']['forfeited'], rep['totals']['net_to_bank']) == (share, 700_000, 4_425_000 + 2_010_000), rep['totals'])
run('p04', sc)
