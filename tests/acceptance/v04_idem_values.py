# Idempotency edges (error replies of every kind are kept, a DUPLICATE does not replace the kept reply, a replay
# returns the first reply even after the state moved on, the 24 h window) and values: regions are any lowercase
# identifiers, ids and nonces count characters (not bytes); time.advance only on a manual clock.
from common import *
import lib

def body(r): return json.dumps({k: v for k, v in r.items() if k != 'id'})
def code(r): return r.get('error', {}).get('code', 'OK')

class RealClockServer(lib.Server):
    """ipxd without --manual-clock (engine time = the real clock)"""
    def _start(self, name, start_ms, extra):
        env = dict(os.environ, IPX_ADMIN_KEY=ADMIN_KEY, IPX_ADMIN_SECRET=ADMIN_SECRET)
        env.pop('IPX_REDIS', None); env.pop('IPX_LISTEN', None)
        self.log_path = os.path.join(LOGS, f'{name}.log')
        with open(self.log_path, 'w') as log:
            self.proc = subprocess.Popen([BIN, '--listen', '127.0.0.1:0', '--pg', f'{PG_BASE} dbname={self.db}'], env=env,
                                         stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            with open(self.log_path) as f:
                for line in f:
                    m = re.search(r'ws://([0-9.]+:\d+)/v1/ws', line)
                    if 'ready' in line and m:
                        self.url = f'ws://{m.group(1)}/v1/ws'; return
            if self.proc.poll() is not None: raise RuntimeError(f'ipxd exited; see {self.log_path}')
            time.sleep(0.05)
        raise RuntimeError('not ready')

async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('individual', fund=50_000_000)
    _, A = await new_auction(ctx, own)
    # --- a NOT_FOUND reply is kept: the request_id is used up
    r1 = await X.raw('auction.register', dict(auction_id='A-404', request_id='k1'))
    r2 = await X.raw('auction.register', dict(auction_id=A, request_id='k1'))
    acc = await X.call('account.get')
    check('NOT_FOUND reply kept: same request_id with other params -> DUPLICATE, nothing held',
          code(r1) == 'NOT_FOUND' and code(r2) == 'DUPLICATE' and acc['cash_held'] == 0, (r1, r2, acc['cash_held']))
    # --- a FORBIDDEN reply is kept
    r1 = await X.raw('auction.cancel', dict(auction_id=A, reason='x', request_id='k2'))
    r2 = await X.raw('auction.register', dict(auction_id=A, request_id='k2'))
    acc = await X.call('account.get')
    check('FORBIDDEN reply kept: the request_id on another call -> DUPLICATE, nothing held',
          code(r1) == 'FORBIDDEN' and code(r2) == 'DUPLICATE' and acc['cash_held'] == 0, (r1, r2))
    # --- a BAD_REQUEST reply (a value out of range) on a state-changing method is kept (open point: printed too)
    await X.call('auction.register', auction_id=A); await Y.call('auction.register', auction_id=A)
    r1 = await X.raw('auction.bid', dict(auction_id=A, amount=0, request_id='k3'))
    r2 = await X.raw('auction.bid', dict(auction_id=A, amount=1_000_000, request_id='k3'))
    print('  info: BAD_REQUEST then valid params under the same request_id ->', code(r1), code(r2))
    check('BAD_REQUEST reply kept ("success or error"): same request_id, other params -> DUPLICATE', code(r1) == 'BAD_REQUEST' and code(r2) == 'DUPLICATE', (r1, r2))
    # --- a DUPLICATE answer does not replace the kept reply; a replay returns the first reply after the state moved on
    b1 = await X.raw('auction.bid', dict(auction_id=A, amount=1_000_000, request_id='k4'))
    d = await X.raw('auction.bid', dict(auction_id=A, amount=1_010_000, request_id='k4'))
    await Y.call('auction.bid', auction_id=A, amount=1_020_000)
    b2 = await X.raw('auction.bid', dict(auction_id=A, amount=1_000_000, request_id='k4'))
    g = await a.call('auction.get', auction_id=A)
    check('bid ok, other params -> DUPLICATE', code(b1) == 'OK' and code(d) == 'DUPLICATE', (b1, d))
    check('replay after a DUPLICATE and after being outbid: the first reply byte-for-byte (X leading then)', body(b1) == body(b2), (b1, b2))
    check('...nothing applied (2 bids, Y leads at 1,020,000)', g['bids'] == 2 and g['price'] == 1_020_000, g)
    # --- order.place replayed after the order filled: the first reply (open, no fills)
    asset = await new_asset(ctx, own)
    await own.call('market.create', market_id='VM4', asset_id=asset, licence=LIC, tick=10, min_qty=1)
    await own.call('units.issue', market_id='VM4', qty=100)
    o1 = await own.raw('order.place', dict(market_id='VM4', side='sell', type='limit', price=1000, qty=10, tif='gtc', client_order_id='s1', request_id='k5'))
    await X.call('order.place', market_id='VM4', side='buy', type='limit', price=1000, qty=10, tif='gtc', client_order_id='b1')
    o2 = await own.raw('order.place', dict(market_id='VM4', side='sell', type='limit', price=1000, qty=10, tif='gtc', client_order_id='s1', request_id='k5'))
    check('order.place replay after the order filled: the first reply (open, leaves 10), not DUPLICATE', body(o1) == body(o2) and o1['result']['status'] == 'open', (o1, o2))
    acc = await own.call('account.get')
    check('...nothing applied (units 90, held 0)', mp(acc, 'VM4') == (90, 0), acc['positions'])
    # --- 24 h of engine time: at +24h - 1 ms the reply is kept; after that, the id may carry other params
    f1 = await a.raw('account.fund', dict(participant_id=Y.pid, amount=1, request_id='k6'))
    await ctx.adv(DAY - 1)
    f2 = await a.raw('account.fund', dict(participant_id=Y.pid, amount=2, request_id='k6'))
    check('24 h - 1 ms: other params -> DUPLICATE', code(f2) == 'DUPLICATE', f2)
    await ctx.adv(2)
    f3 = await a.raw('account.fund', dict(participant_id=Y.pid, amount=2, request_id='k6'))
    check('after 24 h: the request_id is free for other params (applied)', code(f3) == 'OK', f3)
    # --- request_id type
    e = await X.errm('account.get', request_id=5)
    check('request_id not a string -> BAD_REQUEST naming request_id', e[0] == 'BAD_REQUEST' and 'request_id' in str(e[1]), e)
    # --- characters, not bytes: asset ids 1-64 characters, request_id <= 64 chars, nonce 8-64 characters
    cj = '专' * 64
    e = await a.errm('asset.register', asset_id=cj, kind='copyright', title='t', owner=own.pid, region='chengdu', industry='other',
                     valuation=1_000_000, expires_at=T0 + 3650 * DAY)
    check('asset_id of 64 CJK characters (192 bytes) accepted', e[0] == 'OK', e)
    e = await a.errm('asset.register', asset_id=cj + '利', kind='copyright', title='t', owner=own.pid, region='chengdu', industry='other',
                     valuation=1_000_000, expires_at=T0 + 3650 * DAY)
    check('asset_id of 65 characters -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    e = await X.errm('account.get', request_id='请' * 64)
    check('request_id of 64 CJK characters accepted', e[0] == 'OK', e)
    c = await Client.connect(ctx.url); ctx.clients.append(c)
    ts = int(time.time() * 1000); nonce = '随机' * 32
    sig = hmac.new(X.secret.encode(), f'{X.key}\n{ts}\n{nonce}'.encode(), hashlib.sha256).hexdigest()
    e = await c.errm('auth.login', key=X.key, ts=ts, nonce=nonce, sig=sig)
    check('nonce of 64 CJK characters accepted (sig over its UTF-8 bytes)', e[0] == 'OK', e)
    # --- regions: lowercase identifiers, the pilot's four among them
    e = await a.errm('participant.create', name='s', kind='enterprise', region='suining', whitelisted=True)
    check('participant.create region "suining" (a lowercase identifier outside the pilot) accepted', e[0] == 'OK', e)
    e = await a.errm('asset.register', asset_id='SN-1', kind='trademark', title='t', owner=own.pid, region='suining', industry='other',
                     valuation=1_000_000, expires_at=T0 + 3650 * DAY)
    check('asset.register region "suining" accepted', e[0] == 'OK', e)
    # --- a server on the real clock: time.advance refused, time.now tracks the wall clock
    srv = RealClockServer('v04rt')
    try:
        c = await Client.connect(srv.url); await c.login(ADMIN_KEY, ADMIN_SECRET)
        t = await c.call('time.now')
        check('real clock: now = wall (within 2 s)', abs(t['now'] - t['wall']) < 2000 and abs(t['wall'] - time.time() * 1000) < 5000, t)
        e = await c.errm('time.advance', ms=DAY)
        t2 = await c.call('time.now')
        check('real clock: time.advance refused and engine time not moved', e[0] != 'OK' and t2['now'] - t['now'] < 60_000, (e, t, t2))
        print('  info: time.advance on a real-clock server ->', e)
        await c.close()
    finally:
        srv.stop()
import hmac, hashlib
run('v04', sc)
