# DOMAIN "What a bank asset manager reads": outcome (sold, sell-off, backstop, in lieu, released), rounds used,
# bidders per round, days from case open to sale / cash / registration, in aggregate by bank, region, industry and
# month; rules 9-11 with a short plan (notice, bidding, renotice 1 d, sell-off 10 d). Four cases of two banks:
# S sold in the sell-off (rule 10: the first bid at the price moves the close to 24 h after it), K bought by a
# backstop offer (rule 11), L taken in lieu, R released (plan after_sell_off release). Also: the bank and the
# operator, both subscribed to disposal.<case> at once, see the same pushes gap-free; another bank's subscribe
# to that channel is refused (PROTOCOL Channels: operator and that case's bank only).
from common import *

def near(x, y, eps=1e-9): return x is not None and y is not None and abs(x - y) < eps

async def sc(ctx):
    a = ctx.adm
    b1 = await ctx.mk('bank'); b2 = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=50_000_000)
    bs = await ctx.mk('backstop', fund=20_000_000)
    await bs.call('backstop.offer', price_bp=4000, max_amount=100_000_000, regions=['deyang'])
    V = 10_000_000
    plan = {'notice_ms': DAY, 'bidding_ms': DAY, 'renotice_ms': DAY, 'sell_off_ms': 10 * DAY}
    _, cS, _ = await new_case(ctx, b1, own, V, region='chengdu', industry='other', loan=5_000_000, plan=plan)
    _, cK, _ = await new_case(ctx, b1, own, V, region='deyang', industry='other', loan=5_000_000, plan=plan)
    _, cL, _ = await new_case(ctx, b2, own, V, region='leshan', industry='advanced_materials', loan=3_000_000, plan=plan)
    _, cR, _ = await new_case(ctx, b2, own, V, region='leshan', industry='other', loan=3_000_000, plan=dict(plan, after_sell_off='release'))
    e = await b2.err('subscribe', channels=[f'disposal.{cS}'])
    check("another bank subscribing to disposal.<case> of bank 1: refused (NOT_FOUND or FORBIDDEN)", e in ('NOT_FOUND', 'FORBIDDEN'), e)
    a2 = await Client.connect(ctx.url); await a2.login(ADMIN_KEY, ADMIN_SECRET); ctx.clients.append(a2)
    await asyncio.gather(b1.call('subscribe', channels=[f'disposal.{cS}']), a2.call('subscribe', channels=[f'disposal.{cS}']))
    # rounds 1 and 2 unsold; the sell-off opens at round 2's close (T0 + 4 d) at round 2's start, for 10 days
    await ctx.adv_to(T0 + 4 * DAY)
    d = await b1.call('disposal.get', case_id=cS)
    check('S: sell_off at T0 + 4 d, third round of kind sell_off at 5,600,000 (round 2 start = 7,000,000 - 20%)',
          d['state'] == 'sell_off' and [r['kind'] for r in d['rounds']] == ['auction', 'auction', 'sell_off'] and d['rounds'][-1]['start_price'] == 5_600_000,
          (d['state'], d['rounds']))
    so = d['rounds'][-1]['auction_id']
    g = await a.call('auction.get', auction_id=so)
    check('S: sell-off closes 10 d after round 2 closes', g['closes_at'] == T0 + 14 * DAY, (g['closes_at'] - T0) / DAY)
    await X.call('auction.register', auction_id=so)
    await ctx.adv_to(T0 + 5 * DAY)
    r = await X.call('auction.bid', auction_id=so, amount=5_600_000)
    check('S: the first bid at the price moves the close to 24 h after it', r['closes_at'] == T0 + 6 * DAY, (r['closes_at'] - T0) / DAY)
    await ctx.adv_to(T0 + 6 * DAY)
    g = await a.call('auction.get', auction_id=so)
    check('S: sold at 5,600,000 at T0 + 6 d', g['state'] == 'sold' and g['price'] == 5_600_000, g)
    await ctx.adv_to(T0 + 7 * DAY); await X.call('settlement.pay', settlement_id=g['settlement_id'])
    await ctx.adv_to(T0 + 8 * DAY); await a.call('settlement.confirm', settlement_id=g['settlement_id'], registration_no='RS')
    await ctx.adv_to(T0 + 14 * DAY)
    dk = await a.call('disposal.get', case_id=cK)
    check('K: bought by the backstop offer at 40% of valuation (4,000,000), in settlement', dk['state'] == 'settlement' and dk.get('settlement_id'), dk['state'])
    await ctx.adv_to(T0 + 15 * DAY)
    if dk.get('settlement_id'):
        sk = await a.call('settlement.get', settlement_id=dk['settlement_id'])
        check('K: settlement price 4,000,000, buyer the backstop', sk['price'] == 4_000_000 and sk['buyer'] == bs.pid, sk)
        await a.call('settlement.confirm', settlement_id=dk['settlement_id'], registration_no='RK')
    out = {c: (await a.call('disposal.get', case_id=c)) for c in (cS, cK, cL, cR)}
    check('outcomes: S sold, K backstop, L in_lieu, R released; all closed',
          [(out[c]['state'], out[c]['outcome']) for c in (cS, cK, cL, cR)] == [('closed', 'sold'), ('closed', 'backstop'), ('closed', 'in_lieu'), ('closed', 'released')],
          [(out[c]['state'], out[c]['outcome']) for c in (cS, cK, cL, cR)])
    rep = await a.call('report.disposals')
    rows = {r['case_id']: r for r in rep['rows']}
    S, K, L, R = (rows.get(c, {}) for c in (cS, cK, cL, cR))
    for c in (cS, cK, cL, cR): print('  info: row', {k: rows.get(c, {}).get(k) for k in ('case_id', 'outcome', 'rounds', 'hammer', 'net_to_bank', 'recovery_rate', 'discount_by_round', 'bidders_by_round', 'days_to_sale', 'days_to_cash', 'days_to_registration')})
    check('S row: outcome sold, 3 rounds, hammer 5,600,000, net 5,000,000 (capped at the claim), rate 1',
          (S.get('outcome'), S.get('rounds'), S.get('hammer'), S.get('net_to_bank')) == ('sold', 3, 5_600_000, 5_000_000) and near(S.get('recovery_rate'), 1.0), S)
    check('S row: discount_by_round [null, null, 0.56] (hammer / valuation in the sell-off); bidders [0, 0, 1]',
          S.get('discount_by_round') == [None, None, 0.56] and S.get('bidders_by_round') == [0, 0, 1], (S.get('discount_by_round'), S.get('bidders_by_round')))
    check('S row: days to sale 6, to cash 7, to registration 8', (S.get('days_to_sale'), S.get('days_to_cash'), S.get('days_to_registration')) == (6, 7, 8),
          (S.get('days_to_sale'), S.get('days_to_cash'), S.get('days_to_registration')))
    check('K row: outcome backstop, hammer 4,000,000, net 4,000,000, rate 0.8, days to sale = cash = 14, registration 15',
          (K.get('outcome'), K.get('hammer'), K.get('net_to_bank')) == ('backstop', 4_000_000, 4_000_000) and near(K.get('recovery_rate'), 0.8)
          and (K.get('days_to_sale'), K.get('days_to_cash'), K.get('days_to_registration')) == (14, 14, 15), K)
    check('R row: outcome released, hammer 0, net 0, rate 0, no days', (R.get('outcome'), R.get('hammer'), R.get('net_to_bank')) == ('released', 0, 0)
          and near(R.get('recovery_rate'), 0.0) and (R.get('days_to_sale'), R.get('days_to_cash'), R.get('days_to_registration')) == (None, None, None), R)
    check('L row: outcome in_lieu, 3 rounds', L.get('outcome') == 'in_lieu' and L.get('rounds') == 3, L)
    # DOMAIN: "hammer price; ... discount = hammer / valuation for each round". Taking the asset in lieu (rule 11) is
    # no sale: no round struck a hammer (its discount_by_round is all null, the report's `sold` does not count it;
    # docs/protocol.md: "recovery.hammer returns to 0 until a round sells"). Its value at the sell-off price belongs
    # in net_to_bank (the project's reading), not in hammer, or the group `discount` shows a price nobody paid.
    check('L row (in lieu): hammer 0 (no hammer price), consistent with discount_by_round all null',
          L.get('hammer') in (0, None) and all(x is None for x in L.get('discount_by_round') or []), (L.get('hammer'), L.get('discount_by_round')))
    # aggregates over outcomes: by bank and by region, from the numbers above
    t = rep['totals']
    def grp(key): return {g.get(key): g for g in t.get(f'by_{key}') or []}
    bb = grp('bank'); br = grp('region')
    check('by_bank bank 1: 2 cases, 2 sold (S and K count as sales), hammer 9,600,000, net 9,000,000, claim 10,000,000, rate 0.9',
          (bb.get(b1.pid, {}).get('cases'), bb.get(b1.pid, {}).get('hammer'), bb.get(b1.pid, {}).get('net_to_bank'), bb.get(b1.pid, {}).get('claim'))
          == (2, 9_600_000, 9_000_000, 10_000_000) and near(bb.get(b1.pid, {}).get('recovery_rate'), 0.9), bb.get(b1.pid))
    lnet = L.get('net_to_bank') or 0
    check('by_bank bank 2 (L, R): claim 6,000,000, hammer 0, net = L net, rate = L net / 6,000,000 over two closed cases',
          (bb.get(b2.pid, {}).get('cases'), bb.get(b2.pid, {}).get('claim'), bb.get(b2.pid, {}).get('hammer'), bb.get(b2.pid, {}).get('net_to_bank'))
          == (2, 6_000_000, 0, lnet) and near(bb.get(b2.pid, {}).get('recovery_rate'), lnet / 6_000_000), bb.get(b2.pid))
    check('by_region: chengdu, deyang, leshan with 1, 1, 2 cases', sorted((k, g.get('cases')) for k, g in br.items()) == [('chengdu', 1), ('deyang', 1), ('leshan', 2)], br)
    check('by_region leshan: discount null (no hammer)', br.get('leshan', {}).get('discount', 'x') is None, br.get('leshan'))
    check('totals: rounds 12 (3 each), defaults 0, cases 4', (t.get('rounds'), t.get('defaults'), t.get('cases')) == (12, 0, 4), t)
    # the disposal channel: bank and operator see the same pushes, gap-free
    await asyncio.sleep(0.2)
    p1 = [(m['seq'], m['type'], m['data']) for m in b1.pushes if m['channel'] == f'disposal.{cS}']
    p2 = [(m['seq'], m['type'], m['data']) for m in a2.pushes if m['channel'] == f'disposal.{cS}']
    check('disposal.<case>: bank and operator see the same pushes', p1 == p2 and len(p1) > 1, (len(p1), len(p2)))
    check('disposal.<case>: snapshot first, then seq one higher each push', p1 and p1[0][1] == 'snapshot' and all(p1[i + 1][0] == p1[i][0] + 1 for i in range(len(p1) - 1)),
          [(x[0], x[1]) for x in p1])

run('z06', sc)
