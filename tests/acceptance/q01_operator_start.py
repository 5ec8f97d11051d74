# PROTOCOL "Running the server" as an operator meets it (beyond t06): --config FILE (flags as name=value lines, a
# comment line) with --manual-clock=START_MS in it; the admin key and secret from the configuration ("The server starts
# with one admin key and secret (configuration or environment)"); IPX_ADMIN_KEY defaulting to "admin" and
# IPX_ADMIN_SECRET required (docs/protocol.md); the message of a failed start names its cause (bad flag, bad flag
# value, port in use, PostgreSQL unreachable, missing secret); migrations at start are idempotent (a second start on
# the same database keeps state and schema); TLS: plain ws:// and http:// to the TLS port fail cleanly and the server
# goes on serving wss:// and https:// (/readyz, /metrics).
from qops import *

def main():
    if not PG_BASE or not BIN: print('set IPX_PG and IPX_IPXD', file=sys.stderr); sys.exit(2)
    P = Procs('q01'); db, pg = fresh_db('q01'); tmp = tempfile.mkdtemp(prefix='q01-')
    ADM = {'IPX_ADMIN_KEY': ADMIN_KEY, 'IPX_ADMIN_SECRET': ADMIN_SECRET}
    try:
        # 1. --config FILE: every flag as "name=value", a comment; START_MS from the file
        cfg = os.path.join(tmp, 'ipxd.conf')
        open(cfg, 'w').write(f'# ipxd configuration\nlisten=127.0.0.1:0\npg={pg}\nmanual-clock=1767225600000\n')
        p = P.launch(['--config', cfg], ADM)
        _, hp, line = wait_ready(p)
        check('--config FILE (listen, pg, manual-clock=START_MS as name=value lines) starts', hp is not None, line[-300:])
        if hp:
            async def t1():
                c = await ws_login(f'ws://{hp}/v1/ws', ADMIN_KEY, ADMIN_SECRET)
                n = await c.call('time.now'); a = await c.call('time.advance', ms=7)
                r = await c.call('participant.create', name='kept', kind='enterprise', region='chengdu', whitelisted=True)
                await c.close(); return n, a, r
            n, a, r = asyncio.run(t1())
            check('--config: manual clock at START_MS, time.advance moves it', n['now'] == 1767225600000 and a['now'] == 1767225600007, (n, a))
            kept_pid = r['participant_id']
        stop(p)
        tables1 = psql_tables(pg)

        # 2. admin key and secret from the configuration file (no IPX_ADMIN_* in the environment)
        started = None
        for kk, ss in (('admin-key', 'admin-secret'), ('admin_key', 'admin_secret'), ('IPX_ADMIN_KEY', 'IPX_ADMIN_SECRET')):
            open(cfg, 'w').write(f'listen=127.0.0.1:0\npg={pg}\nmanual-clock\n{kk}=cfgadmin\n{ss}=cfg-secret-42\n')
            p = P.launch(['--config', cfg])
            _, hp, line = wait_ready(p, 15)
            if hp:
                try:
                    async def t2():
                        c = await ws_login(f'ws://{hp}/v1/ws', 'cfgadmin', 'cfg-secret-42'); await c.close()
                    asyncio.run(t2()); started = (kk, ss)
                except Exception as ex:
                    print('  info: started with', kk, 'but login failed:', ex)
            else:
                print(f'  info: config with {kk}/{ss} ->', line.strip()[-200:])
            stop(p)
            if started: break
        check('admin key and secret may come from the configuration file (PROTOCOL: "configuration or environment")', started, 'no spelling accepted')

        # 3. IPX_ADMIN_KEY defaults to "admin"; IPX_ADMIN_SECRET is required (docs/protocol.md)
        p = P.launch(['--listen', '127.0.0.1:0', '--pg', pg, '--manual-clock'], {'IPX_ADMIN_SECRET': 'only-secret-1'})
        _, hp, line = wait_ready(p)
        ok = False
        if hp:
            async def t3():
                c = await ws_login(f'ws://{hp}/v1/ws', 'admin', 'only-secret-1'); r = await c.call('time.now'); await c.close(); return r
            try: ok = 'now' in asyncio.run(t3())
            except Exception as ex: line = repr(ex)
        check('IPX_ADMIN_SECRET alone: admin logs in with key "admin"', ok, line)
        stop(p)
        p = P.launch(['--listen', '127.0.0.1:0', '--pg', pg, '--manual-clock'], {'IPX_ADMIN_KEY': 'k'})
        rc = wait_exit(p); msg = open(p.log).read()
        check('no admin secret -> non-zero exit naming IPX_ADMIN_SECRET', rc not in (0, 'still running') and 'IPX_ADMIN_SECRET' in msg, (rc, msg[-200:]))

        # 4. a failed start says why
        s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1); busy = s.getsockname()[1]
        cases = (
            ('unknown flag', ['--listen', '127.0.0.1:0', '--pg', pg, '--frobnicate'], lambda m: '--frobnicate' in m or 'frobnicate' in m),
            ('--manual-clock=abc', ['--listen', '127.0.0.1:0', '--pg', pg, '--manual-clock=abc'], lambda m: 'manual-clock' in m or 'abc' in m),
            ('--listen port 70000', ['--listen', '127.0.0.1:70000', '--pg', pg], lambda m: 'listen' in m.lower() or '70000' in m),
            ('--listen without a value', ['--pg', pg, '--listen'], lambda m: 'listen' in m),
            ('port in use', ['--listen', f'127.0.0.1:{busy}', '--pg', pg], lambda m: str(busy) in m or 'in use' in m.lower()),
            ('PostgreSQL unreachable', ['--listen', '127.0.0.1:0', '--pg', f'host=127.0.0.1 port=1 dbname={db} connect_timeout=2'],
             lambda m: any(w in m.lower() for w in ('postgres', 'pg', 'connect', 'database'))),
            ('--tls-key without --tls-cert', ['--listen', '127.0.0.1:0', '--pg', pg, '--tls-key', '/nonexistent.key'], lambda m: 'tls' in m.lower()),
        )
        for tag, args, says in cases:
            p = P.launch(args, ADM)
            rc = wait_exit(p); msg = open(p.log).read().strip()
            check(f'cannot start ({tag}) -> non-zero exit and a message naming the cause', rc not in (0, 'still running') and says(msg), (rc, msg[-240:]))
            stop(p)
        s.close()
        garbage = os.path.join(tmp, 'garbage.pem'); open(garbage, 'w').write('not a certificate\n')
        p = P.launch(['--listen', '127.0.0.1:0', '--pg', pg, '--tls-cert', garbage, '--tls-key', garbage], ADM)
        rc = wait_exit(p); msg = open(p.log).read().strip()
        check('cannot start (unreadable TLS certificate) -> non-zero exit with a message', rc not in (0, 'still running') and msg, (rc, msg[-240:]))

        # 5. migrations idempotent: a second start on the same database keeps state and schema
        p = P.launch(['--listen', '127.0.0.1:0', '--pg', pg, '--manual-clock=1767225600000'], ADM)
        _, hp, line = wait_ready(p)
        check('second start on a migrated database: ready', hp is not None, line[-300:])
        if hp:
            async def t5():
                c = await ws_login(f'ws://{hp}/v1/ws', ADMIN_KEY, ADMIN_SECRET)
                a = await c.errm('account.get', participant_id=kept_pid); await c.close(); return a
            a = asyncio.run(t5())
            check('state from the first start survives the second (participant created then)', a[0] == 'OK', a)
        stop(p)
        check('schema unchanged by the second start (migrations applied once)', psql_tables(pg) == tables1 and tables1, (tables1, psql_tables(pg)))

        # 6. TLS: plain clients fail cleanly, the server goes on serving TLS
        cert, key = os.path.join(tmp, 'c.pem'), os.path.join(tmp, 'k.pem')
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
                        '-subj', '/CN=127.0.0.1'], check=True, capture_output=True)
        p = P.launch(['--listen', '127.0.0.1:0', '--pg', pg, '--manual-clock', '--tls-cert', cert, '--tls-key', key], ADM)
        scheme, hp, line = wait_ready(p)
        check('TLS server ready, wss:// URL', scheme == 'wss', line[-300:])
        if hp:
            async def plain():
                t = time.monotonic()
                try:
                    ws = await asyncio.wait_for(websockets.connect(f'ws://{hp}/v1/ws', open_timeout=8), 10)
                    await ws.close(); return 'connected', time.monotonic() - t
                except Exception as ex:
                    return type(ex).__name__, time.monotonic() - t
            r = asyncio.run(plain())
            check('plain ws:// to the TLS port fails (no upgrade) and promptly', r[0] != 'connected' and r[1] < 9, r)
            print('  info: plain ws to TLS ->', r)
            st = http_get(f'http://{hp}/healthz', timeout=5)
            check('plain http:// /healthz to the TLS port is not served as 200', not (isinstance(st, tuple) and st[0] == 200), st)
            ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
            # a raw TCP client that sends garbage and disconnects must not hurt the server either
            c = socket.create_connection(tuple([hp.split(':')[0], int(hp.split(':')[1])]), 5); c.sendall(b'\x00\x01garbage\r\n\r\n'); c.close()
            async def t6():
                c = await ws_login(f'wss://{hp}/v1/ws', ADMIN_KEY, ADMIN_SECRET, ctx); n = await c.call('time.now'); await c.close(); return n
            try: ok = 'now' in asyncio.run(t6())
            except Exception as ex: ok = repr(ex)
            check('after the plain attempts, wss:// login and call still work', ok is True, ok)
            rz = http_get(f'https://{hp}/readyz', ctx)
            check('https /readyz 200', rz[0] == 200, rz)
            mt = http_get(f'https://{hp}/metrics', ctx)
            check('https /metrics 200 with Prometheus text', mt[0] == 200 and '# TYPE' in mt[1], mt[0])
        stop(p)
    except Exception as ex:
        import traceback; traceback.print_exc(); RESULTS.append(('scenario raised', False, repr(ex)))
    finally:
        P.stop_all(); shutil.rmtree(tmp, ignore_errors=True); drop_db(db)
    finish()

def psql_tables(pg):
    r = subprocess.run(['psql', pg, '-Atc', "SELECT table_schema||'.'||table_name||':'||(SELECT count(*) FROM information_schema.columns c "
                        "WHERE c.table_schema=t.table_schema AND c.table_name=t.table_name) FROM information_schema.tables t "
                        "WHERE table_schema NOT IN ('pg_catalog','information_schema') ORDER BY 1"], capture_output=True, text=True)
    return r.stdout.split()

import shutil
main()
