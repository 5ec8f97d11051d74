# DOMAIN rule 14 / 13 / 8 money, exactly in fen: claim = principal + interest + penalties + costs; several pledgees paid
# in registration order; surplus to the pledgor; shortfall stays; escrow until settlement.confirm; deposits held/released
# (cash_held / cash_available of every participant at each step); money conserved; premium + commission on a consented listing.
from common import *
async def accts(ctx, cs): return {c.pid: await ctx.adm.call('account.get', participant_id=c.pid) for c in cs}
def total(acc): return sum(v['cash_available'] + v['cash_held'] for v in acc.values())
async def sc(ctx):
    a = ctx.adm
    bA = await ctx.mk('bank'); bB = await ctx.mk('bank'); bC = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    F = 50_000_000
    X = await ctx.mk('individual', fund=F); Y = await ctx.mk('individual', fund=F); Z = await ctx.mk('enterprise', fund=F)
    everyone = [bA, bB, bC, own, X, Y, Z]; FUNDED = 3 * F
    V = 10_000_000   # 100k CNY: start 7,000,000, deposit 700,000, increment 2% = 140,000
    # ---- Part A: three pledges, senior opens; price covers A and B in full, C in part
    asset = await new_asset(ctx, own, valuation=V)
    p = await bA.call('pledge.register', asset_id=asset, pledgee=bA.pid, loan_outstanding=2_000_000, registration_no='A-1',
                      interest=150_000, penalties=50_000, costs=25_000)
    check('A: claim = principal + interest + penalties + costs = 2,225,000', p['claim'] == 2_225_000, p)
    p = await bB.call('pledge.register', asset_id=asset, pledgee=bB.pid, loan_outstanding=4_000_000, registration_no='B-1', interest=300_000)
    check('B: claim 4,300,000', p['claim'] == 4_300_000, p)
    p = await bC.call('pledge.register', asset_id=asset, pledgee=bC.pid, loan_outstanding=3_000_000, registration_no='C-1')
    r = await bA.call('disposal.open', assets=[asset], pledgee=bA.pid, pledgor=own.pid, valuation=V)
    cid, aid = r['case_id'], r['auction_id']
    d = await bA.call('disposal.get', case_id=cid)
    check('case claim = the opening pledgee\'s claim 2,225,000', d['claim'] == 2_225_000, d['claim'])
    g = await a.call('auction.get', auction_id=aid)
    check('start 7,000,000 / deposit 700,000 / increment 140,000', (g['start_price'], g['deposit'], g['increment']) == (7_000_000, 700_000, 140_000),
          (g['start_price'], g['deposit'], g['increment']))
    for c in (X, Y, Z): await c.call('auction.register', auction_id=aid)
    acc = await accts(ctx, everyone)
    check('after register: each bidder held 700,000, available 49,300,000',
          all((acc[c.pid]['cash_held'], acc[c.pid]['cash_available']) == (700_000, F - 700_000) for c in (X, Y, Z)), [acc[c.pid] for c in (X, Y, Z)])
    check('conserved after register', total(acc) == FUNDED, total(acc))
    await ctx.adv_to(g['opens_at'])
    await X.call('auction.bid', auction_id=aid, amount=7_000_000)
    await Y.call('auction.bid', auction_id=aid, amount=7_140_000)
    r = await X.call('auction.bid', auction_id=aid, amount=7_280_000)
    check('min_next_bid after 7,280,000 = 7,420,000', r['min_next_bid'] == 7_420_000, r)
    acc = await accts(ctx, everyone)
    check('bids move no money (deposits only)', all(acc[c.pid]['cash_held'] == 700_000 for c in (X, Y, Z)), [acc[c.pid] for c in (X, Y, Z)])
    await ctx.adv_to(g['closes_at'])
    g = await a.call('auction.get', auction_id=aid)
    check('sold to X at 7,280,000', g['state'] == 'sold' and g['price'] == 7_280_000, (g['state'], g['price']))
    acc = await accts(ctx, everyone)
    check('at close: losers Y, Z released in full', all((acc[c.pid]['cash_held'], acc[c.pid]['cash_available']) == (0, F) for c in (Y, Z)), [acc[c.pid] for c in (Y, Z)])
    check('at close: winner X deposit still held', (acc[X.pid]['cash_held'], acc[X.pid]['cash_available']) == (700_000, F - 700_000), acc[X.pid])
    check('at close: nobody paid yet (banks, pledgor 0)', all(acc[c.pid]['cash_available'] + acc[c.pid]['cash_held'] == 0 for c in (bA, bB, bC, own)), acc)
    sid = g['settlement_id']
    s = await X.call('settlement.get', settlement_id=sid)
    check('settlement: price 7,280,000, no premium, due close + 10 d', (s['price'], s['buyer_premium'], s['due_at']) == (7_280_000, 0, g['closes_at'] + 10 * DAY), s)
    await ctx.adv(DAY)
    s = await X.call('settlement.pay', settlement_id=sid)
    check('pay -> paid', s['state'] == 'paid', s['state'])
    acc = await accts(ctx, everyone)
    check('after pay: X held = price 7,280,000 (deposit counts), available 42,720,000',
          (acc[X.pid]['cash_held'], acc[X.pid]['cash_available']) == (7_280_000, F - 7_280_000), acc[X.pid])
    check('after pay: escrow, nobody paid before confirm (rule 8)', all(acc[c.pid]['cash_available'] + acc[c.pid]['cash_held'] == 0 for c in (bA, bB, bC, own)), acc)
    check('conserved after pay', total(acc) == FUNDED, total(acc))
    d = await bA.call('disposal.get', case_id=cid)
    check('case in settlement until confirm', d['state'] == 'settlement', d['state'])
    await ctx.adv(DAY)
    await a.call('settlement.confirm', settlement_id=sid, registration_no='REG-A')
    acc = await accts(ctx, everyone)
    got = tuple(acc[c.pid]['cash_available'] for c in (bA, bB, bC, own))
    check('registration order: A 2,225,000, B 4,300,000, C 755,000, pledgor 0', got == (2_225_000, 4_300_000, 755_000, 0), got)
    check('after confirm: X held 0, available 42,720,000, owns the asset', acc[X.pid]['cash_held'] == 0 and acc[X.pid]['cash_available'] == F - 7_280_000
          and (pos(acc[X.pid], asset) or {}).get('units') == 1, acc[X.pid])
    check('pledgor no longer holds the asset', pos(acc[own.pid], asset) is None, acc[own.pid])
    check('conserved after confirm', total(acc) == FUNDED, total(acc))
    d = await bA.call('disposal.get', case_id=cid)
    rec = d['recovery']
    check('case closed sold; recovery hammer 7,280,000 net 2,225,000 rate 1.0',
          d['state'] == 'closed' and d['outcome'] == 'sold' and rec.get('hammer') == 7_280_000 and rec.get('net_to_bank') == 2_225_000
          and abs(rec.get('recovery_rate', -1) - 1.0) < 1e-12, (d['state'], d['outcome'], rec))
    # ---- Part B: one pledgee, all four parts, surplus to the pledgor
    asset2 = await new_asset(ctx, own, valuation=V)
    p = await bC.call('pledge.register', asset_id=asset2, pledgee=bC.pid, loan_outstanding=3_000_000, registration_no='C-2',
                      interest=200_000, penalties=100_000, costs=50_000)
    check('claim 3,350,000', p['claim'] == 3_350_000, p)
    r = await bC.call('disposal.open', assets=[asset2], pledgee=bC.pid, pledgor=own.pid, valuation=V)
    cid2, aid2 = r['case_id'], r['auction_id']
    g2 = await a.call('auction.get', auction_id=aid2)
    await Z.call('auction.register', auction_id=aid2)
    await ctx.adv_to(g2['opens_at']); await Z.call('auction.bid', auction_id=aid2, amount=7_000_000); await ctx.adv_to(g2['closes_at'])
    g2 = await a.call('auction.get', auction_id=aid2)
    await Z.call('settlement.pay', settlement_id=g2['settlement_id'])
    before = await accts(ctx, everyone)
    await a.call('settlement.confirm', settlement_id=g2['settlement_id'], registration_no='REG-B')
    acc = await accts(ctx, everyone)
    dc = acc[bC.pid]['cash_available'] - before[bC.pid]['cash_available']; do = acc[own.pid]['cash_available'] - before[own.pid]['cash_available']
    check('surplus: pledgee +3,350,000 (capped at claim), pledgor +3,650,000', (dc, do) == (3_350_000, 3_650_000), (dc, do))
    check('conserved after B', total(acc) == FUNDED, total(acc))
    d2 = await bC.call('disposal.get', case_id=cid2)
    check('B recovery: net 3,350,000, rate 1.0', d2['recovery'].get('net_to_bank') == 3_350_000 and abs(d2['recovery'].get('recovery_rate', -1) - 1.0) < 1e-12, d2['recovery'])
    # ---- Part C: shortfall stays: claim 9,500,000 sold at 7,000,000 -> bank gets all, pledgor nothing
    asset3 = await new_asset(ctx, own, valuation=V)
    await bB.call('pledge.register', asset_id=asset3, pledgee=bB.pid, loan_outstanding=9_000_000, registration_no='B-3', interest=400_000, costs=100_000)
    r = await bB.call('disposal.open', assets=[asset3], pledgee=bB.pid, pledgor=own.pid, valuation=V)
    cid3, aid3 = r['case_id'], r['auction_id']
    g3 = await a.call('auction.get', auction_id=aid3)
    await Y.call('auction.register', auction_id=aid3)
    await ctx.adv_to(g3['opens_at']); await Y.call('auction.bid', auction_id=aid3, amount=7_000_000); await ctx.adv_to(g3['closes_at'])
    g3 = await a.call('auction.get', auction_id=aid3)
    await Y.call('settlement.pay', settlement_id=g3['settlement_id'])
    before = await accts(ctx, everyone)
    await a.call('settlement.confirm', settlement_id=g3['settlement_id'], registration_no='REG-C')
    acc = await accts(ctx, everyone)
    db = acc[bB.pid]['cash_available'] - before[bB.pid]['cash_available']; do = acc[own.pid]['cash_available'] - before[own.pid]['cash_available']
    check('shortfall: bank +7,000,000, pledgor +0', (db, do) == (7_000_000, 0), (db, do))
    d3 = await bB.call('disposal.get', case_id=cid3)
    check('C claim 9,500,000; recovery rate 7,000,000 / 9,500,000', d3['claim'] == 9_500_000 and abs(d3['recovery'].get('recovery_rate', -1) - 7_000_000 / 9_500_000) < 1e-9,
          (d3['claim'], d3['recovery']))
    check('conserved after C', total(acc) == FUNDED, total(acc))
    # ---- Part D: a consented voluntary listing of a twice-pledged asset with a 10% buyer premium and 15% seller commission
    asset4 = await new_asset(ctx, own, valuation=V)
    await bA.call('pledge.register', asset_id=asset4, pledgee=bA.pid, loan_outstanding=1_000_000, registration_no='A-4', penalties=20_000)
    await bB.call('pledge.register', asset_id=asset4, pledgee=bB.pid, loan_outstanding=2_000_000, registration_no='B-4')
    await bA.call('pledge.consent', asset_id=asset4); await bB.call('pledge.consent', asset_id=asset4)
    now = await ctx.now()
    r = await own.call('auction.create', lot=[asset4], purpose='transfer', format='english', start_price=6_000_000, increment=100_000, deposit=600_000,
                       opens_at=now, closes_at=now + DAY, buyer_premium_bp=1000, seller_commission_bp=1500)
    aid4 = r['auction_id']
    await Z.call('auction.register', auction_id=aid4); await Z.call('auction.bid', auction_id=aid4, amount=6_000_000)
    await ctx.adv(DAY)
    g4 = await a.call('auction.get', auction_id=aid4)
    s4 = await Z.call('settlement.get', settlement_id=g4['settlement_id'])
    check('premium 10% of 6,000,000 = 600,000', s4['buyer_premium'] == 600_000, s4)
    z0 = await Z.call('account.get')
    await Z.call('settlement.pay', settlement_id=g4['settlement_id'])
    z1 = await Z.call('account.get')
    check('pay moves price + premium - deposit = 6,000,000 from available; held = 6,600,000',
          z0['cash_available'] - z1['cash_available'] == 6_000_000 and z1['cash_held'] == 6_600_000, (z0, z1))
    before = await accts(ctx, everyone)
    await a.call('settlement.confirm', settlement_id=g4['settlement_id'], registration_no='REG-D')
    acc = await accts(ctx, everyone)
    dl = lambda c: acc[c.pid]['cash_available'] - before[c.pid]['cash_available']
    check('consented listing: pledgees first in registration order (A 1,020,000, B 2,000,000), owner price - 15% - claims = 2,080,000',
          (dl(bA), dl(bB), dl(own)) == (1_020_000, 2_000_000, 6_000_000 - 900_000 - 3_020_000), (dl(bA), dl(bB), dl(own)))
    check('buyer Z: held 0 after confirm', acc[Z.pid]['cash_held'] == 0, acc[Z.pid])
    fees = 600_000 + 900_000
    adm = await a.call('account.get')
    t = total(acc) + adm['cash_available'] + adm['cash_held']
    print(f'  info: after fees, participants total {total(acc)}, admin {adm}, funded {FUNDED}, fees {fees}')
    check('money conserved: participants (+admin) = funded, or funded - fees (fees to the exchange)', t in (FUNDED, FUNDED - fees), (t, FUNDED, fees))
    rep = await bA.call('report.disposals')
    check('bank A report: only its own case', [x['case_id'] for x in rep['rows']] == [cid], [x['case_id'] for x in rep['rows']])
run('u01', sc)
