# auth.login failures and results per kind; methods before login; participant.create validation;
# account.get fields and who may read whose account; account.fund
from common import *
import websockets, hmac, hashlib
def sg(key, secret, ts, nonce): return hmac.new(secret.encode(), f'{key}\n{ts}\n{nonce}'.encode(), hashlib.sha256).hexdigest()
async def rs(ws, obj):
    await ws.send(json.dumps(obj)); return json.loads(await asyncio.wait_for(ws.recv(), 10))
def code(r): return r.get('error', {}).get('code', 'OK')
async def sc(ctx):
    a = ctx.adm
    ws = await websockets.connect(ctx.url)
    for m, p in (('account.get', {}), ('subscribe', {'channels': ['private']}), ('order.place', {'market_id': 'M', 'side': 'buy', 'type': 'limit', 'price': 100, 'qty': 1, 'tif': 'gtc', 'client_order_id': 'x'}),
                 ('participant.create', {'name': 'n', 'kind': 'enterprise', 'region': 'chengdu', 'whitelisted': True}), ('time.advance', {'ms': 1}), ('unsubscribe', {'channels': ['private']})):
        r = await rs(ws, {'id': 1, 'method': m, 'params': p})
        check(f'{m} before login -> UNAUTHENTICATED', code(r) == 'UNAUTHENTICATED', r)
    wall = (await rs(ws, {'id': 2, 'method': 'time.now'}))['result']['wall']
    def lg(key=ADMIN_KEY, secret=ADMIN_SECRET, ts=None, nonce=None, sig=None):
        ts = int(time.time() * 1000) if ts is None else ts; nonce = nonce or os.urandom(10).hex()
        return {'id': 3, 'method': 'auth.login', 'params': {'key': key, 'ts': ts, 'nonce': nonce, 'sig': sig or sg(key, secret, ts, nonce)}}
    r = await rs(ws, lg(key='nosuchkey', secret='whatever'))
    check('unknown key -> UNAUTHENTICATED', code(r) == 'UNAUTHENTICATED', r)
    r = await rs(ws, lg(secret='wrong-secret'))
    check('wrong secret -> UNAUTHENTICATED', code(r) == 'UNAUTHENTICATED', r)
    ts = int(time.time() * 1000); n = os.urandom(10).hex()
    r = await rs(ws, lg(ts=ts, nonce=n, sig=sg(ADMIN_KEY, ADMIN_SECRET, ts, n).upper()))
    print('  info: uppercase-hex sig ->', code(r))
    r = await rs(ws, lg(ts=ts, nonce=n + 'z', sig=sg(ADMIN_KEY, ADMIN_SECRET, ts + 1, n + 'z')))
    check('sig over a different ts -> UNAUTHENTICATED', code(r) == 'UNAUTHENTICATED', r)
    r = await rs(ws, lg(ts=int(time.time() * 1000) - 120_000))
    check('ts 2 min stale -> UNAUTHENTICATED', code(r) == 'UNAUTHENTICATED', r)
    r = await rs(ws, lg(ts=0))
    check('ts 0 -> UNAUTHENTICATED', code(r) == 'UNAUTHENTICATED', r)
    # ts engine-time (manual clock T0) is irrelevant: only the wall clock counts
    r = await rs(ws, lg(ts=T0))
    check('ts = engine time (far from wall) -> UNAUTHENTICATED', code(r) == 'UNAUTHENTICATED', r)
    # nonce used in a stale-ts failure is burnt
    nb = os.urandom(10).hex()
    r = await rs(ws, lg(ts=int(time.time() * 1000) - 120_000, nonce=nb))
    r = await rs(ws, lg(nonce=nb))
    check('nonce seen in stale-ts failure is refused later', code(r) == 'UNAUTHENTICATED', r)
    nb = os.urandom(10).hex()
    r = await rs(ws, lg(ts=int(time.time() * 1000) + 120_000, nonce=nb))
    r = await rs(ws, lg(nonce=nb))
    check('nonce seen in future-ts failure is refused later', code(r) == 'UNAUTHENTICATED', r)
    nb = os.urandom(10).hex()
    r = await rs(ws, lg(key='nosuchkey', secret='x', nonce=nb))
    r = await rs(ws, lg(nonce=nb))
    check('nonce seen in unknown-key failure is refused later', code(r) == 'UNAUTHENTICATED', r)
    nb = os.urandom(10).hex()
    r = await rs(ws, lg(secret='wrong', nonce=nb))
    r = await rs(ws, lg(nonce=nb))
    check('nonce seen in bad-sig failure is refused later', code(r) == 'UNAUTHENTICATED', r)
    # nonce replay across connections
    nn = os.urandom(10).hex(); t = int(time.time() * 1000)
    r = await rs(ws, lg(ts=t, nonce=nn))
    check('good login ok after failures on same connection', code(r) == 'OK' and r['result'].get('participant_id'), r)
    ws2 = await websockets.connect(ctx.url)
    r = await rs(ws2, lg(ts=t, nonce=nn))
    check('replayed nonce on another connection -> UNAUTHENTICATED', code(r) == 'UNAUTHENTICATED', r)
    r = await rs(ws2, {'id': 9, 'method': 'account.get', 'params': {}})
    check('still not logged in after failed login', code(r) == 'UNAUTHENTICATED', r)
    # a trader's nonce is the same namespace? use the same nonce for a different key
    # results per kind
    exp = {'operator': {'operator'}, 'bank': {'bank'}, 'enterprise': {'trader'}, 'individual': {'trader'}, 'backstop': {'backstop'}, 'risk_fund': set()}
    made = {}
    for kind, roles in exp.items():
        r = await a.call('participant.create', name=f'n-{kind}', kind=kind, region='deyang', whitelisted=True)
        check(f'participant.create {kind} returns participant_id, api_key, api_secret strings', all(isinstance(r.get(k), str) and r.get(k) for k in ('participant_id', 'api_key', 'api_secret')), r)
        c = await Client.connect(ctx.url); ctx.clients.append(c)
        res = await c.login(r['api_key'], r['api_secret'])
        check(f'login {kind}: kind and roles', res.get('participant_id') == r['participant_id'] and res.get('kind') == kind and set(res.get('roles', ['?'])) == roles and isinstance(res.get('roles'), list), res)
        c.pid = r['participant_id']; made[kind] = c
    # admin kind creatable?
    e = await a.errm('participant.create', name='a2', kind='admin', region='chengdu', whitelisted=True)
    print('  info: participant.create kind admin ->', e[0])
    # participant.create validation
    for p, f in ((dict(kind='enterprise', region='chengdu', whitelisted=True), 'name'),
                 (dict(name='x', region='chengdu', whitelisted=True), 'kind'),
                 (dict(name='x', kind='enterprise', whitelisted=True), 'region'),
                 (dict(name='x', kind='Enterprise', region='chengdu', whitelisted=True), 'kind'),
                 (dict(name='x', kind='enterprise', region='Chengdu', whitelisted=True), 'region'),
                 (dict(name='x', kind='enterprise', region='cheng du', whitelisted=True), 'region'),
                 (dict(name='x', kind='enterprise', region='', whitelisted=True), 'region'),
                 (dict(name='x', kind='enterprise', region='chengdu', whitelisted=1), 'whitelisted')):
        e = await a.errm('participant.create', **p)
        check(f'participant.create missing/bad {f} -> BAD_REQUEST naming it', e[0] == 'BAD_REQUEST' and f in e[1], (p, e))
    e = await a.errm('participant.create', name='', kind='enterprise', region='chengdu', whitelisted=True)
    print('  info: empty name ->', e)
    e = await a.errm('participant.create', name='x', kind='enterprise', region='chongqing', whitelisted=True)
    print('  info: non-pilot lowercase region ->', e[0])
    e = await made['operator'].errm('participant.create', name='x', kind='enterprise', region='chengdu', whitelisted=True)
    check('operator participant.create -> FORBIDDEN (admin only)', e[0] == 'FORBIDDEN', e)
    e = await made['bank'].errm('participant.create', name='x', kind='enterprise', region='chengdu', whitelisted=True)
    check('bank participant.create -> FORBIDDEN', e[0] == 'FORBIDDEN', e)
    # account.fund: admin only
    tr = made['enterprise']; tr2 = made['individual']
    e = await made['operator'].errm('account.fund', participant_id=tr.pid, amount=100)
    check('operator account.fund -> FORBIDDEN (admin only)', e[0] == 'FORBIDDEN', e)
    r = await a.call('account.fund', participant_id=tr.pid, amount=12_345)
    check('account.fund returns the account', r.get('participant_id') == tr.pid and r.get('cash_available') == 12_345 and r.get('cash_held') == 0 and isinstance(r.get('positions'), list), r)
    # account.get fields and visibility
    g = await tr.call('account.get')
    check('account.get self fields', set(g) >= {'participant_id', 'cash_available', 'cash_held', 'positions'} and g['participant_id'] == tr.pid and g['cash_available'] == 12_345, g)
    g2 = await tr.call('account.get', participant_id=tr.pid)
    check('account.get with own participant_id', g2 == g, (g, g2))
    for who in ('operator',):
        r = await made[who].errm('account.get', participant_id=tr.pid)
        check(f'{who} reads trader account', r[0] == 'OK' and r[1]['cash_available'] == 12_345, r)
    r = await a.errm('account.get', participant_id=tr.pid)
    check('admin reads trader account', r[0] == 'OK' and r[1]['participant_id'] == tr.pid, r)
    for who in ('bank', 'individual', 'backstop', 'risk_fund'):
        r = await made[who].errm('account.get', participant_id=tr.pid)
        check(f'{who} reading another account -> NOT_FOUND', r[0] == 'NOT_FOUND', r)
        r = await made[who].errm('account.get', participant_id='P-does-not-exist')
        check(f'{who} reading unknown account -> NOT_FOUND', r[0] == 'NOT_FOUND', r)
        r = await made[who].errm('account.get')
        check(f'{who} reads own account', r[0] == 'OK' and r[1]['participant_id'] == made[who].pid, r)
    r = await made['operator'].errm('account.get', participant_id='P-does-not-exist')
    check('operator reading unknown account -> NOT_FOUND', r[0] == 'NOT_FOUND', r)
    r = await made['operator'].errm('account.get', participant_id=made['bank'].pid)
    check('operator reads bank account', r[0] == 'OK', r)
    # funding a risk_fund / bank
    r = await a.errm('account.fund', participant_id=made['risk_fund'].pid, amount=500)
    check('fund risk_fund account', r[0] == 'OK' and r[1]['cash_available'] == 500, r)
    r = await made['risk_fund'].call('account.get')
    check('risk_fund reads own funded account', r['cash_available'] == 500, r)
    # funds accumulate
    await a.call('account.fund', participant_id=tr.pid, amount=1)
    check('fund accumulates', (await tr.call('account.get'))['cash_available'] == 12_346)
run('s02', sc)
