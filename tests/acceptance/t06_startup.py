# PROTOCOL.md "Running the server": flags and their environment variables (IPX_LISTEN, IPX_PG, IPX_ADMIN_KEY/SECRET),
# one "ready" line with the URL, non-zero exit with a message when it cannot start, --manual-clock with and without a
# start, the real clock (time.advance refused), TLS with --tls-cert/--tls-key.
import sys, os; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import *
import ssl, urllib.request, shutil
def launch(tag, args, env_extra=None, drop=()):
    env = dict(os.environ, IPX_ADMIN_KEY=ADMIN_KEY, IPX_ADMIN_SECRET=ADMIN_SECRET)
    for k in ('IPX_REDIS', 'IPX_LISTEN', 'IPX_PG') + tuple(drop): env.pop(k, None)
    env.update(env_extra or {})
    log = os.path.join(LOGS, f't06-{tag}.log')
    f = open(log, 'w')
    p = subprocess.Popen([BIN, *args], env=env, stdout=f, stderr=subprocess.STDOUT)
    return p, log
def wait_ready(p, log, secs=60):
    deadline = time.time() + secs
    while time.time() < deadline:
        txt = open(log).read()
        for line in txt.splitlines():
            m = re.search(r'(wss?)://([0-9.]+:\d+)/v1/ws', line)
            if 'ready' in line and m: return m.group(1), m.group(2), line
        if p.poll() is not None: return None, None, txt
        time.sleep(0.05)
    return None, None, open(log).read()
def wait_exit(p, secs=45):
    try: return p.wait(secs)
    except subprocess.TimeoutExpired:
        p.kill(); p.wait(); return 'still running'
def stop(p):
    if p.poll() is None:
        p.terminate()
        try: p.wait(10)
        except Exception: p.kill(); p.wait()
async def ws_admin(url, sslctx=None):
    c = Client(await websockets.connect(url, max_size=None, ssl=sslctx)); await c.login(ADMIN_KEY, ADMIN_SECRET); return c
