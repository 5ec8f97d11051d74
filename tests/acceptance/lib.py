"""Acceptance harness: a fresh database + a private ipxd (manual clock) + a WebSocket client,
written from ../shared/PROTOCOL.md and DOMAIN.md only (not from the server's code or docs/).

Environment (run_all.py sets both): IPX_PG, a libpq connection string whose role may create
databases (its dbname is ignored); IPX_IPXD, the ipxd binary. IPX_ACCEPTANCE_LOGS: where each
scenario's ipxd log goes (default: a folder under the system's temp dir)."""
import asyncio, hashlib, hmac, itertools, json, os, re, subprocess, sys, tempfile, time, socket
import websockets

PG_BASE = ' '.join(t for t in os.environ.get('IPX_PG', '').split() if not t.startswith('dbname='))
BIN = os.environ.get('IPX_IPXD', '')
LOGS = os.environ.get('IPX_ACCEPTANCE_LOGS') or os.path.join(tempfile.gettempdir(), f'ipx-acceptance-{os.getppid()}')
ADMIN_KEY, ADMIN_SECRET = 'auditadmin', 'audit-secret-123'
T0 = 1767225600000  # 2026-01-01T00:00:00Z
MIN = 60_000; HOUR = 3_600_000; DAY = 86_400_000

def psql(sql, check=True):
    return subprocess.run(['psql', PG_BASE + ' dbname=postgres', '-qc', sql], check=check, capture_output=True)

