# --edge with Redis (docs/protocol.md "Transport": a read-only edge fed by the main's Redis Streams) and IPX_REDIS from
# the environment (PROTOCOL "Running the server"). A private redis-server of the scenario's own; the main takes Redis
# from IPX_REDIS only, the edge from --redis. On the edge: its ready line; /healthz, /readyz; time.now before login
# following the main's manual clock; auth.login with the main's credentials (admin and a participant created on the
# main), a nonce used on the main refused; subscribe to auction.*, book.*, trades.* with the main's snapshots and seq
# numbers and the same pushes (ts an engine time); private, disposal.* and state-changing methods FORBIDDEN with
# nothing applied; GET /v1/auctions/<id> as the main's; /v1/reports/disposals 403; --edge without Redis refuses to start.
from qops import *
from common import new_auction, new_asset, LIC
import shutil

def free_port():
    s = socket.socket(); s.bind(('127.0.0.1', 0)); p = s.getsockname()[1]; s.close(); return p

async def until(fn, secs=3.0):
    """poll an async predicate for up to secs; returns its last value"""
    t = time.monotonic(); v = None
    while time.monotonic() - t < secs:
        v = await fn()
        if v: return v
        await asyncio.sleep(0.05)
    return v

def strip_ts(pushes):
    return [(p['channel'], p['seq'], p['type'], p['data']) for p in pushes]

