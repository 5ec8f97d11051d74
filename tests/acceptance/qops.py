"""Helpers for the operator scenarios (q01, q02): start ipxd with chosen flags/environment on a database of the
scenario's own, wait for its one "ready" line or its exit, stop it. Written from PROTOCOL.md "Running the server"
and docs/protocol.md "Running the server" / "Transport" only."""
import os, sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import *
import ssl, urllib.request, urllib.error

class Procs:
    def __init__(self, tag):
        self.tag = tag; self.all = []; self.n = 0
        os.makedirs(LOGS, exist_ok=True)
    def launch(self, args, env_extra=None, keep_env=False):
        """ipxd with args; the environment holds no IPX_* variable unless keep_env or given in env_extra."""
        env = {k: v for k, v in os.environ.items() if keep_env or not k.startswith('IPX_')}
        env.update(env_extra or {})
        self.n += 1
        log = os.path.join(LOGS, f'{self.tag}-{self.n}.log')
        p = subprocess.Popen([BIN, *args], env=env, stdout=open(log, 'w'), stderr=subprocess.STDOUT)
        p.log = log; self.all.append(p)
        return p
    def stop_all(self):
        for p in self.all: stop(p)

def wait_ready(p, secs=30):
    """(scheme, host:port, line) once the ready line names the URL; (None, None, log text) if it exits first."""
    deadline = time.time() + secs
    while time.time() < deadline:
        txt = open(p.log).read()
        for line in txt.splitlines():
            m = re.search(r'(wss?)://([0-9.]+:\d+)/v1/ws', line)
            if 'ready' in line and m: return m.group(1), m.group(2), line
        if p.poll() is not None: return None, None, open(p.log).read()
        time.sleep(0.03)
    return None, None, open(p.log).read()

def wait_exit(p, secs=20):
    try: return p.wait(secs)
    except subprocess.TimeoutExpired:
        return 'still running'

def stop(p):
    if p.poll() is None:
        p.terminate()
        try: p.wait(10)
        except Exception: p.kill(); p.wait()

def fresh_db(name):
    db = f'acceptance_{name}_{os.getpid()}'
    psql(f'DROP DATABASE IF EXISTS {db} WITH (FORCE)'); psql(f'CREATE DATABASE {db}')
    return db, f'{PG_BASE} dbname={db}'

def drop_db(db):
    psql(f'DROP DATABASE IF EXISTS {db} WITH (FORCE)', check=False)

def http_get(url, ctx=None, timeout=10):
    try:
        r = urllib.request.urlopen(url, context=ctx, timeout=timeout)
        return r.status, r.read().decode(errors='replace')
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors='replace')
    except Exception as e:
        return type(e).__name__, str(e)

async def ws_login(url, key, secret, sslctx=None):
    c = Client(await websockets.connect(url, max_size=None, ssl=sslctx)); await c.login(key, secret); return c

def finish():
    fails = [r for r in RESULTS if not r[1]]
    print('FAIL' if fails else 'PASS'); sys.exit(1 if fails else 0)