class Server:
    """ipxd on a free port of its own choosing (--listen 127.0.0.1:0: its "ready" line names
    it), on a fresh database dropped at stop(). A failed start leaves nothing behind."""
    def __init__(self, name, start_ms=T0, extra=()):
        self.db = f"acceptance_{name}_{os.getpid()}"
        self.proc = None
        psql(f'DROP DATABASE IF EXISTS {self.db} WITH (FORCE)')
        psql(f'CREATE DATABASE {self.db}')
        try:
            self._start(name, start_ms, extra)
        except BaseException:
            self.stop()
            raise

    def _start(self, name, start_ms, extra):
        env = dict(os.environ, IPX_ADMIN_KEY=ADMIN_KEY, IPX_ADMIN_SECRET=ADMIN_SECRET)
        env.pop('IPX_REDIS', None)
        env.pop('IPX_LISTEN', None)
        self.log_path = os.path.join(LOGS, f'{name}.log')
        with open(self.log_path, 'w') as log:
            self.proc = subprocess.Popen([BIN, '--listen', '127.0.0.1:0', '--pg', f'{PG_BASE} dbname={self.db}',
                                          f'--manual-clock={start_ms}', *extra], env=env, stdout=log,
                                         stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            with open(self.log_path) as f:
                for line in f:
                    m = re.search(r'ws://([0-9.]+:\d+)/v1/ws', line)
                    if 'ready' in line and m:
                        self.url = f'ws://{m.group(1)}/v1/ws'
                        return
            if self.proc.poll() is not None:
                raise RuntimeError(f'ipxd exited ({self.proc.returncode}); see {self.log_path}')
            time.sleep(0.05)
        raise RuntimeError(f'ipxd not ready in 60 s; see {self.log_path}')

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try: self.proc.wait(10)
            except Exception: self.proc.kill(); self.proc.wait()
        r = psql(f'DROP DATABASE IF EXISTS {self.db} WITH (FORCE)', check=False)
        if r.returncode != 0:
            print(f'warning: could not drop {self.db}: {r.stderr.decode(errors="replace")}', file=sys.stderr)

class Err(Exception):
    def __init__(self, code, msg): super().__init__(f'{code}: {msg}'); self.code = code; self.msg = msg

class Client:
    def __init__(self, ws):
        self.ws = ws; self.ids = itertools.count(1); self.pending = {}; self.pushes = []; self.unmatched = []
        self.pev = asyncio.Event()
        self.reader = asyncio.ensure_future(self._read())
    @classmethod
    async def connect(cls, url):
        return cls(await websockets.connect(url, max_size=None))
    async def _read(self):
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                if isinstance(msg, dict) and 'channel' in msg:
                    self.pushes.append(msg); self.pev.set(); continue
                fut = self.pending.pop(msg.get('id'), None) if isinstance(msg, dict) else None
                if fut is not None and not fut.done(): fut.set_result(msg)
                else: self.unmatched.append(msg)
        except websockets.ConnectionClosed:
            pass
        for f in self.pending.values():
            if not f.done(): f.set_exception(ConnectionError('closed'))
    async def raw(self, method, params=None, id_=None):
        id_ = next(self.ids) if id_ is None else id_
        fut = asyncio.get_running_loop().create_future(); self.pending[id_] = fut
        req = {'id': id_, 'method': method}
        if params is not None: req['params'] = params
        await self.ws.send(json.dumps(req))
        return await asyncio.wait_for(fut, 30)
    async def call(self, method, **params):
        r = await self.raw(method, params)
        if 'error' in r: raise Err(r['error']['code'], r['error'].get('message', ''))
        return r['result']
    async def err(self, method, **params):
        """returns error code, or 'OK' if it succeeded"""
        r = await self.raw(method, params)
        if 'error' in r: return r['error']['code']
        return 'OK'
    async def errm(self, method, **params):
        r = await self.raw(method, params)
        if 'error' in r: return r['error']['code'], r['error'].get('message', '')
        return 'OK', r['result']
    async def login(self, key, secret):
        ts = int(time.time() * 1000); nonce = os.urandom(12).hex()
        sig = hmac.new(secret.encode(), f'{key}\n{ts}\n{nonce}'.encode(), hashlib.sha256).hexdigest()
        return await self.call('auth.login', key=key, ts=ts, nonce=nonce, sig=sig)
    async def drain(self, wait=0.3):
        await asyncio.sleep(wait); p = self.pushes; self.pushes = []; return p
    async def close(self):
        await self.ws.close(); self.reader.cancel()

class Ctx:
    def __init__(self, url): self.url = url; self.n = 0; self.clients = []
    async def admin(self):
        c = await Client.connect(self.url); await c.login(ADMIN_KEY, ADMIN_SECRET); self.adm = c; self.clients.append(c); return c
    async def mk(self, kind, region='chengdu', fund=0, whitelisted=True, name=None):
        self.n += 1
        r = await self.adm.call('participant.create', name=name or f'{kind}{self.n}', kind=kind, region=region, whitelisted=whitelisted)
        c = await Client.connect(self.url); await c.login(r['api_key'], r['api_secret']); c.pid = r['participant_id']
        c.key, c.secret = r['api_key'], r['api_secret']
        self.clients.append(c)
        if fund: await self.adm.call('account.fund', participant_id=c.pid, amount=fund)
        return c
    async def now(self): return (await self.adm.call('time.now'))['now']
    async def adv(self, ms): return (await self.adm.call('time.advance', ms=ms))['now']
    async def adv_to(self, t):
        n = await self.now()
        if t > n: return await self.adv(t - n)
        return n

RESULTS = []
def check(name, cond, detail=''):
    RESULTS.append((name, bool(cond), detail))
    print(('  ok   ' if cond else '  FAIL ') + name + ('' if cond else f'  -- {detail}'), flush=True)
    return cond

def server_sound(srv):
    """Checks that the server still runs and that its log holds no failed assertion."""
    check('process alive at the end', srv.proc.poll() is None, srv.proc.poll())
    log = open(srv.log_path).read()
    check('log has no "assertion failed"', 'assertion failed' not in log,
          [l for l in log.splitlines() if 'assert' in l][:3])

def run(name, scenario, start_ms=T0, sound=False):
    """sound: also server_sound() at the end (the hostile scenarios)."""
    if not PG_BASE or not BIN:
        print('acceptance: set IPX_PG and IPX_IPXD (run_all.py does)', file=sys.stderr)
        sys.exit(2)
    os.makedirs(LOGS, exist_ok=True)
    try:
        srv = Server(name, start_ms)
    except Exception as e:
        print(f'acceptance: {e}', file=sys.stderr)
        print('FAIL')
        sys.exit(1)
    async def main():
        ctx = Ctx(srv.url); await ctx.admin()
        try:
            await scenario(ctx)
        finally:
            for c in ctx.clients:
                try: await c.close()
                except Exception: pass
    try:
        asyncio.run(main())
    except Exception as e:
        import traceback; traceback.print_exc(); RESULTS.append(('scenario raised', False, repr(e)))
    finally:
        if sound: server_sound(srv)
        srv.stop()
    fails = [r for r in RESULTS if not r[1]]
    print('FAIL' if fails else 'PASS')
    sys.exit(1 if fails else 0)