async def scenario(main_hp, edge_hp):
    M = f'ws://{main_hp}/v1/ws'; E = f'ws://{edge_hp}/v1/ws'
    adm = await ws_login(M, ADMIN_KEY, ADMIN_SECRET)
    ctx = Ctx(M); ctx.adm = adm; ctx.clients.append(adm)
    try:
        st = http_get(f'http://{edge_hp}/healthz'); check('edge /healthz 200', st[0] == 200, st)
        rz = await until(lambda: asyncio.sleep(0, http_get(f'http://{edge_hp}/readyz')[0] == 200), 5)
        check('edge /readyz 200 once synchronised', rz, http_get(f'http://{edge_hp}/readyz'))
        e0 = Client(await websockets.connect(E, max_size=None)); ctx.clients.append(e0)
        n = await e0.errm('time.now')
        check('edge time.now before login = the main\'s engine time', n[0] == 'OK' and n[1]['now'] == T0, n)
        check('edge: subscribe before login -> UNAUTHENTICATED', await e0.err('subscribe', channels=['private']) == 'UNAUTHENTICATED')
        await adm.call('time.advance', ms=1234)
        n2 = await until(lambda: _edge_now_is(e0, T0 + 1234), 3)
        check('edge time.now follows time.advance on the main (manual clock)', n2, await e0.call('time.now'))

        own = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('enterprise', fund=50_000_000)
        # credentials created on the main log in on the edge; a nonce used on the main is refused on the edge
        ex = Client(await websockets.connect(E, max_size=None)); ctx.clients.append(ex)
        r = await until(lambda: _try_login(ex, X.key, X.secret), 3)
        check('edge auth.login with a participant created on the main', r and r.get('participant_id') == X.pid, r)
        ts = int(time.time() * 1000); nonce = 'q02nonce' + os.urandom(6).hex()
        sig = hmac.new(ADMIN_SECRET.encode(), f'{ADMIN_KEY}\n{ts}\n{nonce}'.encode(), hashlib.sha256).hexdigest()
        m2 = Client(await websockets.connect(M, max_size=None)); ctx.clients.append(m2)
        r1 = await m2.errm('auth.login', key=ADMIN_KEY, ts=ts, nonce=nonce, sig=sig)
        ea = Client(await websockets.connect(E, max_size=None)); ctx.clients.append(ea)
        r2 = await ea.errm('auth.login', key=ADMIN_KEY, ts=ts, nonce=nonce, sig=sig)
        check('nonce used on the main is refused on the edge (UNAUTHENTICATED)', r1[0] == 'OK' and r2[0] == 'UNAUTHENTICATED', (r1, r2))
        await ea.login(ADMIN_KEY, ADMIN_SECRET)

        # an auction: main and edge subscribers see the same snapshot and pushes
        _, A = await new_auction(ctx, own, start=1_000_000, inc=10_000, dep=100_000, extend_window_ms=5 * MIN)
        await asyncio.sleep(0.4)
        await adm.call('subscribe', channels=[f'auction.{A}'])
        got = await until(lambda: _sub(ex, [f'auction.{A}']), 3)
        check('edge subscribe auction.<id> ok', got, got)
        await asyncio.sleep(0.4)
        sm = [p for p in adm.pushes if p['type'] == 'snapshot']; se = [p for p in ex.pushes if p['type'] == 'snapshot']
        check('edge snapshot = main snapshot (seq and data)', sm and se and strip_ts(sm) == strip_ts(se), (sm, se))
        check('edge snapshot ts is an engine time like the main\'s', sm and se and se[0]['ts'] == sm[0]['ts'], (sm[0]['ts'] if sm else None, se[0]['ts'] if se else None))
        adm.pushes.clear(); ex.pushes.clear()
        await X.call('auction.register', auction_id=A); await Y.call('auction.register', auction_id=A)
        await X.call('auction.bid', auction_id=A, amount=1_000_000)
        await Y.call('auction.bid', auction_id=A, amount=1_010_000)
        await ctx.adv(DAY - 2 * MIN)
        await X.call('auction.bid', auction_id=A, amount=1_020_000)   # extends the close
        await ctx.adv(10 * MIN)                                        # closes
        await until(lambda: asyncio.sleep(0, len(ex.pushes) >= len(adm.pushes) and any(p['type'] != 'snapshot' for p in adm.pushes)), 3)
        await asyncio.sleep(0.4)
        check('edge auction pushes = main pushes (register, bids, extension, close; same seq)',
              adm.pushes and strip_ts(adm.pushes) == strip_ts(ex.pushes), (strip_ts(adm.pushes)[-3:], strip_ts(ex.pushes)[-3:]))
        check('edge push ts = main push ts', [p['ts'] for p in adm.pushes] == [p['ts'] for p in ex.pushes],
              ([p['ts'] for p in adm.pushes], [p['ts'] for p in ex.pushes]))
        g = await adm.call('auction.get', auction_id=A)
        hm = http_get(f'http://{main_hp}/v1/auctions/{A}'); he = http_get(f'http://{edge_hp}/v1/auctions/{A}')
        check('edge GET /v1/auctions/<id> = main\'s', he[0] == 200 and json.loads(he[1]) == json.loads(hm[1]), (hm, he))
        check('auction sold on the main', g['state'] == 'sold', g)

        # a market: book and trades channels on the edge
        asset = await new_asset(ctx, own)
        await own.call('market.create', market_id='Q2M', asset_id=asset, licence=LIC, tick=100, min_qty=1)
        await own.call('units.issue', market_id='Q2M', qty=100)
        await own.call('order.place', market_id='Q2M', side='sell', type='limit', price=1000, qty=10, tif='gtc', client_order_id='s1')
        await asyncio.sleep(0.4)
        adm.pushes.clear(); ex.pushes.clear()
        await adm.call('subscribe', channels=['book.Q2M', 'trades.Q2M'])
        ok = await until(lambda: _sub(ex, ['book.Q2M']), 3)
        check('edge subscribe book.<m> ok', ok)
        t = await ex.errm('subscribe', channels=['trades.Q2M'])
        check('edge subscribe trades.<m> of a market with no trade yet ok (as on the main)', t[0] == 'OK', t)
        await asyncio.sleep(0.3)
        await X.call('order.place', market_id='Q2M', side='buy', type='limit', price=1000, qty=4, tif='gtc', client_order_id='b1')
        await X.call('order.place', market_id='Q2M', side='buy', type='limit', price=900, qty=3, tif='gtc', client_order_id='b2')
        await asyncio.sleep(0.6)
        key = lambda ps, ch: [x for x in strip_ts(ps) if x[0] == ch]
        check('edge book.<m> snapshot and updates = main\'s', key(adm.pushes, 'book.Q2M') and key(adm.pushes, 'book.Q2M') == key(ex.pushes, 'book.Q2M'),
              (key(adm.pushes, 'book.Q2M'), key(ex.pushes, 'book.Q2M')))
        if t[0] == 'OK':
            check('edge trades.<m> snapshot and trade push = main\'s', key(adm.pushes, 'trades.Q2M') == key(ex.pushes, 'trades.Q2M'),
                  (key(adm.pushes, 'trades.Q2M'), key(ex.pushes, 'trades.Q2M')))
        else:
            t2 = await ex.errm('subscribe', channels=['trades.Q2M'])
            print('  info: edge subscribe trades.<m> after its first trade ->', t2)

        # read-only: private, disposal.*, state-changing methods refused, nothing applied
        check('edge subscribe private -> FORBIDDEN', await ex.err('subscribe', channels=['private']) == 'FORBIDDEN')
        check('edge subscribe disposal.C-1 (as admin) -> FORBIDDEN', await ea.err('subscribe', channels=['disposal.C-1']) == 'FORBIDDEN')
        before = await adm.call('account.get', participant_id=X.pid)
        e1 = await ex.err('order.place', market_id='Q2M', side='buy', type='limit', price=1000, qty=1, tif='gtc', client_order_id='edge1')
        e2 = await ea.err('account.fund', participant_id=X.pid, amount=1000)
        e3 = await ea.err('time.advance', ms=1000)
        after = await adm.call('account.get', participant_id=X.pid)
        check('edge state-changing methods -> FORBIDDEN, nothing applied', (e1, e2, e3) == ('FORBIDDEN',) * 3 and before == after, (e1, e2, e3))
        check('main engine time not moved by the edge', (await adm.call('time.now'))['now'] == T0 + 1234 + DAY + 8 * MIN, await adm.call('time.now'))
        rp = http_get(f'http://{edge_hp}/v1/reports/disposals')
        check('edge /v1/reports/disposals -> 403', rp[0] == 403, rp)
    finally:
        for c in ctx.clients:
            try: await c.close()
            except Exception: pass

