# Hostile WebSocket framing (a seventh audit, from PROTOCOL.md only): the 64 KiB bound reached by fragments, a header
# announcing 2^62 bytes, control frames (ping/pong, oversize or fragmented control frames, close codes), protocol
# violations (continuation without start, a new message inside a fragmented one, RSV bits, unknown opcodes, unmasked
# frames), UTF-8 corner cases (overlong, surrogates, > U+10FFFF, a valid character split across fragments), a stalled
# half frame that must not hold up other clients, and a client that drops the TCP connection right after a request.
# Contract: "text frames, one JSON object per frame"; "A message of 64 KiB (payload, after reassembly; larger: close
# 1009)"; "binary frames close 1003, invalid UTF-8 closes 1007"; "/healthz answers 200 while the process runs";
# "A reply is sent only after the command's effects are durable"; request_id retries "applying nothing".
from common import *
import base64, struct, socket, hmac, hashlib, urllib.request
import lib
SRV = []
class _S(lib.Server):
    def __init__(self, *a, **k): SRV.append(self); super().__init__(*a, **k)
lib.Server = _S

class Raw:
    @classmethod
    async def open(cls, url):
        self = cls(); hp = url.split('//')[1].split('/')[0]; host, port = hp.split(':')
        self.rd, self.wr = await asyncio.open_connection(host, int(port), limit=2**24)
        key = base64.b64encode(os.urandom(16)).decode()
        self.wr.write((f'GET /v1/ws HTTP/1.1\r\nHost: {hp}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                       f'Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n').encode())
        hdr = await self.rd.readuntil(b'\r\n\r\n')
        assert b' 101 ' in hdr.split(b'\r\n')[0], hdr
        return self
    @staticmethod
    def frame(p, op=0x1, fin=True, rsv=0, masked=True, declared=None):
        p = p.encode() if isinstance(p, str) else p; n = len(p) if declared is None else declared
        h = bytes([(0x80 if fin else 0) | rsv << 4 | op]); mb = 0x80 if masked else 0
        h += bytes([mb | n]) if n < 126 else (bytes([mb | 126]) + struct.pack('>H', n) if n < 65536 else bytes([mb | 127]) + struct.pack('>Q', n))
        if not masked: return h + p
        mask = os.urandom(4)
        return h + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(p))
    async def put(self, *frames):
        try:
            self.wr.write(b''.join(frames)); await self.wr.drain()
        except (ConnectionError, OSError):
            pass
    async def read_one(self, timeout):
        h = await asyncio.wait_for(self.rd.readexactly(2), timeout)
        n = h[1] & 0x7f
        if n == 126: n = struct.unpack('>H', await self.rd.readexactly(2))[0]
        elif n == 127: n = struct.unpack('>Q', await self.rd.readexactly(8))[0]
        return bool(h[0] & 0x80), h[0] & 0x0f, await asyncio.wait_for(self.rd.readexactly(n), timeout)
    async def next(self, timeout=8):
        """the next event: ('text', obj) | ('pong', payload) | ('close', code, reason) | ('eof', why)"""
        try:
            fin, op, d = await self.read_one(timeout)
            while not fin and op < 8:
                fin2, op2, d2 = await self.read_one(timeout)
                d += d2; fin = fin2
            if op == 1:
                try: return ('text', json.loads(d.decode()))
                except Exception: return ('text?', d[:100])
            if op == 8: return ('close', struct.unpack('>H', d[:2])[0] if len(d) >= 2 else None, d[2:].decode(errors='replace'))
            if op == 0xA: return ('pong', d)
            if op == 9: await self.put(self.frame(d, 0xA)); return await self.next(timeout)
            return ('frame', op, d[:50])
        except asyncio.TimeoutError:
            return ('timeout',)
        except Exception as ex:
            return ('eof', repr(ex))
    async def reply(self, timeout=8):
        while True:
            e = await self.next(timeout)
            if e[0] == 'text' and isinstance(e[1], dict) and 'channel' in e[1]: continue
            return e
    async def login(self, key, secret):
        ts = int(time.time() * 1000); nonce = os.urandom(12).hex()
        sig = hmac.new(secret.encode(), f'{key}\n{ts}\n{nonce}'.encode(), hashlib.sha256).hexdigest()
        await self.put(self.frame(json.dumps({'id': 'login', 'method': 'auth.login', 'params': {'key': key, 'ts': ts, 'nonce': nonce, 'sig': sig}})))
        return await self.reply()
    def close(self):
        try: self.wr.close()
        except Exception: pass

TN = lambda i: json.dumps({'id': i, 'method': 'time.now'})
def ok_text(e, i): return e[0] == 'text' and isinstance(e[1], dict) and e[1].get('id') == i and 'result' in e[1]

async def sc(ctx):
    a = ctx.adm; srv = SRV[0]; pid0 = srv.proc.pid
    base = ctx.url.replace('ws://', 'http://').replace('/v1/ws', '')
    async def alive(tag):
        ok = srv.proc.poll() is None and srv.proc.pid == pid0
        r = await a.raw('time.now', {})
        return check(f'{tag}: process alive, other connections served', ok and 'result' in r, (srv.proc.poll(), r))
    async def fresh(login=True):
        r = await Raw.open(ctx.url)
        if login: await r.login(ADMIN_KEY, ADMIN_SECRET)
        return r
    async def expect_close(tag, frames, codes, login=True, timeout=8):
        r = await fresh(login); await r.put(*frames)
        e = await r.reply(timeout)
        r.close()
        check(f'{tag} -> close {codes}', e[0] == 'close' and e[1] in codes, e)
        return e
    # --- 1. the 64 KiB bound reached by fragments: exactly 65536 after reassembly is served, 65537 closes 1009
    def padded(total):
        skel = json.dumps({'id': 1, 'method': 'time.now', 'params': {'request_id': 'r', 'pad': ''}})
        return json.dumps({'id': 1, 'method': 'time.now', 'params': {'request_id': 'r', 'pad': 'x' * (total - len(skel))}})
    b = padded(65536).encode(); assert len(b) == 65536
    r = await fresh(); await r.put(Raw.frame(b[:30000], 1, False), Raw.frame(b[30000:60000], 0, False), Raw.frame(b[60000:], 0, True))
    e = await r.reply()
    check('65536 bytes in 3 fragments -> answered (id 1, BAD_REQUEST for pad), not closed', e[0] == 'text' and e[1].get('id') == 1, e)
    b = padded(65537).encode(); assert len(b) == 65537
    await r.put(Raw.frame(b[:30000], 1, False), Raw.frame(b[30000:60000], 0, False), Raw.frame(b[60000:], 0, True))
    e = await r.reply(); r.close()
    check('65537 bytes in 3 fragments -> close 1009', e[0] == 'close' and e[1] == 1009, e)
    # many tiny fragments (1 byte each) of a small message: served, not an amplification
    b = TN(2).encode()
    r = await fresh(); await r.put(*[Raw.frame(b[i:i + 1], 1 if i == 0 else 0, i == len(b) - 1) for i in range(len(b))])
    e = await r.reply(); check('a message in 1-byte fragments -> served', ok_text(e, 2), e)
    # a 65536-byte message sent as 65536 one-byte fragments: served or closed 1009, but the server must survive
    b = padded(65536).encode()
    await r.put(*[Raw.frame(b[i:i + 1], 1 if i == 0 else 0, i == len(b) - 1) for i in range(len(b))])
    e = await r.reply(20); r.close()
    check('65536 one-byte fragments -> answered or a close, no hang', e[0] in ('text', 'close'), e)
    await alive('after fragment bounds')
    # --- 2. a header announcing a huge payload: close 1009 at once, nothing allocated, no wait for the bytes
    for n in (2**62, 2**32, 65537):
        r = await fresh(); await r.put(Raw.frame(b'{"id":1', declared=n))
        t0 = time.monotonic(); e = await r.reply(8); dt = time.monotonic() - t0; r.close()
        check(f'header announcing {n} bytes (payload never sent) -> close 1009 promptly', e[0] == 'close' and e[1] == 1009 and dt < 5, (e, round(dt, 2)))
    r = await fresh(); await r.put(Raw.frame(b'{"id":1', declared=2**63 + 5))
    e = await r.reply(8); r.close()
    check('header with the 64-bit length MSB set (RFC: must be 0) -> closed (1002/1009)', e[0] == 'close' and e[1] in (1002, 1009), e)
    await alive('after huge length headers')
    # --- 3. a stalled half frame does not hold up this process's other clients; the stalled one still completes
    r = await fresh(); b = TN(3).encode(); fr = Raw.frame(b)
    await r.put(fr[:8])
    t0 = time.monotonic(); rr = await a.raw('time.now', {}); dt = time.monotonic() - t0
    check('while a client stalls mid-frame, another connection is served quickly', 'result' in rr and dt < 2, (rr, dt))
    await asyncio.sleep(1); await r.put(fr[8:])
    e = await r.reply(); r.close(); check('the stalled frame completed 1 s later is served', ok_text(e, 3), e)
    # --- 4. control frames: ping echoes payload; ping between fragments; unsolicited pong ignored
    r = await fresh()
    await r.put(Raw.frame(b'hello-ping', 0x9)); e = await r.next()
    check('ping -> pong with the same payload', e == ('pong', b'hello-ping'), e)
    await r.put(Raw.frame(b'', 0x9)); e = await r.next()
    check('empty ping -> empty pong', e == ('pong', b''), e)
    await r.put(Raw.frame(b'x' * 125, 0x9)); e = await r.next()
    check('125-byte ping (the control-frame maximum) -> pong', e == ('pong', b'x' * 125), e)
    b = TN(4).encode()
    await r.put(Raw.frame(b[:10], 1, False), Raw.frame(b'mid', 0x9), Raw.frame(b[10:], 0, True))
    e1 = await r.next(); e2 = await r.next()
    check('ping between two fragments -> pong, then the reassembled message is served', e1 == ('pong', b'mid') and ok_text(e2, 4), (e1, e2))
    await r.put(Raw.frame(b'unsolicited', 0xA), Raw.frame(TN(5)))
    e = await r.next(); check('unsolicited pong ignored, next request served', ok_text(e, 5), e)
    r.close()
    await expect_close('ping with 126-byte payload (control frames are <= 125)', [Raw.frame(b'x' * 126, 0x9)], (1002,))
    await expect_close('fragmented ping (control frame with FIN=0)', [Raw.frame(b'ab', 0x9, fin=False)], (1002,))
    await alive('after control frames')
    # --- 5. protocol violations -> close 1002 (RFC 6455), the process survives
    await expect_close('continuation frame with no message started', [Raw.frame(b'{"id":1}', 0x0, True)], (1002,))
    b = TN(6).encode()
    await expect_close('new text frame inside a fragmented message', [Raw.frame(b[:5], 1, False), Raw.frame(TN(7))], (1002,))
    await expect_close('RSV1 set without a negotiated extension', [Raw.frame(TN(8), rsv=4)], (1002,))
    await expect_close('RSV3 set', [Raw.frame(TN(8), rsv=1)], (1002,))
    for op in (0x3, 0x7, 0xB, 0xF):
        await expect_close(f'reserved opcode {op:#x}', [Raw.frame(b'{}', op)], (1002,))
    await expect_close('unmasked client frame', [Raw.frame(TN(9), masked=False)], (1002,))
    await alive('after protocol violations')
    # --- 6. binary in every shape -> 1003
    await expect_close('empty binary frame', [Raw.frame(b'', 0x2)], (1003,))
    await expect_close('binary frame holding valid JSON', [Raw.frame(TN(10).encode(), 0x2)], (1003,))
    await expect_close('fragmented binary message', [Raw.frame(b'{"id"', 0x2, False), Raw.frame(b':1}', 0x0, True)], (1003,))
    await expect_close('binary frame before login', [Raw.frame(TN(10).encode(), 0x2)], (1003,), login=False)
    # --- 7. UTF-8: invalid forms -> 1007; a valid character split across fragments is fine
    for tag, bad in (('overlong "/" (C0 AF)', b'\xc0\xaf'), ('UTF-16 surrogate as UTF-8 (ED A0 80)', b'\xed\xa0\x80'),
                     ('code point above U+10FFFF (F4 90 80 80)', b'\xf4\x90\x80\x80'), ('lone continuation byte (80)', b'\x80'),
                     ('FF byte', b'\xff'), ('overlong NUL (C0 80)', b'\xc0\x80')):
        await expect_close(f'invalid UTF-8 {tag} inside a string', [Raw.frame(b'{"id":1,"method":"time.now","params":{"request_id":"' + bad + b'"}}')], (1007,))
    await expect_close('message ending in a truncated character (E4 B8), split over fragments',
                       [Raw.frame(b'{"id":1,"method":"time.now","params":{"request_id":"a', 1, False), Raw.frame(b'"}}\xe4\xb8', 0, True)], (1007,))
    await expect_close('invalid UTF-8 before login', [Raw.frame(b'\xff\xfe')], (1007,), login=False)
    r = await fresh(); zh = '中文'.encode()
    p1 = b'{"id":11,"method":"time.now","params":{"request_id":"' + zh[:2]; p2 = zh[2:] + b'"}}'
    await r.put(Raw.frame(p1, 1, False), Raw.frame(p2, 0, True))
    e = await r.reply(); r.close()
    check('a valid UTF-8 character split across two fragments -> served, not 1007', ok_text(e, 11), e)
    await alive('after UTF-8 cases')
    # --- 8. close frames from the client
    r = await fresh(); await r.put(Raw.frame(struct.pack('>H', 1000) + b'bye', 0x8)); e = await r.next(); r.close()
    check('client close 1000 -> server answers with a close', e[0] == 'close', e)
    for tag, payload in (('1-byte close payload', b'\x03'), ('close code 1005 (reserved)', struct.pack('>H', 1005)),
                         ('close code 999', struct.pack('>H', 999))):
        await expect_close(f'client close with {tag}', [Raw.frame(payload, 0x8)], (1002,))
    # 5000 is outside RFC 6455's ranges (Autobahn expects 1002); not in the contract, so only noted
    e = await expect_close('client close with code 5000 (1002, or echoed)', [Raw.frame(struct.pack('>H', 5000), 0x8)], (1002, 5000))
    print('  info: client close 5000 ->', e)
    await expect_close('client close with invalid UTF-8 reason', [Raw.frame(struct.pack('>H', 1000) + b'\xff', 0x8)], (1007, 1002))
    await alive('after close frames')
    # --- 9. a client that drops the TCP connection right after account.fund: applied once or not at all; a retry with
    # the same request_id on a new connection settles it (replayed reply, applied once)
    X = await ctx.mk('individual')
    async def bal(): return (await a.call('account.get', participant_id=X.pid))['cash_available']
    for i in range(5):
        b0 = await bal()
        r = await fresh(); await r.put(Raw.frame(json.dumps({'id': 1, 'method': 'account.fund', 'params': {'participant_id': X.pid, 'amount': 1000, 'request_id': f'drop-{i}'}})))
        r.wr.transport.abort()
        await asyncio.sleep(0.2)
        b1 = await bal()
        check(f'dropped after account.fund #{i}: applied once or not at all', b1 - b0 in (0, 1000), (b0, b1))
        rr = await a.raw('account.fund', {'participant_id': X.pid, 'amount': 1000, 'request_id': f'drop-{i}'})
        b2 = await bal()
        check(f'retry #{i} with the same request_id -> OK, total credit exactly 1000', 'result' in rr and b2 - b0 == 1000, (rr, b0, b1, b2))
    # half-open sockets: 100 connections that send a partial handshake, then are dropped
    ws = []
    hp = ctx.url.split('//')[1].split('/')[0]; host, port = hp.split(':')
    for i in range(100):
        rd, wr = await asyncio.open_connection(host, int(port)); wr.write(b'GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpg'); ws.append(wr)
    await asyncio.sleep(0.3)
    for wr in ws: wr.transport.abort()
    await alive('after 100 aborted handshakes')
    h = urllib.request.urlopen(base + '/healthz', timeout=10)
    check('/healthz 200 at the end', h.status == 200)
run('x02', sc)
