# Envelope and frame rules: id forms, non-object frames, frame checks before login, unknown method,
# params not an object, unknown fields / wrong types named, connection stays open, fragmented frames
from common import *
import websockets
async def rs(ws, frame):
    await ws.send(frame); return json.loads(await asyncio.wait_for(ws.recv(), 10))
async def raw_fragmented_close(url, body, chunk=20000):
    import base64, struct
    hp = url.split('//')[1].split('/')[0]; host, port = hp.split(':')
    rd, wr = await asyncio.open_connection(host, int(port))
    key = base64.b64encode(os.urandom(16)).decode()
    wr.write((f'GET /v1/ws HTTP/1.1\r\nHost: {hp}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
              f'Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n').encode())
    await rd.readuntil(b'\r\n\r\n')
    data = body.encode(); parts = [data[i:i + chunk] for i in range(0, len(data), chunk)]
    try:
        for i, p in enumerate(parts):
            op = 0x1 if i == 0 else 0x0; fin = 0x80 if i == len(parts) - 1 else 0
            mask = os.urandom(4); hdr = bytes([fin | op])
            hdr += bytes([0x80 | 126]) + struct.pack('>H', len(p)) if len(p) < 65536 else bytes([0x80 | 127]) + struct.pack('>Q', len(p))
            wr.write(hdr + mask + bytes(b ^ mask[j % 4] for j, b in enumerate(p))); await wr.drain()
    except (ConnectionError, OSError):
        pass
    try:
        h = await asyncio.wait_for(rd.readexactly(2), 5)
        ln = h[1] & 0x7f
        if ln == 126: ln = struct.unpack('>H', await rd.readexactly(2))[0]
        pl = await rd.readexactly(ln)
        wr.close()
        return struct.unpack('>H', pl[:2])[0] if (h[0] & 0x0f) == 0x8 and len(pl) >= 2 else ('frame', h[0], pl[:50])
    except Exception as ex:
        return repr(ex)