async def _edge_now_is(c, want):
    return (await c.call('time.now'))['now'] == want
async def _try_login(c, k, s):
    try: return await c.login(k, s)
    except Err: return None
async def _sub(c, chans):
    e = await c.errm('subscribe', channels=chans)
    return e[0] == 'OK'

def main():
    if not PG_BASE or not BIN: print('set IPX_PG and IPX_IPXD', file=sys.stderr); sys.exit(2)
    P = Procs('q02'); db, pg = fresh_db('q02'); tmp = tempfile.mkdtemp(prefix='q02-'); redis = None
    try:
        rport = free_port()
        redis = subprocess.Popen(['redis-server', '--port', str(rport), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
                                  '--dir', tmp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try: socket.create_connection(('127.0.0.1', rport), 0.2).close(); break
            except OSError: time.sleep(0.05)
        env = {'IPX_ADMIN_KEY': ADMIN_KEY, 'IPX_ADMIN_SECRET': ADMIN_SECRET, 'IPX_REDIS': f'127.0.0.1:{rport}'}
        m = P.launch(['--listen', '127.0.0.1:0', '--pg', pg, f'--manual-clock={T0}'], env)
        _, mhp, line = wait_ready(m)
        check('main (Redis from IPX_REDIS) ready', mhp is not None, line[-300:])
        e = P.launch(['--edge', '--listen', '127.0.0.1:0', '--redis', f'127.0.0.1:{rport}'],
                     {'IPX_ADMIN_KEY': ADMIN_KEY, 'IPX_ADMIN_SECRET': ADMIN_SECRET})
        _, ehp, line = wait_ready(e)
        check('edge (--edge --redis) ready line with its URL', ehp is not None, line[-300:])
        if mhp and ehp:
            asyncio.run(scenario(mhp, ehp))
        p = P.launch(['--edge', '--listen', '127.0.0.1:0'], {'IPX_ADMIN_KEY': ADMIN_KEY, 'IPX_ADMIN_SECRET': ADMIN_SECRET})
        rc = wait_exit(p, 10); msg = open(p.log).read()
        check('--edge without Redis -> non-zero exit naming Redis', rc not in (0, 'still running') and 'redis' in msg.lower(), (rc, msg[-200:]))
    except Exception as ex:
        import traceback; traceback.print_exc(); RESULTS.append(('scenario raised', False, repr(ex)))
    finally:
        P.stop_all()
        if redis is not None: redis.terminate(); redis.wait(10)
        shutil.rmtree(tmp, ignore_errors=True); drop_db(db)
    finish()
main()
