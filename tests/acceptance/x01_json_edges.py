# Hostile JSON inside well-formed text frames (a seventh audit, from PROTOCOL.md only): duplicate keys, integer
# fields given as 1e3 / 1.0 / -0 / 1e400 / 2^63 / -2^63-1, non-JSON number forms, trailing garbage, two objects in
# one frame, BOM, NUL and control bytes, lone-surrogate escapes, deep nesting, huge arrays, id/params of every type.
# Contract: "A frame that is not a JSON object gets {"id": null, "error": {"code": "BAD_REQUEST", ...}}; the connection
# stays open"; "Bad input gets a clear, stable error code and changes nothing" (BAD_REQUEST for wrong types); "A
# rejected request changes nothing". After each probe: the process is alive, the connection answers, nothing moved.
from common import *
import base64, struct, socket, hmac, hashlib, urllib.request
import lib
SRV = []
class _S(lib.Server):
    def __init__(self, *a, **k): SRV.append(self); super().__init__(*a, **k)
lib.Server = _S
CODES = {'BAD_REQUEST', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'DUPLICATE', 'INSUFFICIENT_FUNDS', 'NOT_QUALIFIED',
         'AUCTION_NOT_OPEN', 'AUCTION_CLOSED', 'BID_TOO_LOW', 'BAD_PRICE', 'ALREADY_LEADING', 'WOULD_CROSS', 'SELF_TRADE',
         'INVALID_STATE', 'RATE_LIMITED', 'TOO_LARGE', 'UNAVAILABLE', 'INTERNAL'}

