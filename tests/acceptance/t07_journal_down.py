# Journal (PostgreSQL) unreachable: state-changing calls -> UNAVAILABLE with nothing applied and the request_id not kept;
# /healthz stays 200 (process up), /readyz is not 200 (journal not reachable); after the journal returns, /readyz 200 and
# the same request_id applies once. The outage is made by refusing connections to this scenario's own database only.
from common import *
import urllib.request, urllib.error
def http(url, path):
    u = url.replace('ws://', 'http://').replace('/v1/ws', path)
    try:
        return urllib.request.urlopen(u, timeout=5).status
    except urllib.error.HTTPError as e:
        return e.code
    except Exception as e:
        return repr(e)
async def send_nowait(c, method, params, id_):
    fut = asyncio.get_running_loop().create_future(); c.pending[id_] = fut
    await c.ws.send(json.dumps({'id': id_, 'method': method, 'params': params}))
    return fut
def dbname():
    # lib.Server names the database acceptance_<name>_<pid>
    return f'acceptance_t07_{os.getpid()}'
async def sc(ctx):
    a = ctx.adm
    X = await ctx.mk('individual', fund=1_000)
    own = await ctx.mk('enterprise')
    _, A = await new_auction(ctx, own)
    check('/readyz 200 before the outage', http(ctx.url, '/readyz') == 200)
    db = dbname()
    psql(f'ALTER DATABASE {db} ALLOW_CONNECTIONS false')
    psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}' AND pid <> pg_backend_pid()")
    # A command the server applied before it saw the outage is kept and answered when the journal
    # returns (nothing lost); one sent after it saw it gets UNAVAILABLE. The server looks at its idle
    # journal connection before each change, so it sees a terminated backend at once, but the backend's
    # FATAL reaches it a little after pg_terminate_backend returns (more on a loaded machine): wait until
    # /readyz says the journal is unreachable (at most 10 s) before sending.
    for _ in range(100):
        if http(ctx.url, '/readyz') != 200: break
        await asyncio.sleep(0.1)
    try:
        # a reply must come: UNAVAILABLE (nothing applied); the harness waits at most 20 s for it
        fut = await send_nowait(a, 'account.fund', dict(participant_id=X.pid, amount=5, request_id='jd-1'), 'jd')
        t0 = time.monotonic()
        done, _ = await asyncio.wait([fut], timeout=float(os.environ.get('T07_WAIT', 20)))
        r = fut.result() if done else None
        print(f'  info: account.fund during the outage -> {r} after {time.monotonic() - t0:.1f} s')
        check('account.fund while the journal is down -> UNAVAILABLE (a reply within 20 s)', r is not None and r.get('error', {}).get('code') == 'UNAVAILABLE', r)
        check('/healthz 200 while the process runs', http(ctx.url, '/healthz') == 200)
        rz = http(ctx.url, '/readyz')
        check('/readyz not 200 while the journal is unreachable', rz != 200, rz)
        print('  info: /readyz during outage ->', rz)
        fut2 = await send_nowait(X, 'time.now', {}, 'tn')
        done2, _ = await asyncio.wait([fut2], timeout=5)
        print('  info: time.now (another connection) answered during the outage:', bool(done2))
    finally:
        psql(f'ALTER DATABASE {db} ALLOW_CONNECTIONS true')
    rz = None
    for i in range(60):
        rz = http(ctx.url, '/readyz')
        if rz == 200: break
        await asyncio.sleep(0.5)
    check('/readyz 200 again after the journal returns', rz == 200, rz)
    try: r = await asyncio.wait_for(asyncio.shield(fut), 30)
    except Exception as ex: r = repr(ex)
    print(f'  info: the pending account.fund, after the journal returned -> {r} at {time.monotonic() - t0:.1f} s')
    for i in range(20):
        e = await a.errm('account.fund', participant_id=X.pid, amount=5, request_id='jd-1')
        if e[0] != 'UNAVAILABLE': break
        await asyncio.sleep(0.5)
    check('same request_id after recovery -> ok (applied now, or the kept reply if the first one was applied)', e[0] == 'OK', e)
    x = await X.call('account.get')
    check('applied exactly once; the UNAVAILABLE attempts applied nothing', x['cash_available'] == 1_005 and x['cash_held'] == 0, x)
run('t07', sc)
