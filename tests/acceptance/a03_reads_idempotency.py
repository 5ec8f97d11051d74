# Audit a (reads, visibility, access): reads and request_id, time.now, account.get for every role.
# PROTOCOL "Idempotency": "Every method accepts an optional params.request_id ...; methods that change state remember it";
# "Edges": "request_ids for 24 h of engine time; every method accepts one, only state-changing methods remember it".
# So a read with a request_id returns the current state each time, the same request_id with other params on a read is
# not DUPLICATE, and a request_id first used on a read is still fresh for a state-changing method.
# "time.now may be called before login and returns {now, wall}"; "params is validated strictly".
# "account.get | self; admin, operator any | participant_id? -> participant_id, cash_available, cash_held, positions[...]".
from common import *

def is_int(v): return isinstance(v, int) and not isinstance(v, bool)

async def sc(ctx):
    a = ctx.adm
    op = await ctx.mk('operator'); bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=10_000_000); Y = await ctx.mk('individual', fund=10_000_000)
    bs = await ctx.mk('backstop', fund=1_000); rf = await ctx.mk('risk_fund')

    # ---------- account.get of self, every role (no participant_id, and naming itself)
    for k, c in (('operator', op), ('bank', bank), ('trader', X), ('backstop', bs), ('risk_fund', rf)):
        r1 = await c.errm('account.get'); r2 = await c.errm('account.get', participant_id=c.pid)
        ok = r1[0] == 'OK' and r2[0] == 'OK' and r1[1] == r2[1]
        d = r1[1] if r1[0] == 'OK' else {}
        check(f'account.get of self by {k} (with and without participant_id) -> same account', ok, (r1, r2))
        check(f'account.get by {k}: participant_id, cash_available, cash_held ints, positions[]', d.get('participant_id') == c.pid
              and is_int(d.get('cash_available')) and is_int(d.get('cash_held')) and isinstance(d.get('positions'), list), d)
    r = await a.errm('account.get')
    print('  info: account.get by the admin for itself ->', r)
    check('backstop account.get shows its funding in fen', (await bs.call('account.get'))['cash_available'] == 1_000)
    for k, c in (('bank', bank), ('backstop', bs), ('risk_fund', rf), ('trader', X)):
        for tgt_name, tgt in (('operator', op), ('bank', bank), ('trader', Y)):
            if tgt is c: continue
            e = await c.errm('account.get', participant_id=tgt.pid)
            check(f"account.get of the {tgt_name}'s account by {k} -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await op.errm('account.get', participant_id=rf.pid)
    check("operator reads the risk fund's account", e[0] == 'OK' and e[1]['participant_id'] == rf.pid, e)
    e = await X.errm('account.get', participant_id=None)
    print('  info: account.get with participant_id null ->', e[0])
    e = await X.errm('account.get', participant_id='')
    check("account.get participant_id '' -> BAD_REQUEST or NOT_FOUND (not someone's account)", e[0] in ('BAD_REQUEST', 'NOT_FOUND'), e)

    # ---------- time.now
    r = await a.call('time.now')
    check('time.now -> now (engine, manual) and wall (real), ints', r.get('now') == T0 and is_int(r.get('wall')) and abs(r['wall'] - time.time() * 1000) < 30_000, r)
    for k, c in (('operator', op), ('bank', bank), ('trader', X), ('backstop', bs), ('risk_fund', rf)):
        e = await c.errm('time.now')
        check(f'time.now by {k} -> same engine now', e[0] == 'OK' and e[1].get('now') == T0, e)
    e = await X.errm('time.now', verbose=1)
    check('time.now with an unknown param -> BAD_REQUEST naming it', e[0] == 'BAD_REQUEST' and 'verbose' in e[1], e)
    anon = await Client.connect(ctx.url); ctx.clients.append(anon)
    r = await anon.raw('time.now', {'request_id': 'anon-1'})
    check('time.now before login with a request_id -> {now, wall}', r.get('result', {}).get('now') == T0, r)
    r = await anon.raw('time.now', {'x': 1})
    check('time.now before login with an unknown param -> BAD_REQUEST', r.get('error', {}).get('code') == 'BAD_REQUEST', r)
    for m, p in (('account.get', {}), ('auction.get', {'auction_id': 'A-1'}), ('report.disposals', {}), ('subscribe', {'channels': ['private']})):
        r = await anon.raw(m, p)
        check(f'{m} before login -> UNAUTHENTICATED', r.get('error', {}).get('code') == 'UNAUTHENTICATED', r)
    check('no push reached the anonymous connection', not await anon.drain(0.2))

    # ---------- request_id on reads: not remembered
    rid = 'read-then-write-1'
    r1 = await X.raw('account.get', {'request_id': rid})
    await a.call('account.fund', participant_id=X.pid, amount=500)
    r2 = await X.raw('account.get', {'request_id': rid})
    check('account.get twice with one request_id, funds between: the second shows the new balance',
          r1.get('result', {}).get('cash_available') == 10_000_000 and r2.get('result', {}).get('cash_available') == 10_000_500, (r1, r2))
    t1 = await X.raw('time.now', {'request_id': 'tn-1'}); await ctx.adv(1000); t2 = await X.raw('time.now', {'request_id': 'tn-1'})
    check('time.now twice with one request_id around time.advance: the second is 1000 ms later',
          t2.get('result', {}).get('now') == t1.get('result', {}).get('now', 0) + 1000, (t1, t2))
    _, A = await new_auction(ctx, own)
    _, B = await new_auction(ctx, own)
    g1 = await X.raw('auction.get', {'auction_id': A, 'request_id': rid})
    g2 = await X.raw('auction.get', {'auction_id': B, 'request_id': rid})
    check('auction.get with a request_id used on account.get, other params -> the auction, not DUPLICATE',
          g1.get('result', {}).get('auction_id') == A and g2.get('result', {}).get('auction_id') == B, (g1, g2))
    r = await X.raw('auction.register', {'auction_id': A, 'request_id': rid})
    check('auction.register with a request_id first used only on reads -> applied (bidder_code)', 'bidder_code' in r.get('result', {}), r)
    acc = await X.call('account.get')
    check('...the deposit is held', acc['cash_held'] == 100_000, acc)
    r = await X.raw('auction.get', {'auction_id': A, 'request_id': rid})
    print('  info: auction.get reusing a request_id now remembered by auction.register ->', r.get('error', {}).get('code') or 'result')
    r3 = await X.raw('auction.register', {'auction_id': A, 'request_id': rid})
    check('auction.register retried with that request_id -> the first reply again', r3.get('result') == r.get('result') or r3.get('result', {}).get('bidder_code') is not None, r3)
    check('...nothing more held', (await X.call('account.get'))['cash_held'] == 100_000)
    # settlement.get with a request_id around a pay: fresh each time
    await X.call('auction.bid', auction_id=A, amount=1_000_000)
    await ctx.adv(DAY)
    sid = (await a.call('auction.get', auction_id=A))['settlement_id']
    s1 = await X.raw('settlement.get', {'settlement_id': sid, 'request_id': 'sg-1'})
    await X.call('settlement.pay', settlement_id=sid)
    s2 = await X.raw('settlement.get', {'settlement_id': sid, 'request_id': 'sg-1'})
    check('settlement.get twice with one request_id around a pay: awaiting_payment, then paid',
          s1.get('result', {}).get('state') == 'awaiting_payment' and s2.get('result', {}).get('state') == 'paid', (s1, s2))
    d1 = await op.raw('report.disposals', {'request_id': 'rep-1'})
    await new_case(ctx, bank, own, 10_000_000)
    d2 = await op.raw('report.disposals', {'request_id': 'rep-1'})
    check('report.disposals twice with one request_id, a case opened between: 0 rows, then 1',
          len(d1.get('result', {}).get('rows', [1])) == 0 and len(d2.get('result', {}).get('rows', [])) == 1, (d1, d2))
    # a read refused with a request_id is not remembered either
    e1 = await Y.raw('settlement.get', {'settlement_id': sid, 'request_id': 'nf-1'})
    e2 = await Y.raw('account.get', {'request_id': 'nf-1'})
    check('a refused read (NOT_FOUND) does not keep its request_id: account.get with it -> the account',
          e1.get('error', {}).get('code') == 'NOT_FOUND' and e2.get('result', {}).get('participant_id') == Y.pid, (e1, e2))
    e = await X.raw('account.get', {'request_id': 'x' * 65})
    check('account.get with a 65-char request_id -> BAD_REQUEST naming request_id', e.get('error', {}).get('code') == 'BAD_REQUEST' and 'request_id' in e['error'].get('message', ''), e)

    # ---------- methods outside the core table: printed only (the contract allows added methods)
    for m, p in (('asset.get', {'asset_id': 'AS-1'}), ('auction.list', {}), ('disposal.list', {}), ('market.get', {'market_id': 'M'}),
                 ('settlement.list', {}), ('order.get', {'market_id': 'M', 'order_id': 'O-1'}), ('participant.get', {'participant_id': Y.pid})):
        e = await X.errm(m, **p)
        print(f'  info: {m} by a trader ->', e[0], str(e[1])[:300])
run('a03', sc)