class Raw:
    @classmethod
    async def open(cls, url):
        self = cls(); hp = url.split('//')[1].split('/')[0]; self.hp = hp; host, port = hp.split(':')
        self.rd, self.wr = await asyncio.open_connection(host, int(port), limit=2**24)
        key = base64.b64encode(os.urandom(16)).decode()
        self.wr.write((f'GET /v1/ws HTTP/1.1\r\nHost: {hp}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                       f'Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n').encode())
        hdr = await self.rd.readuntil(b'\r\n\r\n')
        assert b' 101 ' in hdr.split(b'\r\n')[0], hdr
        return self
    @staticmethod
    def frame(p, op=0x1, fin=True):
        p = p.encode() if isinstance(p, str) else p; mask = os.urandom(4); n = len(p)
        h = bytes([(0x80 if fin else 0) | op])
        h += bytes([0x80 | n]) if n < 126 else (bytes([0x80 | 126]) + struct.pack('>H', n) if n < 65536 else bytes([0x80 | 127]) + struct.pack('>Q', n))
        return h + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(p))
    async def send(self, p, op=0x1):
        self.wr.write(self.frame(p, op)); await self.wr.drain()
    async def read_one(self, timeout):
        h = await asyncio.wait_for(self.rd.readexactly(2), timeout)
        n = h[1] & 0x7f
        if n == 126: n = struct.unpack('>H', await self.rd.readexactly(2))[0]
        elif n == 127: n = struct.unpack('>Q', await self.rd.readexactly(8))[0]
        return bool(h[0] & 0x80), h[0] & 0x0f, await asyncio.wait_for(self.rd.readexactly(n), timeout)
    async def read_frame(self, timeout=10):
        """one message (continuation frames reassembled; control frames in between returned first)"""
        fin, op, d = await self.read_one(timeout)
        while not fin and op < 8:
            fin2, op2, d2 = await self.read_one(timeout)
            if op2 >= 8: return op2, d2
            d += d2; fin = fin2
        return op, d
    async def ask(self, p, timeout=10):
        """send one text frame; return the parsed reply (pushes skipped), ('close', code) or ('nothing', why)"""
        await self.send(p)
        try:
            while True:
                op, d = await self.read_frame(timeout)
                if op == 1:
                    try: m = json.loads(d.decode('utf-8'))
                    except Exception as ex: return ('unparseable reply', d[:200], repr(ex))
                    if isinstance(m, dict) and 'channel' in m: continue
                    return m
                if op == 8: return ('close', struct.unpack('>H', d[:2])[0] if len(d) >= 2 else None)
                if op == 9: self.wr.write(self.frame(d, 0xA))
        except Exception as ex:
            return ('nothing', repr(ex))
    async def login(self, key, secret):
        ts = int(time.time() * 1000); nonce = os.urandom(12).hex()
        sig = hmac.new(secret.encode(), f'{key}\n{ts}\n{nonce}'.encode(), hashlib.sha256).hexdigest()
        return await self.ask(json.dumps({'id': 'login', 'method': 'auth.login', 'params': {'key': key, 'ts': ts, 'nonce': nonce, 'sig': sig}}))

def code(m): return m.get('error', {}).get('code', 'OK') if isinstance(m, dict) else m
def is_err(m, c='BAD_REQUEST'): return isinstance(m, dict) and code(m) == c

async def sc(ctx):
    a = ctx.adm; srv = SRV[0]; pid0 = srv.proc.pid
    base = ctx.url.replace('ws://', 'http://').replace('/v1/ws', '')
    X = await ctx.mk('individual')
    r = await Raw.open(ctx.url); lg = await r.login(ADMIN_KEY, ADMIN_SECRET)
    check('setup: raw admin login', isinstance(lg, dict) and 'result' in lg, lg)
    seq = [0]
    async def bal(): return (await a.call('account.get', participant_id=X.pid))['cash_available']
    async def alive(tag):
        ok = srv.proc.poll() is None and srv.proc.pid == pid0
        m = await r.ask(json.dumps({'id': 'alive', 'method': 'time.now'}))
        return check(f'{tag}: process alive and the connection still answers', ok and isinstance(m, dict) and 'result' in m, (srv.proc.poll(), m))

    # --- 1. account.fund amounts written in odd JSON number forms: either BAD_REQUEST with nothing credited, or
    # accepted and exactly the integer value credited. Never another code, never a different credit.
    forms = [('1e3', 1000), ('1E3', 1000), ('1.0', 1), ('100.0', 100), ('1.5', None), ('-0', None), ('0', None), ('-0.0', None),
             ('1e400', None), ('-1e400', None), ('9223372036854775808', None), ('-9223372036854775809', None),
             ('18446744073709551616', None), ('1e-400', None), ('123456789012345678901234567890', None),
             ('9223372036854775807.5', None), ('0.1e1', 1)]
    for txt, val in forms:
        b0 = await bal()
        m = await r.ask('{"id": 1, "method": "account.fund", "params": {"participant_id": "%s", "amount": %s}}' % (X.pid, txt))
        b1 = await bal()
        if is_err(m):
            ok = b1 == b0
        elif isinstance(m, dict) and 'result' in m:
            ok = val is not None and b1 == b0 + val
        else:
            ok = False
        check(f'account.fund amount {txt}: BAD_REQUEST and nothing credited, or exactly {val} credited', ok, (code(m), m, b0, b1))
        if isinstance(m, dict) and 'result' in m: print(f'  info: amount {txt} accepted as integer (credited {b1 - b0})')
    await alive('after number forms')
    # the contract calls 7.0 "not" an integer for ids; the same JSON value as an amount should get the same verdict
    m1 = await r.ask('{"id": 7.0, "method": "time.now"}')
    b0 = await bal()
    m2 = await r.ask('{"id": 2, "method": "account.fund", "params": {"participant_id": "%s", "amount": 7.0}}' % X.pid)
    b1 = await bal()
    print(f'  info: id 7.0 -> {code(m1)}; amount 7.0 -> {code(m2)} (credited {b1 - b0})')
    # --- 2. not-JSON: every one -> id null BAD_REQUEST, the connection stays open
    bad = ['{"id": 3, "method": "time.now"} x', '{"id": 3, "method": "time.now"}{"id": 4, "method": "time.now"}',
           '{"id": 3, "method": "time.now",}', "{'id': 3, 'method': 'time.now'}", '{"id": 3, "method": "time.now" /* c */}',
           '{"id": NaN, "method": "time.now"}', '{"id": 3, "method": "account.fund", "params": {"participant_id": "%s", "amount": Infinity}}' % X.pid,
           '{"id": 3, "method": "account.fund", "params": {"participant_id": "%s", "amount": 0x10}}' % X.pid,
           '{"id": 3, "method": "account.fund", "params": {"participant_id": "%s", "amount": 010}}' % X.pid,
           '{"id": 3, "method": "account.fund", "params": {"participant_id": "%s", "amount": +10}}' % X.pid,
           '{"id": 3, "method": "account.fund", "params": {"participant_id": "%s", "amount": .5}}' % X.pid,
           '{"id": 3, "method": "time.now"}\x00', '\x00{"id": 3, "method": "time.now"}', '{"id": 3, "method": "time\x00.now"}',
           '{"id": 3, "method": "time.now", "params": {"request_id": "a\nb"}}', '{"id": 3, "method": "time.now", "params": {"request_id": "a\x01"}}',
           '{"id": 3, "method": "time.now", "params": {"request_id": "\\x41"}}', '{"id": 3, "method": "time.now", "params": {"request_id": "\\u12"}}',
           '{"id": 3 "method": "time.now"}', '{"id": 3, "method": "time.now"', '{"id": 3, "method": tru}', '{"id": 3, "method": "time.now"}]',
           '\ufeff{"id": 3, "method": "time.now"}', '{"id": 3, "method": "time.now"} \ufeff', ' ', '\n', '{', '}', '{}}', '{"id"}',
           '{"id": 3, "method": "time.now", "params": {"a": [}}', '{"\\ud800": 1}']
    b0 = await bal()
    for fr in bad:
        m = await r.ask(fr)
        # a valid JSON object among these gets whatever normal processing gives; the rest must be id null BAD_REQUEST
        try: obj = json.loads(fr, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c))); valid_obj = isinstance(obj, dict)
        except Exception: valid_obj = False
        if fr.startswith('\ufeff'):
            check('BOM-prefixed object -> BAD_REQUEST (id null) or served (RFC 8259 lets a parser ignore a BOM)', isinstance(m, dict) and (is_err(m) and m.get('id', 'x') is None or 'result' in m), m)
            print('  info: BOM-prefixed object ->', code(m))
        elif valid_obj:
            check(f'frame {fr[:60]!r}: answered with a documented code', isinstance(m, dict) and (('result' in m) or code(m) in CODES), m)
        else:
            check(f'not a JSON object {fr[:60]!r} -> id null BAD_REQUEST, connection open', is_err(m) and m.get('id', 'x') is None, m)
    check('none of the malformed account.fund frames credited anything', await bal() == b0, (b0, await bal()))
    await alive('after non-JSON frames')
    # whitespace around a valid object is still one JSON object (RFC 8259); answering it with BAD_REQUEST is allowed but noted
    m = await r.ask(' \t\r\n{"id": 5, "method": "time.now"}\n ')
    check('object wrapped in JSON whitespace -> answered (result or BAD_REQUEST), id 5 or null', isinstance(m, dict) and ('result' in m or is_err(m)), m)
    print('  info: whitespace-wrapped object ->', code(m), m.get('id') if isinstance(m, dict) else None)
    # --- 3. duplicate keys: the server may refuse (BAD_REQUEST) or take one value; what it applies must match its reply
    b0 = await bal()
    m = await r.ask('{"id": 6, "method": "account.fund", "params": {"participant_id": "%s", "amount": -5, "amount": 100}}' % X.pid)
    b1 = await bal()
    check('duplicate "amount" (-5 then 100): BAD_REQUEST with nothing credited, or OK with exactly 100',
          (is_err(m) and b1 == b0) or ('result' in m and b1 == b0 + 100), (m, b0, b1))
    b0 = await bal()
    m = await r.ask('{"id": 7, "method": "account.fund", "params": {"participant_id": "%s", "amount": 100, "amount": -5}}' % X.pid)
    b1 = await bal()
    check('duplicate "amount" (100 then -5): BAD_REQUEST with nothing credited, or OK with exactly 100',
          (is_err(m) and b1 == b0) or ('result' in m and b1 == b0 + 100), (m, b0, b1))
    print('  info: duplicate amount keys ->', code(m))
    b0 = await bal()
    m = await r.ask('{"id": 8, "method": "account.fund", "params": {"participant_id": "%s", "amount": 100}, "params": {"participant_id": "%s", "amount": 200}}' % (X.pid, X.pid))
    b1 = await bal()
    check('duplicate "params": BAD_REQUEST with nothing credited, or exactly one of 100/200 credited',
          (is_err(m) and b1 == b0) or ('result' in m and b1 - b0 in (100, 200)), (m, b0, b1))
    m = await r.ask('{"id": 9, "id": "nine", "method": "time.now"}')
    check('duplicate "id": answered (BAD_REQUEST or a result) echoing one of the ids or null',
          isinstance(m, dict) and m.get('id', 'x') in (9, 'nine', None) and ('result' in m or is_err(m)), m)
    m = await r.ask('{"id": 10, "method": "account.fund", "method": "time.now", "params": {"participant_id": "%s", "amount": 100}}' % X.pid)
    b2 = await bal()
    check('duplicate "method" (account.fund then time.now): refused or one method run, matching its reply',
          isinstance(m, dict) and (is_err(m) and b2 == b1 or ('result' in m and (('now' in m['result'] and b2 == b1) or (b2 == b1 + 100))))
          , (m, b1, b2))
    await alive('after duplicate keys')
    # --- 4. id of every JSON type / params of every type
    for idtxt in ('[]', '[1]', '{"a": 1}', 'false', '""', '"' + 'i' * 5000 + '"', '-0', '1e2', '0.0', '9223372036854775807', '-9223372036854775808'):
        m = await r.ask('{"id": %s, "method": "time.now"}' % idtxt)
        want = json.loads(idtxt)
        good_id = (isinstance(want, str)) or (isinstance(want, int) and not isinstance(want, bool) and idtxt not in ('-0',))
        if good_id:
            check(f'id {idtxt[:20]} echoed exactly on time.now', isinstance(m, dict) and m.get('id', 'x') == want and 'result' in m, m if not isinstance(m, dict) else {k: str(v)[:80] for k, v in m.items()})
        elif idtxt == '-0':
            check('id -0 -> echoed as 0 or id null BAD_REQUEST', isinstance(m, dict) and ((m.get('id') == 0 and 'result' in m) or (m.get('id', 'x') is None and is_err(m))), m)
        else:
            check(f'id {idtxt[:20]} (not string/int64) -> id null BAD_REQUEST', isinstance(m, dict) and m.get('id', 'x') is None and is_err(m), m)
    for ptxt in ('null', '[]', '[{}]', '""', '0', 'false', '{"": 1}', '{"request_id": null}', '{"request_id": ""}', '{"request_id": {}}'):
        m = await r.ask('{"id": 11, "method": "account.get", "params": %s}' % ptxt)
        check(f'account.get params {ptxt} -> a result or BAD_REQUEST, id 11', isinstance(m, dict) and m.get('id') == 11 and ('result' in m or is_err(m)), m)
    for mt in ('""', '"TIME.NOW"', '"time.now "', '"time.now\\u0000"', '"time..now"', '"time"', '"__proto__"', '"constructor"',
               '"' + 'm' * 10000 + '"', 'null', '["time.now"]', '{"m": 1}'):
        m = await r.ask('{"id": 12, "method": %s}' % mt)
        check(f'method {mt[:30]} -> BAD_REQUEST, id 12', isinstance(m, dict) and m.get('id') == 12 and is_err(m), m)
    await alive('after id/params/method types')
    # --- 5. lone surrogate escapes and NUL escapes inside string values: refused, or stored and echoed as valid JSON (UTF-8)
    for i, txt in enumerate(('\\ud800', '\\udfff', 'a\\u0000b', '\\ud83d\\ude00', '\\ud800\\u0041', '\\u00e9\\u4e2d')):
        aid = 'SUR%d' % i
        m = await r.ask('{"id": 13, "method": "asset.register", "params": {"asset_id": "%s", "kind": "trademark", "title": "%s", "owner": "%s", '
                        '"region": "chengdu", "industry": "other", "valuation": 100, "expires_at": %d}}' % (aid, txt, X.pid, T0 + DAY))
        ok = isinstance(m, dict) and (is_err(m) or 'result' in m)
        check(f'asset.register title "{txt}" -> a documented answer, valid UTF-8 JSON', ok, m)
        if isinstance(m, dict) and 'result' in m:
            print(f'  info: title "{txt}" accepted; echoed title {m["result"].get("title")!r}')
    await alive('after surrogate/NUL escapes')
    for i, txt in enumerate(('\\ud800', 'a\\u0000b', 'x\\u0000')):
        m = await r.ask('{"id": 14, "method": "asset.register", "params": {"asset_id": "%s", "kind": "trademark", "title": "t", "owner": "%s", '
                        '"region": "chengdu", "industry": "other", "valuation": 100, "expires_at": %d}}' % (txt, X.pid, T0 + DAY))
        check(f'asset_id "{txt}" -> BAD_REQUEST or stored (valid UTF-8 reply)', isinstance(m, dict) and (is_err(m) or 'result' in m), m)
        if isinstance(m, dict) and 'result' in m:
            g = await r.ask(json.dumps({'id': 15, 'method': 'account.get', 'params': {'participant_id': X.pid}}))
            print(f'  info: asset_id "{txt}" accepted as {m["result"].get("asset_id")!r}; account.get ->', code(g))
            check(f'account.get after asset_id "{txt}" -> valid reply', isinstance(g, dict) and 'result' in g, g)
    # --- 6. deep nesting in an unknown field, in a known field, and at top level: BAD_REQUEST, no crash
    for depth in (100, 1000, 10000, 30000):
        for where, fr in (('unknown field', '{"id": 16, "method": "time.now", "params": {"x": %s1%s}}' % ('[' * depth, ']' * depth)),
                          ('amount', '{"id": 16, "method": "account.fund", "params": {"participant_id": "%s", "amount": %s1%s}}' % (X.pid, '[' * depth, ']' * depth)),
                          ('objects', '{"id": 16, "method": "time.now", "params": %s%s}' % ('{"a":' * depth, '}' * depth)),
                          ('top level', '[' * depth + ']' * depth)):
            if len(fr) > 65536: continue
            m = await r.ask(fr, timeout=15)
            check(f'nesting {depth} ({where}) -> BAD_REQUEST', is_err(m), m)
        if srv.proc.poll() is not None: break
    await alive('after deep nesting')
    m = await r.ask('[' * 40000, timeout=15)
    check('40000 unclosed [ -> id null BAD_REQUEST', is_err(m) and m.get('id', 'x') is None, m)
    # --- 7. huge arrays near the 64 KiB limit in known fields
    n = (65536 - 200) // 6
    m = await r.ask(json.dumps({'id': 17, 'method': 'subscribe', 'params': {'channels': ['x.%03d' % (i % 1000) for i in range(n // 2)]}}), timeout=20)
    check(f'subscribe with {n // 2} bogus channels -> answered (BAD_REQUEST/FORBIDDEN/NOT_FOUND or result)', isinstance(m, dict) and m.get('id') == 17 and ('result' in m or code(m) in CODES), str(m)[:300])
    def ac(k): return json.dumps({'id': 18, 'method': 'auction.create', 'params': {
        'lot': ['L%d' % i for i in range(k)], 'purpose': 'transfer', 'format': 'english', 'start_price': 1000, 'increment': 10,
        'deposit': 100, 'opens_at': T0, 'closes_at': T0 + DAY}})
    while len(ac(n)) > 65536: n -= 50
    m = await r.ask(ac(n), timeout=20)
    check(f'auction.create with {n} unknown lot ids -> NOT_FOUND or BAD_REQUEST', isinstance(m, dict) and code(m) in ('NOT_FOUND', 'BAD_REQUEST'), str(m)[:300])
    m = await r.ask(json.dumps({'id': 19, 'method': 'time.now', 'params': {'x': [0] * ((65536 - 100) // 3)}}), timeout=20)
    check('time.now with a 32k-element unknown array -> BAD_REQUEST', is_err(m), str(m)[:200])
    m = await r.ask(json.dumps({'id': 20, 'method': 'time.now', 'params': {('k%d' % i): 1 for i in range(5000)}}), timeout=20)
    check('time.now with 5000 unknown keys -> BAD_REQUEST', is_err(m), str(m)[:200])
    await alive('after huge arrays')
    # --- 8. nothing moved: X's balance equals the sum of the credits the server said it applied (checked above), and
    # the server still serves HTTP
    h = urllib.request.urlopen(base + '/healthz', timeout=10)
    check('/healthz 200 at the end', h.status == 200)
    check('process never restarted', srv.proc.poll() is None and srv.proc.pid == pid0)
run('x01', sc)