def main():
    if not PG_BASE or not BIN: print('set IPX_PG and IPX_IPXD', file=sys.stderr); sys.exit(2)
    os.makedirs(LOGS, exist_ok=True)
    db = f'acceptance_t06_{os.getpid()}'
    psql(f'DROP DATABASE IF EXISTS {db} WITH (FORCE)'); psql(f'CREATE DATABASE {db}')
    pg = f'{PG_BASE} dbname={db}'
    procs = []
    tmp = tempfile.mkdtemp(prefix='t06-')
    try:
        # 1. everything from the environment
        p, log = launch('env', ['--manual-clock=1767225600000'], {'IPX_LISTEN': '127.0.0.1:0', 'IPX_PG': pg}); procs.append(p)
        scheme, hp, line = wait_ready(p, log)
        check('IPX_LISTEN + IPX_PG from the environment: ready line with ws:// URL', hp is not None, line)
        if hp:
            ready_lines = [l for l in open(log).read().splitlines() if 'ready' in l and '/v1/ws' in l]
            check('exactly one ready line with the URL', len(ready_lines) == 1, ready_lines)
            async def t1():
                c = await ws_admin(f'ws://{hp}/v1/ws')
                n = await c.call('time.now'); r = await c.call('time.advance', ms=5)
                await c.close(); return n, r
            n, r = asyncio.run(t1())
            check('env admin key logs in; --manual-clock=START_MS sets now', n['now'] == 1767225600000 and r['now'] == 1767225600005, (n, r))
        stop(p)
        # 2. flags override / no start value for the manual clock
        p, log = launch('mc', ['--listen', '127.0.0.1:0', '--pg', pg, '--manual-clock']); procs.append(p)
        scheme, hp, line = wait_ready(p, log)
        check('--manual-clock without a value starts', hp is not None, line)
        if hp:
            async def t2():
                c = await ws_admin(f'ws://{hp}/v1/ws')
                n1 = await c.call('time.now'); await asyncio.sleep(1.5); n2 = await c.call('time.now')
                r = await c.errm('time.advance', ms=1000); await c.close(); return n1, n2, r
            n1, n2, r = asyncio.run(t2())
            check('manual clock: engine time does not move by itself', n1['now'] == n2['now'], (n1, n2))
            check('manual clock: time.advance works', r[0] == 'OK' and r[1]['now'] == n2['now'] + 1000, r)
            print('  info: --manual-clock with no value starts at', n1['now'], 'wall', n1['wall'])
        stop(p)
        # 3. real clock: now follows the wall clock; time.advance refused
        p, log = launch('real', ['--listen', '127.0.0.1:0', '--pg', pg]); procs.append(p)
        scheme, hp, line = wait_ready(p, log)
        check('real-clock server starts', hp is not None, line)
        if hp:
            async def t3():
                c = await ws_admin(f'ws://{hp}/v1/ws')
                n = await c.call('time.now'); r = await c.errm('time.advance', ms=1000); await c.close(); return n, r
            n, r = asyncio.run(t3())
            check('real clock: now is about wall', abs(n['now'] - n['wall']) < 5000 and abs(n['wall'] - time.time() * 1000) < 10_000, n)
            check('real clock: time.advance refused (manual clock only)', r[0] != 'OK', r)
            print('  info: time.advance on a real-clock server ->', r)
        stop(p)
        # 4. cannot start -> non-zero exit with a message
        for tag, args, env_extra in (
                ('badpg', ['--listen', '127.0.0.1:0', '--pg', f'host=127.0.0.1 port=1 dbname={db} connect_timeout=3', '--manual-clock'], None),
                ('nopg', ['--listen', '127.0.0.1:0', '--manual-clock'], None),
                ('badflag', ['--listen', '127.0.0.1:0', '--pg', pg, '--no-such-flag'], None),
                ('certonly', ['--listen', '127.0.0.1:0', '--pg', pg, '--tls-cert', '/nonexistent.pem'], None),
                ('badconfig', ['--listen', '127.0.0.1:0', '--pg', pg, '--config', '/nonexistent/ipxd.conf'], None),
                ('badlisten', ['--listen', 'not-an-address', '--pg', pg], None)):
            p, log = launch(tag, args, env_extra); procs.append(p)
            rc = wait_exit(p)
            msg = open(log).read().strip()
            check(f'cannot start ({tag}) -> non-zero exit with a message', rc not in (0, 'still running') and len(msg) > 0, (rc, msg[-300:]))
        # port already in use
        s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1); busy = s.getsockname()[1]
        p, log = launch('busy', ['--listen', f'127.0.0.1:{busy}', '--pg', pg]); procs.append(p)
        rc = wait_exit(p)
        check('port in use -> non-zero exit with a message', rc not in (0, 'still running') and open(log).read().strip(), (rc, open(log).read()[-300:]))
        s.close()
        # missing admin credentials: either refuses to start (non-zero) or starts; report
        p, log = launch('noadmin', ['--listen', '127.0.0.1:0', '--pg', pg], drop=('IPX_ADMIN_KEY', 'IPX_ADMIN_SECRET'))
        procs.append(p)
        env = dict(os.environ); env.pop('IPX_ADMIN_KEY', None); env.pop('IPX_ADMIN_SECRET', None)
        stop(p)
        p = subprocess.Popen([BIN, '--listen', '127.0.0.1:0', '--pg', pg], env={k: v for k, v in env.items() if not k.startswith('IPX_')},
                             stdout=open(os.path.join(LOGS, 't06-noadmin.log'), 'w'), stderr=subprocess.STDOUT); procs.append(p)
        scheme, hp, line = wait_ready(p, os.path.join(LOGS, 't06-noadmin.log'), 20)
        print('  info: no admin key/secret in env or config ->', 'started' if hp else f'exit {p.poll()}: {line[-200:]}')
        stop(p)
        # 5. TLS
        cert, key = os.path.join(tmp, 'c.pem'), os.path.join(tmp, 'k.pem')
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
                        '-subj', '/CN=127.0.0.1'], check=True, capture_output=True)
        p, log = launch('tls', ['--listen', '127.0.0.1:0', '--pg', pg, '--manual-clock', '--tls-cert', cert, '--tls-key', key]); procs.append(p)
        scheme, hp, line = wait_ready(p, log)
        check('TLS: starts, ready line names wss:// URL', hp is not None and scheme == 'wss', line)
        if hp:
            ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
            async def t5():
                c = await ws_admin(f'wss://{hp}/v1/ws', ctx); n = await c.call('time.now'); await c.close(); return n
            try:
                n = asyncio.run(t5()); ok = 'now' in n
            except Exception as ex:
                ok, n = False, repr(ex)
            check('TLS: wss login and call', ok, n)
            try:
                h = urllib.request.urlopen(f'https://{hp}/healthz', context=ctx, timeout=10); st = h.status
            except Exception as ex:
                st = repr(ex)
            check('TLS: https /healthz 200 on the same port', st == 200, st)
        stop(p)
    except Exception as ex:
        import traceback; traceback.print_exc(); RESULTS.append(('scenario raised', False, repr(ex)))
    finally:
        for p in procs: stop(p)
        shutil.rmtree(tmp, ignore_errors=True)
        psql(f'DROP DATABASE IF EXISTS {db} WITH (FORCE)', check=False)
    fails = [r for r in RESULTS if not r[1]]
    print('FAIL' if fails else 'PASS'); sys.exit(1 if fails else 0)
main()
