# request_id on every method (auth.login and subscribe included); time.advance remembered like any state change;
# a login replay under the same request_id does not log another connection in; sealed-second single bid;
# Dutch closes_at before the floor; Dutch result fields; proxy ties.
from common import *
import websockets, hmac, hashlib
def sg(key, secret, ts, nonce): return hmac.new(secret.encode(), f'{key}\n{ts}\n{nonce}'.encode(), hashlib.sha256).hexdigest()
async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('individual', fund=50_000_000)
    bank = await ctx.mk('bank')
    # --- auth.login accepts request_id; replaying the same frame on another connection must not log it in
    ts = int(time.time() * 1000); nonce = os.urandom(10).hex()
    lp = {'key': X.key, 'ts': ts, 'nonce': nonce, 'sig': sg(X.key, X.secret, ts, nonce), 'request_id': 'login-1'}
    c1 = await Client.connect(ctx.url); ctx.clients.append(c1)
    r = await c1.raw('auth.login', lp)
    check('auth.login with request_id -> ok', 'result' in r and r['result'].get('participant_id') == X.pid, r)
    c2 = await Client.connect(ctx.url); ctx.clients.append(c2)
    r2 = await c2.raw('auth.login', lp)
    check('same login frame (same request_id) on another connection -> UNAUTHENTICATED (nonce seen)', r2.get('error', {}).get('code') == 'UNAUTHENTICATED', r2)
    r3 = await c2.raw('account.get', {})
    check('that connection is not logged in', r3.get('error', {}).get('code') == 'UNAUTHENTICATED', r3)
    # --- every method accepts request_id
    _, A = await new_auction(ctx, own)
    aid, cid, rnd = await new_case(ctx, bank, own, 10_000_000)
    for c, m, p in ((X, 'time.now', {}), (X, 'account.get', {}), (X, 'auction.get', {'auction_id': A}),
                    (X, 'subscribe', {'channels': [f'auction.{A}']}), (X, 'unsubscribe', {'channels': [f'auction.{A}']}),
                    (bank, 'disposal.get', {'case_id': cid}), (bank, 'report.disposals', {})):
        e = await c.errm(m, request_id=f'rq-{m}', **p)
        check(f'{m} accepts request_id', e[0] == 'OK', e)
    # --- time.advance is state-changing: a retry with the same request_id applies nothing
    n0 = await ctx.now()
    r1 = await a.call('time.advance', ms=1000, request_id='adv-1')
    r2 = await a.call('time.advance', ms=1000, request_id='adv-1')
    n1 = await ctx.now()
    check('time.advance retried with the same request_id: same reply, applied once', r1 == r2 and n1 == n0 + 1000, (r1, r2, n0, n1))
    e = await a.errm('time.advance', ms=2000, request_id='adv-1')
    check('time.advance same request_id, other ms -> DUPLICATE', e[0] == 'DUPLICATE', e)
    # --- sealed_second with a single bid pays max(reserve, start)
    now = await ctx.now()
    _, S1 = await new_auction(ctx, own, fmt='sealed_second', start=1_000_000, reserve=1_100_000)
    _, S2 = await new_auction(ctx, own, fmt='sealed_second', start=1_000_000)
    await X.call('auction.register', auction_id=S1); await X.call('auction.bid', auction_id=S1, amount=1_500_000)
    await X.call('auction.register', auction_id=S2); await X.call('auction.bid', auction_id=S2, amount=1_500_000)
    await ctx.adv(DAY)
    g1 = await a.call('auction.get', auction_id=S1); g2 = await a.call('auction.get', auction_id=S2)
    check('sealed_second single bid, reserve 1.1M: pays the reserve', g1['state'] == 'sold' and g1['price'] == 1_100_000, (g1['state'], g1['price']))
    check('sealed_second single bid, no reserve: pays start_price', g2['state'] == 'sold' and g2['price'] == 1_000_000, (g2['state'], g2['price']))
    s = await X.call('settlement.get', settlement_id=g1['settlement_id'])
    check('sealed_second settlement price = clearing price', s['price'] == 1_100_000, s)
    # --- Dutch: closes_at before the floor is reached -> unsold exactly at closes_at; accept at closes_at - 1 ok
    now = await ctx.now()
    _, D1 = await new_auction(ctx, own, fmt='dutch', start=1_000_000, closes=now + 30 * MIN,
                              dutch={'decrement': 10_000, 'interval_ms': 10 * MIN, 'floor': 500_000})
    _, D2 = await new_auction(ctx, own, fmt='dutch', start=1_000_000, closes=now + 30 * MIN,
                              dutch={'decrement': 10_000, 'interval_ms': 10 * MIN, 'floor': 500_000})
    await X.call('auction.register', auction_id=D2); await Y.call('auction.register', auction_id=D2)
    await ctx.adv(30 * MIN - 1)
    g = await a.call('auction.get', auction_id=D1)
    check('Dutch open 1 ms before closes_at, price 980000', g['state'] == 'open' and g['price'] == 980_000, (g['state'], g['price']))
    r = await Y.call('auction.accept', auction_id=D2)
    await ctx.adv(1)
    g = await a.call('auction.get', auction_id=D1)
    check('Dutch unsold at closes_at (floor not reached)', g['state'] == 'unsold', g['state'])
    g = await a.call('auction.get', auction_id=D2)
    yc = None
    check('Dutch sold: price = accepted clock price, bids 1, winner code, settlement', g['state'] == 'sold' and g['price'] == 980_000
          and g['bids'] == 1 and isinstance(g.get('winner'), str) and g['winner'] not in (X.pid, Y.pid) and g.get('settlement_id'), g)
    xa = await X.call('account.get')
    check('Dutch: registered loser deposit released (only the two sealed winner deposits stay held)', xa['cash_held'] == 200_000, xa)
    # --- proxy: tie between a proxy max and a later plain bid of the same amount -> the earlier (proxy) leads
    _, P = await new_auction(ctx, own, start=1_000_000, inc=10_000)
    xc = (await X.call('auction.register', auction_id=P))['bidder_code']; await Y.call('auction.register', auction_id=P)
    r = await X.call('auction.proxy', auction_id=P, max_amount=1_050_000)
    check('first proxy bids the start price', r['amount'] == 1_000_000 and r['leader'] == xc, r)
    e = await Y.errm('auction.bid', auction_id=P, amount=1_050_000)
    g = await a.call('auction.get', auction_id=P)
    print('  info: plain bid equal to an earlier proxy max ->', e[0], 'price', g['price'], 'leader', 'X' if g['leader'] == xc else 'Y')
    check('tie with an earlier proxy max: the earlier (X) leads at 1,050,000', g['leader'] == xc and g['price'] == 1_050_000, (e, g['price'], g['leader']))
    # --- purpose / licence consistency (informational)
    now = await ctx.now()
    for purpose, lic in (('exclusive_licence', None), ('exclusive_licence', {'kind': 'sole', 'territory': ['cn'], 'field': 'all', 'term_months': 12, 'royalty_bp': 0}),
                         ('transfer', {'kind': 'exclusive', 'territory': ['cn'], 'field': 'all', 'term_months': 12, 'royalty_bp': 0})):
        p = dict(lot=[await new_asset(ctx, own)], purpose=purpose, format='english', start_price=1_000_000, increment=10_000, deposit=100_000,
                 opens_at=now, closes_at=now + DAY)
        if lic: p['licence'] = lic
        e = await a.errm('auction.create', **p)
        print(f'  info: auction.create purpose {purpose} licence {lic and lic["kind"]} ->', e[0], e[1] if e[0] != 'OK' else '')
    e = await own.errm('auction.create', lot=[await new_asset(ctx, own)], purpose='disposal', format='english', start_price=1_000_000,
                       increment=10_000, deposit=100_000, opens_at=now, closes_at=now + DAY)
    print('  info: trader auction.create with purpose disposal ->', e[0], e[1] if e[0] != 'OK' else '')
run('t09', sc)
