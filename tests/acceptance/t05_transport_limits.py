# PROTOCOL.md Limits: 1,000 requests/s per connection with a burst of 1,000, every frame counted on arrival
# (over: RATE_LIMITED, nothing applied, not kept for request_id); handshake 30 s; outbound queue 4 MiB
# (over: close 4001 "slow consumer"). Uses a raw socket so frames can be batched and reading withheld.
from common import *
import base64, struct, socket, hmac, hashlib
class Raw:
    @classmethod
    async def open(cls, url, rcvbuf=None, limit=2**24):
        self = cls(); hp = url.split('//')[1].split('/')[0]; host, port = hp.split(':')
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf: s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.connect((host, int(port))); s.setblocking(False)
        self.rd, self.wr = await asyncio.open_connection(sock=s, limit=limit)
        key = base64.b64encode(os.urandom(16)).decode()
        self.wr.write((f'GET /v1/ws HTTP/1.1\r\nHost: {hp}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                       f'Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n').encode())
        hdr = await self.rd.readuntil(b'\r\n\r\n')
        assert b' 101 ' in hdr.split(b'\r\n')[0], hdr
        return self
    @staticmethod
    def frame(text, op=0x1):
        p = text.encode() if isinstance(text, str) else text; mask = os.urandom(4)
        n = len(p)
        h = bytes([0x80 | op]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack('>H', n) if n < 65536 else bytes([0x80 | 127]) + struct.pack('>Q', n))
        return h + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(p))
    async def send_many(self, texts):
        self.wr.write(b''.join(self.frame(t) for t in texts)); await self.wr.drain()
    async def read_frame(self, timeout=10):
        h = await asyncio.wait_for(self.rd.readexactly(2), timeout)
        n = h[1] & 0x7f
        if n == 126: n = struct.unpack('>H', await self.rd.readexactly(2))[0]
        elif n == 127: n = struct.unpack('>Q', await self.rd.readexactly(8))[0]
        return h[0] & 0x0f, await self.rd.readexactly(n)
    async def call(self, obj):
        await self.send_many([json.dumps(obj)])
        while True:
            op, p = await self.read_frame()
            if op == 1:
                m = json.loads(p)
                if m.get('id') == obj.get('id'): return m
    async def login(self, key, secret):
        ts = int(time.time() * 1000); nonce = os.urandom(12).hex()
        sig = hmac.new(secret.encode(), f'{key}\n{ts}\n{nonce}'.encode(), hashlib.sha256).hexdigest()
        return await self.call({'id': 'login', 'method': 'auth.login', 'params': {'key': key, 'ts': ts, 'nonce': nonce, 'sig': sig}})
    async def replies(self, n, timeout=20):
        out = []
        while len(out) < n:
            op, p = await self.read_frame(timeout)
            if op == 1:
                m = json.loads(p)
                if 'channel' not in m: out.append(m)
            elif op == 8: break
        return out
def code(m): return m.get('error', {}).get('code', 'OK')
async def handshake_probe(url, partial):
    hp = url.split('//')[1].split('/')[0]; host, port = hp.split(':')
    rd, wr = await asyncio.open_connection(host, int(port))
    if partial: wr.write(b'GET /v1/ws HTTP/1.1\r\nHost: ' + hp.encode() + b'\r\n'); await wr.drain()
    t0 = time.monotonic()
    await asyncio.sleep(25)
    open_at_25 = not rd.at_eof()
    try:
        while True:
            d = await asyncio.wait_for(rd.read(4096), 15)
            if not d: break
        closed_at = time.monotonic() - t0
    except asyncio.TimeoutError:
        closed_at = None
    except ConnectionError:
        closed_at = time.monotonic() - t0
    wr.close()
    return open_at_25, closed_at
async def sc(ctx):
    a = ctx.adm
    # handshake probes run in the background (about 40 s)
    hs = asyncio.ensure_future(asyncio.gather(handshake_probe(ctx.url, True), handshake_probe(ctx.url, False)))
    X = await ctx.mk('individual', fund=1_000_000)
    # --- exactly the burst: 1000 frames in one write are all served
    r = await Raw.open(ctx.url); await r.login(X.key, X.secret)
    await r.send_many([json.dumps({'id': i, 'method': 'time.now'}) for i in range(1000)])
    rep = await r.replies(1000)
    codes = [code(m) for m in rep]
    check('burst of 1000 frames at once: all 1000 served', codes.count('OK') == 1000, {c: codes.count(c) for c in set(codes)})
    await r.send_many([json.dumps({'id': 1000 + i, 'method': 'time.now'}) for i in range(1000)])
    rep = await r.replies(1000)
    codes = [code(m) for m in rep]
    check('next 1000 at once (bucket empty): most RATE_LIMITED', codes.count('RATE_LIMITED') >= 700, {c: codes.count(c) for c in set(codes)})
    check('RATE_LIMITED replies echo their ids', all(isinstance(m.get('id'), int) and m['id'] >= 1000 for m in rep if code(m) == 'RATE_LIMITED'), rep[:3])
    # refill: after 1.2 s, 1000 more tokens (capped at the burst)
    await asyncio.sleep(1.2)
    await r.send_many([json.dumps({'id': 3000 + i, 'method': 'time.now'}) for i in range(900)])
    rep = await r.replies(900)
    codes = [code(m) for m in rep]
    check('after 1.2 s the bucket refilled: 900 at once all served', codes.count('OK') == 900, {c: codes.count(c) for c in set(codes)})
    # --- every frame counted on arrival: garbage frames use up the bucket too
    await asyncio.sleep(1.2)
    await r.send_many(['not json'] * 3000 + [json.dumps({'id': 'after-garbage', 'method': 'time.now'})])
    rep = await r.replies(3001)
    last = [m for m in rep if m.get('id') == 'after-garbage']
    check('3000 non-JSON frames count: the next request -> RATE_LIMITED', last and code(last[0]) == 'RATE_LIMITED', last)
    # --- a rate-limited state-changing request applies nothing and its request_id is not kept
    await asyncio.sleep(1.2)
    ra = await Raw.open(ctx.url); await ra.login(ADMIN_KEY, ADMIN_SECRET)
    before = (await a.call('account.get', participant_id=X.pid))['cash_available']
    # 3000 frames: over the burst of 1000 even if sending them takes up to ~2 s on a loaded
    # machine (the bucket refills 1000/s; 1500 frames sent in over 0.5 s once left tokens over)
    frames = [json.dumps({'id': i, 'method': 'time.now'}) for i in range(3000)]
    frames.append(json.dumps({'id': 'fund', 'method': 'account.fund', 'params': {'participant_id': X.pid, 'amount': 777, 'request_id': 'rl-1'}}))
    await ra.send_many(frames)
    rep = await ra.replies(3001)
    f = [m for m in rep if m.get('id') == 'fund']
    check('account.fund after 3000 frames at once -> RATE_LIMITED', f and code(f[0]) == 'RATE_LIMITED', f)
    mid = (await a.call('account.get', participant_id=X.pid))['cash_available']
    check('rate-limited account.fund applied nothing', mid == before, (before, mid))
    e = await a.errm('account.fund', participant_id=X.pid, amount=777, request_id='rl-1')
    check('same request_id later (other connection, same admin) is applied once, not a replay of RATE_LIMITED',
          e[0] == 'OK' and (await a.call('account.get', participant_id=X.pid))['cash_available'] == before + 777, (e, before))
    # --- per connection: another connection of the same participant is not limited
    r2 = await Raw.open(ctx.url); await r2.login(X.key, X.secret)
    await r.send_many([json.dumps({'id': i, 'method': 'time.now'}) for i in range(1000)])
    await r2.send_many([json.dumps({'id': i, 'method': 'time.now'}) for i in range(1000)])
    rep = await r2.replies(1000)
    codes = [code(m) for m in rep]
    check('limit is per connection: a second connection gets its own 1000', codes.count('OK') == 1000, {c: codes.count(c) for c in set(codes)})
    # --- slow consumer: a client that stops reading while pushes pile up for it; its outbound queue passes 4 MiB
    # (plus what the kernel buffers hold) -> close 4001 "slow consumer". Pushes, not replies, so read back-pressure
    # cannot hold the queue down: each account.fund of W pushes W's balance with ~500 positions (~25 KB) on 'private'.
    W = await ctx.mk('enterprise')
    for i in range(250):
        aid = await new_asset(ctx, W)
        await W.call('market.create', market_id=f'W{i}', asset_id=aid, licence=LIC, tick=1, min_qty=1)
        await W.call('units.issue', market_id=f'W{i}', qty=10)
    # A small stream limit: asyncio stops reading the socket once ~2x limit is buffered (the
    # default 16 MiB limit would let this client take ~32 MiB and never fall behind).
    S = await Raw.open(ctx.url, rcvbuf=4096, limit=2**16); await S.login(W.key, W.secret)
    sub = await S.call({'id': 'sub', 'method': 'subscribe', 'params': {'channels': ['private']}})
    psize = len(json.dumps(await W.call('account.get')))
    t0 = time.monotonic()
    for i in range(1600):   # ~40 MB of balance pushes for W (far past 4 MiB + any kernel socket buffers)
        await a.call('account.fund', participant_id=W.pid, amount=1)
    await asyncio.sleep(1)
    close = None; total = 0
    try:
        while True:
            op, p = await S.read_frame(10)
            total += len(p)
            if op == 8:
                close = (struct.unpack('>H', p[:2])[0] if len(p) >= 2 else None, p[2:].decode(errors='replace')); break
    except Exception as ex:
        close = close or ('no close frame', repr(ex))
    print(f'  info: slow consumer: snapshot {psize} B; read {total} bytes (of ~{1600 * psize} pushed, in {time.monotonic() - t0:.1f} s) before the end; close {close}')
    check('slow consumer (> 4 MiB queued) -> close 4001 "slow consumer"', close and close[0] == 4001 and close[1] == 'slow consumer', close)
    # a normal client is unaffected
    check('other connections still served', (await a.call('time.now'))['now'] == T0)
    (p1, p2) = await hs
    check('handshake: partial HTTP request still open at 25 s', p1[0], p1)
    check('handshake: partial HTTP request closed by ~30 s (<= 40 s)', p1[1] is not None and p1[1] <= 40, p1)
    check('handshake: silent TCP connection closed by ~30 s (<= 40 s)', p2[1] is not None and p2[1] <= 40, p2)
    for c in (r, r2, ra, S):
        try: c.wr.close()
        except Exception: pass
run('t05', sc)
