# DOMAIN "What a bank asset manager reads per case and in aggregate ... Aggregates by bank, region, industry and
# month, as JSON and CSV" and PROTOCOL report.disposals (operator; bank: own cases). Six cases of three banks over
# three regions, three industries and three months (manual clock): sold and confirmed (one with a risk-fund share),
# sold and paid but not confirmed, unsold into the sell-off, a winner default, one not yet open. Every aggregate
# (totals and the by_bank / by_region / by_industry / by_month groups, docs/protocol.md's reading of the open
# point) is checked against numbers computed here from the cases, not from the report's own rows; a bank's report
# holds only its own cases in rows and in every group; filters narrow the aggregates too. CSV (docs/dashboard.md:
# GET /v1/reports/disposals?format=csv, signed like auth.login): header and rows agree with the JSON report.
from common import *
import csv, io, urllib.request, urllib.error, urllib.parse, hmac, hashlib

def near(x, y, eps=1e-9): return x is not None and y is not None and abs(x - y) < eps

def http(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers.get('Content-Type', ''), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get('Content-Type', ''), e.read().decode()

def signed(base, key, secret, **q):
    ts = int(time.time() * 1000); nonce = os.urandom(12).hex()
    sig = hmac.new(secret.encode(), f'{key}\n{ts}\n{nonce}'.encode(), hashlib.sha256).hexdigest()
    q.update(key=key, ts=ts, nonce=nonce, sig=sig)
    return f'{base}/v1/reports/disposals?' + urllib.parse.urlencode(q)

MONEY = ('claim', 'valuation', 'hammer', 'net_to_bank', 'fund_share', 'forfeited')

async def sc(ctx):
    a = ctx.adm
    base = ctx.url.replace('ws://', 'http://').replace('/v1/ws', '')
    b1 = await ctx.mk('bank'); b2 = await ctx.mk('bank'); b3 = await ctx.mk('bank')
    own = await ctx.mk('enterprise')
    fund = await ctx.mk('risk_fund', fund=10_000_000)
    X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('individual', fund=50_000_000)
    V = 10_000_000
    # January (day 0)
    _, c1, a1 = await new_case(ctx, b1, own, V, region='chengdu', industry='electronic_information', loan=6_000_000)
    _, c2, a2 = await new_case(ctx, b2, own, V, region='deyang', industry='medicine_health', loan=6_000_000)
    _, c3, a3 = await new_case(ctx, b1, own, 2 * V, region='mianyang', industry='other', loan=3_000_000)
    g1 = await a.call('auction.get', auction_id=a1)
    for c, A in ((X, a1), (X, a2), (Y, a2)): await c.call('auction.register', auction_id=A)
    await ctx.adv_to(g1['opens_at'])
    await X.call('auction.bid', auction_id=a1, amount=7_000_000)
    await X.call('auction.bid', auction_id=a2, amount=7_000_000)
    await Y.call('auction.bid', auction_id=a2, amount=7_140_000)
    await ctx.adv_to(g1['closes_at'])
    s1 = (await a.call('auction.get', auction_id=a1))['settlement_id']; s2 = (await a.call('auction.get', auction_id=a2))['settlement_id']
    await ctx.adv(2 * DAY)
    await X.call('settlement.pay', settlement_id=s1); await Y.call('settlement.pay', settlement_id=s2)
    await ctx.adv(3 * DAY)
    await a.call('settlement.confirm', settlement_id=s1, registration_no='R1')        # c2 stays in settlement
    # February: c4 (day 40, risk fund 50%), c6 (day 45, winner default)
    await ctx.adv_to(T0 + 40 * DAY)
    _, c4, a4 = await new_case(ctx, b1, own, V // 2, region='chengdu', industry='medicine_health', loan=4_000_000,
                               extra_pledge={'interest': 500_000}, plan={'risk_fund': {'participant_id': fund.pid, 'share_bp': 5000}})
    await ctx.adv_to(T0 + 45 * DAY)
    _, c6, a6 = await new_case(ctx, b3, own, V, region='mianyang', industry='electronic_information', loan=5_000_000)
    # March: c5 (day 70), stays in round 1
    await ctx.adv_to(T0 + 70 * DAY)
    _, c5, a5 = await new_case(ctx, b2, own, V, region='chengdu', industry='electronic_information', loan=2_000_000)
    g4 = await a.call('auction.get', auction_id=a4)
    for c in (X, Y): await c.call('auction.register', auction_id=a4)
    await X.call('auction.register', auction_id=a6)
    await ctx.adv_to(g4['opens_at'])
    await X.call('auction.bid', auction_id=a4, amount=3_500_000); await Y.call('auction.bid', auction_id=a4, amount=3_570_000)
    await ctx.adv_to(g4['closes_at'])
    s4 = (await a.call('auction.get', auction_id=a4))['settlement_id']
    await ctx.adv(DAY); await Y.call('settlement.pay', settlement_id=s4)
    await ctx.adv(DAY); await a.call('settlement.confirm', settlement_id=s4, registration_no='R4')
    g6 = await a.call('auction.get', auction_id=a6)
    await ctx.adv_to(g6['opens_at']); await X.call('auction.bid', auction_id=a6, amount=7_000_000)
    await ctx.adv_to(g6['closes_at'])
    st6 = await a.call('settlement.get', settlement_id=(await a.call('auction.get', auction_id=a6))['settlement_id'])
    await ctx.adv_to(max(st6['due_at'] + HOUR, T0 + 90 * DAY))   # X does not pay: default
    now = await ctx.now()
    print('  info: report at day', (now - T0) / DAY)

    cases = {}
    for cid in (c1, c2, c3, c4, c5, c6):
        cases[cid] = await a.call('disposal.get', case_id=cid)
    st = {k: v['state'] for k, v in cases.items()}
    check('case states: c1, c4 closed; c2 settlement; c3 sell_off; c5 round_1; c6 back in round 1 (re-run)',
          (st[c1], st[c4], st[c2], st[c3], st[c5]) == ('closed', 'closed', 'settlement', 'sell_off', 'round_1') and st[c6] in ('round_1',), st)
    # the numbers, computed here from what happened
    E = {
        c1: dict(bank=b1.pid, region='chengdu', industry='electronic_information', month='2026-01', claim=6_000_000, valuation=V,
                 hammer=7_000_000, net_to_bank=6_000_000, fund_share=0, forfeited=0, defaults=0, closed=True, sold=True),
        c2: dict(bank=b2.pid, region='deyang', industry='medicine_health', month='2026-01', claim=6_000_000, valuation=V,
                 hammer=7_140_000, net_to_bank=0, fund_share=0, forfeited=0, defaults=0, closed=False, sold=True),
        c3: dict(bank=b1.pid, region='mianyang', industry='other', month='2026-01', claim=3_000_000, valuation=2 * V,
                 hammer=0, net_to_bank=0, fund_share=0, forfeited=0, defaults=0, closed=False, sold=False),
        c4: dict(bank=b1.pid, region='chengdu', industry='medicine_health', month='2026-02', claim=4_500_000, valuation=V // 2,
                 hammer=3_570_000, net_to_bank=3_570_000, fund_share=465_000, forfeited=0, defaults=0, closed=True, sold=True),
        c5: dict(bank=b2.pid, region='chengdu', industry='electronic_information', month='2026-03', claim=2_000_000, valuation=V,
                 hammer=0, net_to_bank=0, fund_share=0, forfeited=0, defaults=0, closed=False, sold=False),
        c6: dict(bank=b3.pid, region='mianyang', industry='electronic_information', month='2026-02', claim=5_000_000, valuation=V,
                 hammer=0, net_to_bank=700_000, fund_share=0, forfeited=700_000, defaults=1, closed=False, sold=False),
    }
    for cid, d in cases.items(): E[cid]['rounds'] = len(d['rounds'])
    rep = await a.call('report.disposals')
    rows = {r['case_id']: r for r in rep['rows']}
    check('operator: one row per case', sorted(rows) == sorted(E), sorted(rows))
    for cid, e in E.items():
        r = rows.get(cid, {})
        keys = ('bank', 'region', 'industry', 'month', 'claim', 'valuation', 'net_to_bank', 'fund_share', 'forfeited', 'defaults', 'rounds')
        diff = {k: (r.get(k), e[k]) for k in keys if r.get(k) != e[k]}
        if cid == c6 and r.get('hammer') in (0, 7_000_000): e['hammer'] = r['hammer']     # a defaulted sale's hammer: open
        if r.get('hammer') != e['hammer']: diff['hammer'] = (r.get('hammer'), e['hammer'])
        check(f'row {cid}: bank, region, industry, month, money, rounds, defaults as computed', not diff, diff)
        rr = (e['net_to_bank'] + e['fund_share']) / e['claim']
        check(f'row {cid}: recovery_rate = (net + fund share) / claim = {rr:.6f}', near(r.get('recovery_rate'), rr), r.get('recovery_rate'))
    print('  info: c6 (defaulted) row:', {k: rows[c6].get(k) for k in ('hammer', 'discount_by_round', 'days_to_sale', 'outcome', 'state')})

    def expect(group):
        """the aggregate of a list of expected rows"""
        o = {k: sum(E[c][k] for c in group) for k in MONEY + ('rounds', 'defaults')}
        o['cases'] = len(group)
        closed = [c for c in group if E[c]['closed']]
        o['closed_claim'] = sum(E[c]['claim'] for c in closed)
        o['recovery_rate'] = (sum(E[c]['net_to_bank'] + E[c]['fund_share'] for c in closed) / o['closed_claim']) if closed else None
        hm = [c for c in group if E[c]['hammer']]
        o['discount'] = ((sum(E[c]['hammer'] for c in hm) / sum(E[c]['valuation'] for c in hm)),
                         (sum(E[c]['hammer'] / E[c]['valuation'] for c in hm) / len(hm))) if hm else None
        o['sold'] = (sum(1 for c in group if E[c]['closed'] and E[c]['sold']), sum(1 for c in group if E[c]['sold']))
        return o
    def same_agg(label, got, group):
        e = expect(group)
        bad = {k: (got.get(k), e[k]) for k in MONEY + ('rounds', 'defaults', 'cases', 'closed_claim') if got.get(k) != e[k]}
        if e['recovery_rate'] is None:
            if got.get('recovery_rate') is not None: bad['recovery_rate'] = (got.get('recovery_rate'), None)
        elif not near(got.get('recovery_rate'), e['recovery_rate']): bad['recovery_rate'] = (got.get('recovery_rate'), e['recovery_rate'])
        if e['discount'] is None:
            if got.get('discount') is not None: bad['discount'] = (got.get('discount'), None)
        elif not any(near(got.get('discount'), x) for x in e['discount']): bad['discount'] = (got.get('discount'), e['discount'])
        if got.get('sold') not in e['sold']: bad['sold'] = (got.get('sold'), e['sold'])
        return check(f'{label}: sums, cases, sold, closed_claim, recovery_rate, discount as computed from the cases', not bad, bad)

    def groups(rep_, key):
        t = rep_['totals'].get(f'by_{key}')
        if not isinstance(t, list): return None
        return {g.get(key): g for g in t}
    def all_aggs(label, rep_, ids):
        same_agg(f'{label} totals', rep_['totals'], ids)
        for key in ('bank', 'region', 'industry', 'month'):
            gs = groups(rep_, key)
            want = sorted({E[c][key] for c in ids})
            if not check(f'{label} by_{key}: one group per {key} present ({want})', gs is not None and sorted(gs) == want, gs and sorted(gs)):
                continue
            for v in want:
                same_agg(f'{label} by_{key}[{v}]', gs[v], [c for c in ids if E[c][key] == v])
    all_aggs('operator', rep, list(E))
    # a bank: only its own cases, in rows and in every group
    r1 = await b1.call('report.disposals')
    check('bank 1: rows are exactly its cases', sorted(x['case_id'] for x in r1['rows']) == sorted([c1, c3, c4]), [x['case_id'] for x in r1['rows']])
    all_aggs('bank 1', r1, [c1, c3, c4])
    r3 = await b3.call('report.disposals')
    all_aggs('bank 3', r3, [c6])
    # filters narrow the aggregates too
    rc = await a.call('report.disposals', region='chengdu')
    all_aggs('operator region=chengdu', rc, [c1, c4, c5])
    rf = await a.call('report.disposals', **{'from': T0 + 32 * DAY, 'to': T0 + 60 * DAY})
    all_aggs('operator February (from/to)', rf, [c4, c6])
    r2c = await b2.call('report.disposals', region='chengdu')
    all_aggs('bank 2 region=chengdu', r2c, [c5])

    # CSV and JSON over HTTP (docs/dashboard.md), operator and a bank
    st_, ct, body = http(signed(base, ADMIN_KEY, ADMIN_SECRET))
    check('HTTP JSON report: 200, equal to report.disposals over the WebSocket', st_ == 200 and json.loads(body) == rep, (st_, body[:300]))
    st_, ct, body = http(signed(base, ADMIN_KEY, ADMIN_SECRET, format='csv'))
    check('HTTP CSV report: 200 text/csv', st_ == 200 and ct.startswith('text/csv'), (st_, ct, body[:200]))
    print('  info: CSV\n    ' + '\n    '.join(body.splitlines()[:4]) + '\n    ...\n    ' + '\n    '.join(body.splitlines()[-3:]))
    lines = list(csv.reader(io.StringIO(body)))
    hdr = lines[0] if lines else []
    recs = [dict(zip(hdr, l)) for l in lines[1:] if l]
    check('CSV: every line has as many fields as the header', all(len(l) == len(hdr) for l in lines[1:] if l), [len(l) for l in lines])
    check('CSV header: level and the row fields', 'level' in hdr and all(k in hdr for k in ('case_id', 'bank', 'region', 'industry', 'month') + MONEY + ('recovery_rate',)), hdr)
    def num(s):
        if s == '': return None
        try: return int(s)
        except ValueError: return float(s)
    def same_csv(label, rec, js, keys):
        bad = {}
        for k in keys:
            if k not in hdr: continue
            v = js.get(k)
            if isinstance(v, list): want = ';'.join('' if x is None else str(x) for x in v); got = rec.get(k)
            elif isinstance(v, float) or isinstance(v, int) and not isinstance(v, bool):
                got = num(rec.get(k, '')); want = v
                if isinstance(v, float) or isinstance(got, float):
                    if got is None or abs(got - v) > 1e-6: bad[k] = (rec.get(k), v)
                    continue
            elif v is None: want, got = '', rec.get(k)
            else: want, got = str(v), rec.get(k)
            if got != want: bad[k] = (rec.get(k), v)
        return check(f'CSV {label} = JSON', not bad, bad)
    case_lines = {r['case_id']: r for r in recs if r.get('level') == 'case'}
    check('CSV: one case line per JSON row', sorted(case_lines) == sorted(rows), sorted(case_lines))
    for cid, r in rows.items():
        if cid in case_lines:
            same_csv(f'case {cid}', case_lines[cid], r, [k for k in r if k not in ('discount_by_round',)])
            dbr = case_lines[cid].get('discount_by_round', '')
            got = [num(x) for x in dbr.split(';')] if dbr != '' or r['discount_by_round'] == [None] else []
            check(f'CSV case {cid}: discount_by_round = JSON', len(got) == len(r['discount_by_round']) and
                  all((x is None and y is None) or (x is not None and y is not None and abs(x - y) < 1e-6) for x, y in zip(got, r['discount_by_round'])),
                  (dbr, r['discount_by_round']))
    for key in ('bank', 'region', 'industry', 'month'):
        gl = {r.get(key): r for r in recs if r.get('level') == key}
        gj = groups(rep, key) or {}
        check(f'CSV: one {key} line per JSON by_{key} group', sorted(gl) == sorted(gj), (sorted(gl), sorted(gj)))
        for v, g in gj.items():
            if v in gl: same_csv(f'{key} {v}', gl[v], g, [k for k in g if not isinstance(g[k], (list, dict))])
    tl = [r for r in recs if r.get('level') == 'total']
    check('CSV: one total line', len(tl) == 1, len(tl))
    if tl: same_csv('total', tl[0], rep['totals'], [k for k in rep['totals'] if not isinstance(rep['totals'][k], (list, dict))])
    # a bank over HTTP: its own cases only, in JSON and in CSV
    st_, ct, body = http(signed(base, b1.key, b1.secret))
    check('HTTP JSON as bank 1 = its report.disposals', st_ == 200 and json.loads(body) == r1, (st_, body[:200]))
    st_, ct, body = http(signed(base, b1.key, b1.secret, format='csv'))
    recs1 = [dict(zip(hdr, l)) for l in list(csv.reader(io.StringIO(body)))[1:] if l]
    check('HTTP CSV as bank 1: case lines only its cases; bank lines only itself',
          sorted(r.get('case_id') for r in recs1 if r.get('level') == 'case') == sorted([c1, c3, c4])
          and [r.get('bank') for r in recs1 if r.get('level') == 'bank'] == [b1.pid], [(r.get('level'), r.get('case_id'), r.get('bank')) for r in recs1])
    st_, ct, body = http(signed(base, X.key, X.secret, format='csv'))
    check('HTTP report as a trader: 403 FORBIDDEN', st_ == 403 and 'FORBIDDEN' in body, (st_, body[:200]))
    st_, ct, body = http(f'{base}/v1/reports/disposals?format=csv')
    check('HTTP report unsigned: 401 UNAUTHENTICATED', st_ == 401 and 'UNAUTHENTICATED' in body, (st_, body[:200]))
    u = signed(base, b1.key, b1.secret, format='csv')
    http(u); st_, ct, body = http(u)
    check('HTTP report: a replayed signed URL (nonce reused) is 401', st_ == 401, (st_, body[:200]))
    e = await fund.err('report.disposals')
    check('risk_fund (no roles): report.disposals FORBIDDEN', e == 'FORBIDDEN', e)

run('z04', sc)
