# Audit a (reads, visibility, access): a disposal case sold in round 1, read by every role.
# PROTOCOL: "disposal.get | operator, that bank"; "settlement.get | its parties, operator"; "settlement.get's buyer is a
# participant id (settlements are seen only by their parties and the operator)"; "A resource that exists but belongs to
# someone else, where the caller's role could use the method on its own ...: NOT_FOUND"; check order "the role may use
# the method (FORBIDDEN); the objects named exist and are the caller's to touch (NOT_FOUND)"; "disposal.<case_id>
# (operator and that case's bank only)"; "report.disposals | operator; bank (own cases)"; "Titles appear in positions as
# {asset_id, units: 1}". Reads change nothing.
from common import *

def is_int(v): return isinstance(v, int) and not isinstance(v, bool)

async def sc(ctx):
    a = ctx.adm
    op = await ctx.mk('operator'); bank = await ctx.mk('bank'); bank2 = await ctx.mk('bank')
    own = await ctx.mk('enterprise', region='deyang')
    X = await ctx.mk('individual', fund=100_000_000); Y = await ctx.mk('individual', fund=100_000_000)
    N = await ctx.mk('enterprise', fund=100_000_000)
    bs = await ctx.mk('backstop', fund=100_000_000); rf = await ctx.mk('risk_fund')
    await a.call('account.fund', participant_id=rf.pid, amount=100_000_000)
    asset, cid, r1 = await new_case(ctx, bank, own, 10_000_000, region='deyang', loan=30_000_000,
                                    plan={'risk_fund': {'participant_id': rf.pid, 'share_bp': 5000}})
    # another bank's case, so bank2 has a case of its own
    asset2, cid2, r2 = await new_case(ctx, bank2, own, 4_000_000, region='leshan', loan=1_000_000)
    g = await a.call('auction.get', auction_id=r1)
    for c in (X, Y): await c.call('auction.register', auction_id=r1)
    await ctx.adv_to(g['opens_at'])
    await X.call('auction.bid', auction_id=r1, amount=7_000_000)
    await Y.call('auction.bid', auction_id=r1, amount=7_000_000 + tier_inc(7_000_000))
    await X.call('auction.bid', auction_id=r1, amount=7_000_000 + 2 * tier_inc(7_000_000))
    await ctx.adv_to(g['closes_at'])
    g = await a.call('auction.get', auction_id=r1)
    sid = g.get('settlement_id')
    check('round 1 sold to X with a settlement', g['state'] == 'sold' and isinstance(sid, str), g)
    price = 7_000_000 + 2 * tier_inc(7_000_000)

    # ---------- settlement.get: who may read it
    parties = {'admin': a, 'operator': op, 'buyer': X, 'pledgor(seller)': own}
    res = {k: await c.errm('settlement.get', settlement_id=sid) for k, c in parties.items()}
    for k, e in res.items():
        check(f'settlement.get by {k} -> ok', e[0] == 'OK' and e[1].get('settlement_id') == sid, e)
    e = await bank.errm('settlement.get', settlement_id=sid)
    print('  info (open reading): settlement.get by the pledgee bank (paid from the proceeds) ->', e[0])
    s = res['operator'][1]
    check('settlement fields: settlement_id, auction_id, buyer (participant id), state, price, buyer_premium, due_at, transfers[]',
          s.get('auction_id') == r1 and s.get('buyer') == X.pid and s.get('state') == 'awaiting_payment' and s.get('price') == price
          and is_int(s.get('buyer_premium')) and s.get('due_at') == g['closes_at'] + 10 * DAY and isinstance(s.get('transfers'), list), s)
    check('every party reads the same settlement', all(e[1] == s for e in res.values() if e[0] == 'OK'),
          {k: e[1] for k, e in res.items() if e[1] != s})
    for k, c in (('losing bidder', Y), ('unrelated trader', N), ('another bank', bank2), ('backstop', bs), ('risk fund of the plan', rf)):
        e = await c.errm('settlement.get', settlement_id=sid)
        check(f'settlement.get by {k} -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
        check(f'...{k}: the message does not name the buyer', X.pid not in str(e[1]), e)
    for k, c in (('operator', op), ('trader', X), ('bank', bank), ('backstop', bs), ('risk_fund', rf)):
        e = await c.errm('settlement.get', settlement_id='S-nope-9')
        check(f'settlement.get of a missing settlement by {k} -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    e1 = await Y.errm('settlement.get', settlement_id=sid); e2 = await Y.errm('settlement.get', settlement_id='S-nope-9')
    print('  info: NOT_FOUND messages, existing-but-not-yours vs missing:', e1[1], '|', e2[1])
    e = await X.errm('settlement.get', settlement_id=sid, extra=1)
    check('settlement.get with an unknown field -> BAD_REQUEST naming it', e[0] == 'BAD_REQUEST' and 'extra' in e[1], e)
    e = await X.errm('settlement.get', settlement_id=5)
    check('settlement.get settlement_id as integer -> BAD_REQUEST', e[0] == 'BAD_REQUEST' and 'settlement_id' in e[1], e)

    # ---------- disposal.get: who may read it
    for k, c in (('admin', a), ('operator', op), ('pledgee bank', bank)):
        e = await c.errm('disposal.get', case_id=cid)
        check(f'disposal.get by {k} -> ok, settlement_id = the round\'s, state settlement', e[0] == 'OK' and e[1].get('settlement_id') == sid
              and e[1].get('state') == 'settlement', e)
    d = (await op.call('disposal.get', case_id=cid))
    check('disposal.get: round 1 price = hammer, claim = loan', d['rounds'][0].get('price') == price and d['claim'] == 30_000_000 and d['pledgee'] == bank.pid
          and d['pledgor'] == own.pid, d)
    check('disposal.get by bank = by operator', (await bank.call('disposal.get', case_id=cid)) == d)
    for k, c in (('buyer', X), ('pledgor', own), ('backstop', bs), ('risk fund of the plan', rf)):
        e = await c.errm('disposal.get', case_id=cid)
        check(f'disposal.get by {k} -> FORBIDDEN', e[0] == 'FORBIDDEN', e)
    e = await bank2.errm('disposal.get', case_id=cid)
    check("disposal.get of another bank's case -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    for k, c, want in (('operator', op, 'NOT_FOUND'), ('bank', bank, 'NOT_FOUND'), ('trader', X, 'FORBIDDEN'), ('risk_fund', rf, 'FORBIDDEN')):
        e = await c.errm('disposal.get', case_id='C-nope-9')
        check(f'disposal.get of a missing case by {k} -> {want}', e[0] == want, e)

    # ---------- disposal channel: admin (operator role) and that bank; a snapshot carries no other case
    for k, c in (('admin', a), ('operator', op), ('pledgee bank', bank)):
        e = await c.errm('subscribe', channels=[f'disposal.{cid}'])
        ps = [m for m in await c.drain(0.3) if m['channel'] == f'disposal.{cid}']
        check(f'subscribe disposal.<case> by {k} -> ok with a snapshot', e[0] == 'OK' and ps and ps[0]['type'] == 'snapshot', (e, ps))
        if k == 'pledgee bank':
            check('disposal snapshot to the bank names no other case', cid2 not in json.dumps(ps) and asset2 not in json.dumps(ps), ps)
            print('  info: disposal snapshot data:', ps[0]['data'] if ps else None)
    for k, c in (('buyer', X), ('pledgor', own)):
        e = await c.errm('subscribe', channels=[f'disposal.{cid}'])
        check(f'subscribe disposal.<case> by {k} -> FORBIDDEN', e[0] == 'FORBIDDEN', e)
    e = await op.errm('subscribe', channels=['disposal.C-nope-9'])
    check('subscribe to a missing case by the operator -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    e = await X.errm('subscribe', channels=['disposal.C-nope-9'])
    check('subscribe to a missing case by a trader -> FORBIDDEN (role before existence)', e[0] == 'FORBIDDEN', e)

    # ---------- report.disposals: the operator sees both banks, each bank its own; bad filters
    ro = await op.call('report.disposals')
    rb = await bank.call('report.disposals'); rb2 = await bank2.call('report.disposals')
    check('report: operator sees 2 rows, each bank 1', len(ro['rows']) == 2 and len(rb['rows']) == 1 and len(rb2['rows']) == 1, (ro, rb, rb2))
    check("report: bank's row is its case, not the other bank's", cid in json.dumps(rb['rows']) and cid2 not in json.dumps(rb['rows']), rb)
    check("report: the bank's totals (and groups) name no other bank and none of its case", f'"{bank2.pid}"' not in json.dumps(rb)
          and cid2 not in json.dumps(rb) and rb['totals'].get('cases', 1) == 1, rb['totals'])
    ra = await a.call('report.disposals')
    check('report by admin = by operator', ra == ro, (ra, ro))
    e = await bank.errm('report.disposals', region='deyang')
    check('report bank filter region deyang -> its row', e[0] == 'OK' and len(e[1]['rows']) == 1, e)
    e = await bank.errm('report.disposals', region='leshan')
    check("report bank filter region of the other bank's case -> no rows", e[0] == 'OK' and len(e[1]['rows']) == 0, e)
    for p, field in ((dict(region='Deyang'), 'region'), (dict(region=''), 'region'), (dict(**{'from': 1.5}), 'from'),
                     (dict(to='tomorrow'), 'to'), (dict(colour='red'), 'colour')):
        e = await bank.errm('report.disposals', **p)
        check(f'report.disposals {p} -> BAD_REQUEST naming {field}', e[0] == 'BAD_REQUEST' and field in e[1], e)
    e = await bank.errm('report.disposals', bank=bank2.pid)
    print('  info: report.disposals by a bank with an extra "bank" filter naming another bank ->', e[0])
    check("report.disposals by a bank naming another bank (extra filter): refused or no rows of that bank's case",
          e[0] != 'OK' or (cid2 not in json.dumps(e[1]) and e[1]['totals'].get('cases', 0) == 0), e)
    now = await ctx.now()
    e = await op.errm('report.disposals', **{'from': now, 'to': T0})
    print('  info (open reading): report.disposals with from > to ->', e[0], e[1] if e[0] != 'OK' else len(e[1]['rows']))

    # ---------- reads changed nothing
    clients = [X, Y, own, bank, bank2, rf, bs]
    before = await snap(ctx, clients, auctions=[r1, r2], cases=[cid, cid2], sids=[sid])
    n0 = await ctx.now()
    for c in (a, op, bank, X, own):
        await c.errm('settlement.get', settlement_id=sid); await c.errm('disposal.get', case_id=cid); await c.errm('report.disposals')
        await c.errm('account.get'); await c.errm('auction.get', auction_id=r1)
    after = await snap(ctx, clients, auctions=[r1, r2], cases=[cid, cid2], sids=[sid])
    check('reads by five roles changed nothing (accounts, auctions, cases, settlement, clock)', before == after and n0 == await ctx.now(),
          {k: (before[k], after[k]) for k in before if before[k] != after[k]})

    # ---------- after pay and confirm: the title is the buyer's position, the case closes; reads by the same roles
    await X.call('settlement.pay', settlement_id=sid)
    await op.call('settlement.confirm', settlement_id=sid, registration_no='REG-1')
    acc = await X.call('account.get')
    t = [p for p in acc['positions'] if p.get('asset_id') == asset]
    check('buyer positions: the title as {asset_id, units: 1}', len(t) == 1 and t[0].get('units') == 1 and 'market_id' not in t[0], acc)
    acc = await own.call('account.get')
    check('pledgor no longer shows the title', not any(p.get('asset_id') == asset and p.get('units') for p in acc['positions']), acc)
    for k, c in parties.items():
        e = await c.errm('settlement.get', settlement_id=sid)
        check(f'confirmed settlement readable by {k}', e[0] == 'OK' and e[1]['state'] == 'confirmed', e)
    for k, c in (('losing bidder', Y), ('another bank', bank2), ('risk fund of the plan (paid a share)', rf)):
        e = await c.errm('settlement.get', settlement_id=sid)
        check(f'confirmed settlement by {k} -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    d = await bank.call('disposal.get', case_id=cid)
    check('case closed, outcome sold', d['state'] == 'closed' and d.get('outcome') == 'sold', d)
    racc = await rf.call('account.get')
    check('risk fund reads its own account (participant_id, ints)', racc['participant_id'] == rf.pid and is_int(racc['cash_available']) and is_int(racc['cash_held']), racc)
run('a02', sc)
