"""Helpers for the crash scenarios (m01..): a server that can be killed (SIGKILL or SIGTERM) and restarted on the
same database with the same --manual-clock start, clients that log in again with kept keys, and a recorder of
requests sent with a request_id and the replies (or none) they got. Written from PROTOCOL.md only."""
import os, sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import *
import signal

class Who:
    """A participant's credentials, so it can log in again after a restart."""
    def __init__(self, name, key, secret, pid): self.name, self.key, self.secret, self.pid = name, key, secret, pid

def who(name, c): return Who(name, c.key, c.secret, c.pid)
ADMIN = Who('admin', ADMIN_KEY, ADMIN_SECRET, None)

async def login(url, w):
    c = await Client.connect(url); await c.login(w.key, w.secret); c.pid = w.pid; c.key, c.secret = w.key, w.secret
    return c

def body(r):
    """a reply without its id"""
    return {k: v for k, v in r.items() if k != 'id'}

class Rec:
    """requests sent with a request_id: (who, method, params, reply or None)"""
    def __init__(self): self.items = []
    async def send(self, c, w, method, params, expect='OK'):
        """sends; the item counts as sent once the frame was handed to the socket. expect: the code a run without a
        crash gives (OK or an error code), to check retries of unanswered requests"""
        it = {'who': w, 'method': method, 'params': dict(params), 'reply': None, 'sent': False, 'expect': expect}
        id_ = next(c.ids)
        fut = asyncio.get_running_loop().create_future(); c.pending[id_] = fut
        try:
            await c.ws.send(json.dumps({'id': id_, 'method': method, 'params': dict(params)}))
        except Exception:
            c.pending.pop(id_, None)
            if fut.done(): fut.exception()
            return None
        it['sent'] = True; self.items.append(it)
        try:
            it['reply'] = await asyncio.wait_for(fut, 30)
        except Exception:
            it['reply'] = None
        return it['reply']
    def acked(self): return [i for i in self.items if i['reply'] is not None]
    def unacked(self): return [i for i in self.items if i['reply'] is None]

def ok(it): return it['reply'] is not None and 'result' in it['reply']

async def kill_and_restart(srv, name, sig=signal.SIGKILL, wait_exit=15):
    srv.proc.send_signal(sig)
    try: rc = srv.proc.wait(wait_exit)
    except Exception:
        srv.proc.kill(); srv.proc.wait(); rc = 'hung'
    srv._start(name, T0, ())
    return rc

def finish(srv):
    srv.stop()
    fails = [r for r in RESULTS if not r[1]]
    print('FAIL' if fails else 'PASS'); sys.exit(1 if fails else 0)

async def close_all(cs):
    for c in cs:
        try: await c.close()
        except Exception: pass

def code(r):
    if r is None: return None
    return 'OK' if 'result' in r else r['error']['code']

async def snapshot_of(url, w, channel):
    """the first push after subscribe on a fresh connection of w: (seq, type, data)"""
    c = await login(url, w)
    try:
        await c.call('subscribe', channels=[channel])
        for _ in range(50):
            ps = [p for p in c.pushes if p['channel'] == channel]
            if ps: return ps[0]
            await asyncio.sleep(0.02)
        return None
    finally:
        await c.close()

async def retry_all(url, items, conns):
    """resends every item with its own params (request_id included) from a live connection of the same participant;
    returns [(item, new reply)]"""
    out = []
    for it in items:
        c = conns[it['who'].name]
        out.append((it, await c.raw(it['method'], dict(it['params']))))
    return out


def run_crash(name, scenario):
    """Runs `scenario(srv)` against a fresh ipxd (manual clock at T0) that it may kill and
    restart, then reports as every scenario does (finish)."""
    async def main():
        os.makedirs(LOGS, exist_ok=True)
        srv = Server(name, T0)
        try:
            await scenario(srv)
        except Exception as e:
            import traceback; traceback.print_exc(); RESULTS.append(('scenario raised', False, repr(e)))
        finally:
            finish(srv)
    asyncio.run(main())