def code(r): return r.get('error', {}).get('code', 'OK') if isinstance(r, dict) else r
async def sc(ctx):
    a = ctx.adm
    ws = await websockets.connect(ctx.url, max_size=None)
    # --- non-object frames, before login: BAD_REQUEST with id null, connection stays open
    for fr in ('"str"', '123', 'null', 'true', '[]', '{"id":1,', ''):
        r = await rs(ws, fr)
        check(f'pre-login non-object frame {fr!r} -> id null BAD_REQUEST', r.get('id', 'x') is None and code(r) == 'BAD_REQUEST', r)
    # --- malformed id before login: frame checks come before login checks
    for idtxt in ('7.0', 'null', 'true', '{}', '9223372036854775808', '-9223372036854775809', '1e3', '7.5', '18446744073709551616'):
        r = await rs(ws, '{"id": %s, "method": "account.get", "params": {}}' % idtxt)
        check(f'pre-login id {idtxt} -> id null BAD_REQUEST (frame check before login)', r.get('id', 'x') is None and code(r) == 'BAD_REQUEST', r)
    r = await rs(ws, '{"method": "account.get", "params": {}}')
    check('pre-login missing id -> id null', r.get('id', 'x') is None and 'error' in r, r)
    print('  info: pre-login missing id on account.get ->', r)
    # valid ids: string, int, int64 bounds, empty string, zero
    for idv in ('abc', '', 0, 9223372036854775807, -9223372036854775808, -1, 'x' * 200):
        r = await rs(ws, json.dumps({'id': idv, 'method': 'time.now'}))
        check(f'id {str(idv)[:30]!r} echoed on time.now', r.get('id', 'MISSING') == idv and 'result' in r, r)
    r = await rs(ws, '{"id": 9223372036854775807, "method": "account.get"}')
    check('int64 max id echoed exactly on UNAUTHENTICATED', r.get('id') == 9223372036854775807 and code(r) == 'UNAUTHENTICATED', r)
    # pre-login: unknown method / bad params / missing method -> UNAUTHENTICATED (login check before method check)
    for fr in ('{"id": 11, "method": "no.such"}', '{"id": 12, "method": "account.get", "params": [1]}',
               '{"id": 13}', '{"id": 14, "method": 5}', '{"id": 15, "method": "order.place", "params": {"bogus": 1}}'):
        r = await rs(ws, fr)
        check(f'pre-login {fr} -> UNAUTHENTICATED', code(r) == 'UNAUTHENTICATED' and r.get('id') == json.loads(fr)['id'], r)
    # time.now before login with bad params -> BAD_REQUEST (time.now passes the login check)
    r = await rs(ws, '{"id": 16, "method": "time.now", "params": {"bogus": 1}}')
    check('pre-login time.now unknown field -> BAD_REQUEST naming it', code(r) == 'BAD_REQUEST' and 'bogus' in r['error'].get('message', ''), r)
    r = await rs(ws, '{"id": 17, "method": "time.now", "params": [1]}')
    check('pre-login time.now params array -> BAD_REQUEST', code(r) == 'BAD_REQUEST' and r.get('id') == 17, r)
    # malformed auth.login -> BAD_REQUEST
    for p, fld in (({'key': ADMIN_KEY, 'ts': 1, 'nonce': 'abcdefgh'}, 'sig'), ({'key': ADMIN_KEY, 'ts': 1.5, 'nonce': 'abcdefgh', 'sig': 'aa'}, 'ts'),
                   ({'key': 5, 'ts': 1, 'nonce': 'abcdefgh', 'sig': 'aa'}, 'key'), ({'key': ADMIN_KEY, 'ts': 1, 'nonce': 'abcdefgh', 'sig': 'aa', 'x': 1}, 'x'),
                   ({'key': ADMIN_KEY, 'ts': 1, 'nonce': 12345678, 'sig': 'aa'}, 'nonce')):
        r = await rs(ws, json.dumps({'id': 20, 'method': 'auth.login', 'params': p}))
        check(f'malformed auth.login ({fld}) -> BAD_REQUEST naming {fld}', code(r) == 'BAD_REQUEST' and fld in r['error'].get('message', ''), r)
    r = await rs(ws, json.dumps({'id': 21, 'method': 'auth.login'}))
    check('auth.login without params -> BAD_REQUEST', code(r) == 'BAD_REQUEST', r)
    # --- logged in
    c = await Client.connect(ctx.url); await c.login(ADMIN_KEY, ADMIN_SECRET); ctx.clients.append(c)
    w = c.ws
    async def rsc(frame):
        fut = asyncio.get_running_loop().create_future()
        try: i = json.loads(frame).get('id')
        except Exception: i = None
        c.pending[i if isinstance(i, (str, int)) and not isinstance(i, bool) else None] = fut
        await w.send(frame); return await asyncio.wait_for(fut, 10)
    r = await rsc('{"id": 30, "method": "no.such.method", "params": {}}')
    check('unknown method -> BAD_REQUEST, id echoed', code(r) == 'BAD_REQUEST' and r['id'] == 30, r)
    r = await rsc('{"id": 31}')
    check('missing method -> BAD_REQUEST', code(r) == 'BAD_REQUEST' and r['id'] == 31, r)
    r = await rsc('{"id": 32, "method": 7}')
    check('method not a string -> BAD_REQUEST', code(r) == 'BAD_REQUEST', r)
    for ptxt in ('[]', '"x"', '5', 'true'):
        r = await rsc('{"id": 33, "method": "account.get", "params": %s}' % ptxt)
        check(f'params {ptxt} (not object) -> BAD_REQUEST', code(r) == 'BAD_REQUEST' and r['id'] == 33, r)
    r = await rsc('{"id": 34, "method": "account.get", "params": null}')
    print('  info: params null on account.get ->', r)
    r = await rsc('{"id": 35, "method": "account.get"}')
    check('params omitted on method with only optional params -> OK', 'result' in r, r)
    r = await rsc('{"id": 36, "method": "account.get", "params": {}, "extra": 1}')
    print('  info: unknown top-level envelope field ->', code(r))
    # missing id after login: answered with id null (normal processing)
    r = await rsc('{"method": "time.now"}')
    check('missing id after login -> answered with id null', r.get('id', 'x') is None, r)
    r = await rsc('{"id": 7.0, "method": "time.now"}')
    check('id 7.0 after login -> id null BAD_REQUEST', r.get('id', 'x') is None and code(r) == 'BAD_REQUEST', r)
    # wrong types, named field
    tr = await ctx.mk('enterprise')
    cases = [('account.fund', dict(participant_id=tr.pid, amount='100'), 'amount'),
             ('account.fund', dict(participant_id=tr.pid, amount=1.5), 'amount'),
             ('account.fund', dict(participant_id=tr.pid, amount=True), 'amount'),
             ('account.fund', dict(participant_id=tr.pid, amount=-5), 'amount'),
             ('account.fund', dict(participant_id=123, amount=100), 'participant_id'),
             ('account.fund', dict(participant_id=tr.pid), 'amount'),
             ('account.fund', dict(participant_id=tr.pid, amount=100, colour='red'), 'colour'),
             ('participant.create', dict(name='n', kind='enterprise', region='chengdu', whitelisted='yes'), 'whitelisted'),
             ('participant.create', dict(name=5, kind='enterprise', region='chengdu', whitelisted=True), 'name'),
             ('participant.create', dict(name='n', kind='enterprise', region=['chengdu'], whitelisted=True), 'region'),
             ('time.advance', dict(ms='5'), 'ms'), ('time.advance', dict(ms=1.5), 'ms'), ('time.advance', dict(), 'ms'),
             ('account.get', dict(participant_id=7), 'participant_id'),
             ('account.get', dict(request_id=5), 'request_id'),
             ('subscribe', dict(channels='private'), 'channels'), ('subscribe', dict(channels=[5]), 'channels'),
             ('subscribe', dict(), 'channels')]
    for m, p, f in cases:
        e = await a.errm(m, **p)
        check(f'{m} {p} -> BAD_REQUEST naming {f}', e[0] == 'BAD_REQUEST' and f in str(e[1]), e)
    e = await a.errm('account.fund', participant_id=tr.pid, amount=100.0)
    print('  info: amount 100.0 (float with integral value) ->', e[0])
    e = await a.errm('account.fund', participant_id=tr.pid, amount=2**63)
    check('amount 2^63 -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    # request_id validation runs for every method
    e = await a.errm('time.advance', ms=1, request_id='q' * 65)
    check('request_id 65 chars on time.advance -> BAD_REQUEST', e[0] == 'BAD_REQUEST' and 'request_id' in e[1], e)
    # precedence after login: BAD_REQUEST before FORBIDDEN before NOT_FOUND
    e = await tr.errm('account.fund', participant_id='P-nope', amount='x')
    check('trader account.fund with bad type -> BAD_REQUEST (before FORBIDDEN)', e[0] == 'BAD_REQUEST', e)
    e = await tr.errm('account.fund', participant_id='P-nope', amount=5)
    check('trader account.fund unknown pid -> FORBIDDEN (before NOT_FOUND)', e[0] == 'FORBIDDEN', e)
    # fragmented message reassembled (< 64 KiB total) is one request
    fut = asyncio.get_running_loop().create_future(); c.pending[900] = fut
    body = json.dumps({'id': 900, 'method': 'time.now'})
    await w.send([body[:5], body[5:12], body[12:]])
    r = await asyncio.wait_for(fut, 10)
    check('fragmented text message reassembled', r.get('id') == 900 and 'result' in r, r)
    # fragmented, over 64 KiB after reassembly -> close 1009 (raw socket so the close frame is read reliably)
    cc = await raw_fragmented_close(ctx.url, json.dumps({'id': 1, 'method': 'time.now', 'params': {'pad': 'x' * 70000}}))
    check('fragments totalling > 64 KiB -> close 1009', cc == 1009, cc)
    r = await rsc('{"id": 999, "method": "time.now"}')
    check('connection still open', r.get('id') == 999, r)
run('s01', sc)
