# What the server must remember across kill -9: PROTOCOL Idempotency "kept for 24 h of engine time" (a retry at
# 24 h - 1 ms after a restart gets the kept reply and applies nothing; past 24 h it is a new request and applies once;
# that new reply is kept across a further kill -9), Authentication "A nonce is refused if seen in the last 5 minutes,
# whether that login succeeded or not" (a nonce used before the kill is refused after the restart), Channels (after a
# restart, subscribe gives a snapshot equal to the get method, and the next push has seq = snapshot seq + 1 and, merged,
# gives the get method's result).
from mcrash import *
import hashlib, hmac

async def login_nonce(url, w, nonce):
    c = await Client.connect(url)
    ts = int(time.time() * 1000)
    sig = hmac.new(w.secret.encode(), f'{w.key}\n{ts}\n{nonce}'.encode(), hashlib.sha256).hexdigest()
    r = await c.raw('auth.login', {'key': w.key, 'ts': ts, 'nonce': nonce, 'sig': sig})
    await c.close()
    return code(r)

async def adv_to(a, t):
    n = (await a.call('time.now'))['now']
    if t > n: await a.call('time.advance', ms=t - n)

async def restart(srv, name, conns):
    srv.proc.send_signal(signal.SIGKILL); srv.proc.wait(); await close_all(conns)
    srv._start(name, T0, ())
    return await login(srv.url, ADMIN)

async def scenario(srv):
    ctx = Ctx(srv.url); await ctx.admin(); a = ctx.adm
    O = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=10_000_000); Y = await ctx.mk('individual', fund=10_000_000)
    WX, WY = who('X', X), who('Y', Y)
    _, A = await new_auction(ctx, O, start=1_000_000, inc=10_000, dep=100_000, closes=T0 + 3 * DAY)
    await X.call('auction.register', auction_id=A); await Y.call('auction.register', auction_id=A)
    await adv_to(a, T0 + HOUR)
    p = {'participant_id': X.pid, 'amount': 5, 'request_id': 'keep-24h'}
    r1 = await a.raw('account.fund', dict(p))
    check('account.fund at 1 h applied', code(r1) == 'OK' and r1['result']['cash_available'] == 9_900_005, r1)
    nonce_ok = os.urandom(10).hex(); nonce_bad = os.urandom(10).hex()
    check('login with a fresh nonce before the kill', await login_nonce(ctx.url, WX, nonce_ok) == 'OK')
    bad = Who('X', WX.key, 'wrong-secret', WX.pid)
    check('failed login with another nonce before the kill', await login_nonce(ctx.url, bad, nonce_bad) == 'UNAUTHENTICATED')
    a = await restart(srv, 'm05-b', ctx.clients)
    url = srv.url
    check('after restart: the nonce of a successful login is refused', await login_nonce(url, WX, nonce_ok) == 'UNAUTHENTICATED')
    check('after restart: the nonce of a failed login is refused', await login_nonce(url, WX, nonce_bad) == 'UNAUTHENTICATED')
    check('after restart: a fresh nonce logs in', await login_nonce(url, WX, os.urandom(10).hex()) == 'OK')
    await adv_to(a, T0 + HOUR + DAY - 1)
    r2 = await a.raw('account.fund', dict(p))
    check('retry at 24 h - 1 ms after the restart: the kept reply', body(r2) == body(r1), (r2, r1))
    x = await a.call('account.get', participant_id=X.pid)
    check('... applied nothing', x['cash_available'] == 9_900_005, x)
    await adv_to(a, T0 + HOUR + DAY + MIN)
    r3 = await a.raw('account.fund', dict(p))
    check('retry after 24 h: a new request, applied once', code(r3) == 'OK' and r3['result']['cash_available'] == 9_900_010, r3)
    a = await restart(srv, 'm05-c', [a])
    url = srv.url
    r4 = await a.raw('account.fund', dict(p))
    check('after another kill -9: the new reply is kept', body(r4) == body(r3), (r4, r3))
    x = await a.call('account.get', participant_id=X.pid)
    check('... applied nothing', x['cash_available'] == 9_900_010, x)
    # channels after restart: snapshot, then gap-free updates that merge to auction.get
    Xc = await login(url, WX); Yc = await login(url, WY)
    await a.call('subscribe', channels=[f'auction.{A}']); await Xc.call('subscribe', channels=['private'])
    await asyncio.sleep(0.2)
    sa = [q for q in a.pushes if q['channel'] == f'auction.{A}']; sp = [q for q in Xc.pushes if q['channel'] == 'private']
    g = await a.call('auction.get', auction_id=A); acc = await Xc.call('account.get')
    check('auction snapshot after restart = auction.get', len(sa) == 1 and sa[0]['type'] == 'snapshot' and sa[0]['data'] == g, (sa, g))
    check('private snapshot after restart = account.get', len(sp) == 1 and sp[0]['type'] == 'snapshot' and sp[0]['data'] == acc, (sp, acc))
    a.pushes.clear()
    await Xc.call('auction.bid', auction_id=A, amount=1_000_000)
    await asyncio.sleep(0.3)
    ups = [q for q in a.pushes if q['channel'] == f'auction.{A}']
    g2 = await a.call('auction.get', auction_id=A)
    merged = dict(sa[0]['data']) if sa else {}
    for q in ups: merged.update({k: v for k, v in q['data'].items() if k in merged})  # event fields (amount, bidder...) aside
    check('first auction push after the restart snapshot: seq = snapshot seq + 1, no gaps',
          ups and sa and [q['seq'] for q in ups] == list(range(sa[0]['seq'] + 1, sa[0]['seq'] + 1 + len(ups))), ([q['seq'] for q in ups], sa and sa[0]['seq']))
    check('snapshot + updates = auction.get after the bid', merged == g2, (merged, g2))
    await close_all([a, Xc, Yc])

run_crash('m05', scenario)
