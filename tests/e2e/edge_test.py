#!/usr/bin/python3
"""Two gateways through Redis (docs/gateway.md "Redis"): a main ipxd with --redis and a
read-only edge (ipxd --edge --redis), real PostgreSQL (IPX_PG) and Redis (IPX_REDIS).

    /usr/bin/python3 tests/e2e/edge_test.py --ipxd PATH

1. fan-out: an edge client subscribed to an auction sees the bids placed on the main with
   the main's seq numbers, gap-free; re-subscribing gives a fresh snapshot; the edge refuses
   writes and private/disposal channels (FORBIDDEN).
2. nonces: a login replayed on the other gateway is refused.
3. views and clock: the edge serves GET /v1/auctions, /v1/auctions/<id> and
   /v1/markets/<id>/book equal to the main's, refuses /v1/reports/ (403 FORBIDDEN), and its
   time.now follows the main's manual clock (never its own wall clock).
4. outage (a throwaway redis-server on a free port): Redis stopped -> the main keeps
   trading, the edge's /readyz is 503; Redis restarted -> /readyz 200 and the edge catches up
   with no gap.
"""
import argparse
import asyncio
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ipxclient import Client  # noqa: E402
from run_e2e import (ADMIN_KEY, ADMIN_SECRET, Env, check, code, db_conninfo, eq, npush,  # noqa: E402
                     psql, sign)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Ipxd:
    def __init__(self, ipxd, args, env):
        self.args, self.env, self.ipxd = args, env, ipxd
        self.log, self.proc, self.url, self.http = [], None, None, None

    def start(self):
        self.proc = subprocess.Popen([self.ipxd] + self.args, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=self.env, text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.log.append(line)
            m = re.search(r"ws://([0-9.]+:\d+)/v1/ws", line)
            if "ready" in line and m:
                self.url = f"ws://{m.group(1)}/v1/ws"
                self.http = f"http://{m.group(1)}"
                threading.Thread(target=self._pump, daemon=True).start()
                return self
        raise RuntimeError("ipxd did not start:\n" + "".join(self.log))

    def _pump(self):
        for line in self.proc.stdout:
            self.log.append(line)

    def readyz(self):
        try:
            with urllib.request.urlopen(self.http + "/readyz", timeout=2) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def metric(self, name):
        with urllib.request.urlopen(self.http + "/metrics", timeout=2) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
        return None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def wait_for(pred, what, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if await pred():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def edge_login(url, key, secret, timeout=10):
    """Logs in on the edge, retrying while the credential is still on its way through Redis."""
    c = await Client.connect(url)
    deadline = time.time() + timeout
    while True:
        reply = await c.raw("auth.login", dict(zip(("key", "ts", "nonce", "sig"), signed(key, secret))))
        if "result" in reply:
            return c
        check(time.time() < deadline, f"edge login never succeeded: {reply}")
        await asyncio.sleep(0.1)


def signed(key, secret, nonce=None):
    ts = int(time.time() * 1000)
    nonce = nonce or secrets.token_hex(12)
    return key, ts, nonce, sign(secret, key, ts, nonce)


async def auction_with_bidders(env, n=2):
    owner = await env.party("enterprise")
    bidders = [await env.party("enterprise", fund=100_000_000) for _ in range(n)]
    r = await env.auction(owner, deposit=0)
    aid = r["auction_id"]
    for b in bidders:
        await b.call("auction.register", auction_id=aid)
    return aid, bidders


async def bids(bidders, aid, first, count):
    amount = first
    for i in range(count):
        # Amounts step by 10,000 across calls, so the bidder alternates (no ALREADY_LEADING).
        who = bidders[((amount - 1_000_000) // 10_000) % len(bidders)]
        await who.call("auction.bid", auction_id=aid, amount=amount)
        amount += 10_000
    return amount


async def test_fanout_and_nonces(main, edge):
    env = Env(main.url, True)
    try:
        aid, bidders = await auction_with_bidders(env)
        await bids(bidders, aid, 1_000_000, 1)
        watcher = await env.party("individual")
        ch = f"auction.{aid}"
        ec = await edge_login(edge.url, watcher.key, watcher.secret)
        # The channel reaches the edge through Redis; until then it is NOT_FOUND there.
        async def subscribed():
            return "result" in await ec.raw("subscribe", {"channels": [ch]})
        await wait_for(subscribed, "the auction channel on the edge")
        await watcher.call("subscribe", channels=[ch])
        snap_main = await npush(watcher.c, ch)
        snap_edge = await npush(ec, ch)
        eq(snap_edge["type"], "snapshot", "edge snapshot")
        eq(snap_edge["seq"], snap_main["seq"], "edge snapshot seq = main's")
        eq(snap_edge["data"], snap_main["data"], "edge snapshot data = main's")
        await bids(bidders, aid, 1_010_000, 6)
        for i in range(6):
            pm = await npush(watcher.c, ch)
            pe = await npush(ec, ch)
            eq(pe["seq"], snap_main["seq"] + 1 + i, "edge seq gap-free")
            eq((pe["seq"], pe["type"], pe["data"]), (pm["seq"], pm["type"], pm["data"]), "edge push = main push")
        # Re-subscribe: a fresh snapshot at the current seq, equal to the main's.
        await ec.call("unsubscribe", channels=[ch])
        await ec.call("subscribe", channels=[ch])
        again = await npush(ec, ch)
        eq((again["type"], again["seq"]), ("snapshot", snap_main["seq"] + 6), "fresh snapshot on the edge")
        g = await watcher.call("auction.get", auction_id=aid)
        eq(again["data"].get("price"), g.get("price"), "snapshot price = auction.get")
        # Read-only: writes and non-public channels are refused.
        eq(await code(ec, "auction.bid", auction_id=aid, amount=5_000_000), "FORBIDDEN", "bid on the edge")
        eq(await code(ec, "account.get"), "FORBIDDEN", "account.get on the edge")
        eq(await code(ec, "subscribe", channels=["private"]), "FORBIDDEN", "private on the edge")
        eq(await code(ec, "subscribe", channels=["disposal.D-1"]), "FORBIDDEN", "disposal on the edge")
        eq(await code(ec, "subscribe", channels=["auction.A-999999"]), "NOT_FOUND", "unknown auction")
        check("now" in await ec.call("time.now"), "time.now on the edge")
        # A nonce used on one gateway is refused on the other, both ways.
        for first, second in ((main.url, edge.url), (edge.url, main.url)):
            key, ts, nonce, sig = signed(ADMIN_KEY, ADMIN_SECRET)
            a = await Client.connect(first)
            await a.call("auth.login", key=key, ts=ts, nonce=nonce, sig=sig)
            b = await Client.connect(second)
            eq(await code(b, "auth.login", key=key, ts=ts, nonce=nonce, sig=sig), "UNAUTHENTICATED",
               f"nonce replayed {first} -> {second}")
            await a.close()
            await b.close()
        await ec.close()
    finally:
        await env.close()


def http_json(base, path):
    try:
        with urllib.request.urlopen(base + path, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


async def test_views_and_clock(main, edge):
    env = Env(main.url, True)
    try:
        owner = await env.party("enterprise")
        aid = (await env.auction(owner, deposit=0))["auction_id"]
        # A market with one resting ask, so its book has a level.
        asset = await env.asset(owner)
        mid = env.uid("M")
        await owner.call("market.create", market_id=mid, asset_id=asset, tick=1, min_qty=1,
                         licence={"kind": "non_exclusive", "territory": ["cn"], "field": "all",
                                  "term_months": 12, "royalty_bp": 0})
        await owner.call("units.issue", market_id=mid, qty=100)
        await owner.call("order.place", market_id=mid, side="sell", type="limit", price=5_000, qty=10,
                         tif="gtc", client_order_id=env.uid("ask"))

        async def edge_has(path, want):
            async def same():
                return http_json(edge.http, path) == want
            await wait_for(same, f"edge {path} = main's")

        # Pipelined orders land in shared engine batches: several pushes of one batch share
        # the channel's snapshot, and their stream entries carry none (the edge keeps it).
        await asyncio.gather(*(owner.call("order.place", market_id=mid, side="sell", type="limit",
                                          price=6_000 + i, qty=1, tif="gtc", client_order_id=env.uid("ask"))
                               for i in range(20)))
        for path in (f"/v1/auctions/{aid}", f"/v1/markets/{mid}/book"):
            status, body = http_json(main.http, path)
            eq(status, 200, f"main {path}")
            await edge_has(path, (200, body))
        status, book = http_json(edge.http, f"/v1/markets/{mid}/book")
        eq(book["asks"][:2], [[5_000, 10], [6_000, 1]], "edge book")
        eq(len(book["asks"]), 21, "edge book levels")
        # A subscriber on the edge gets the main's snapshot, seq and data.
        watcher = await env.party("individual")
        ec = await edge_login(edge.url, watcher.key, watcher.secret)
        await watcher.call("subscribe", channels=[f"book.{mid}"])
        await ec.call("subscribe", channels=[f"book.{mid}"])
        sm, se = await npush(watcher.c, f"book.{mid}"), await npush(ec, f"book.{mid}")
        eq((se["seq"], se["data"]), (sm["seq"], sm["data"]), "edge book snapshot = main's")
        await ec.close()
        status, listing = http_json(edge.http, "/v1/auctions")
        eq(status, 200, "edge /v1/auctions")
        check(any(a.get("auction_id") == aid for a in listing["auctions"]), "the auction in the edge's list")
        eq(http_json(edge.http, "/v1/auctions/A-999999")[0], 404, "unknown auction on the edge")
        status, body = http_json(edge.http, "/v1/reports/disposals")
        eq((status, body["error"]["code"]), (403, "FORBIDDEN"), "reports on the edge")

        # time.now on the edge: the main's manual engine time, also after time.advance.
        ec = await Client.connect(edge.url)
        now = await env.advance(3_600_000)

        async def edge_now():
            r = await ec.call("time.now")
            return r["now"] == now
        await wait_for(edge_now, "edge time.now = main's engine time")
        r = await ec.call("time.now")
        check(abs(r["wall"] - int(time.time() * 1000)) < 5_000, "edge wall is the real clock")
        check(r["now"] != r["wall"], "edge now is engine time, not the wall clock")
        await ec.close()
    finally:
        await env.close()


def start_redis(port, workdir):
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", workdir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


async def test_redis_outage(ipxd, pg_base, env_base, workdir):
    rport = free_port()
    redis = start_redis(rport, workdir)
    db = "ipx_edge_" + secrets.token_hex(5)
    psql(pg_base, f"CREATE DATABASE {db}")
    env_vars = dict(env_base, IPX_REDIS=f"127.0.0.1:{rport}")
    main = edge = None
    try:
        main = Ipxd(ipxd, ["--listen", "127.0.0.1:0", "--pg", db_conninfo(pg_base, db), "--manual-clock"],
                    env_vars).start()
        edge = Ipxd(ipxd, ["--edge", "--listen", "127.0.0.1:0"], env_vars).start()
        env = Env(main.url, True)
        try:
            aid, bidders = await auction_with_bidders(env)
            watcher = await env.party("individual")
            ch = f"auction.{aid}"
            ec = await edge_login(edge.url, watcher.key, watcher.secret)
            async def subscribed():
                return "result" in await ec.raw("subscribe", {"channels": [ch]})
            await wait_for(subscribed, "the auction channel on the edge")
            snap = await npush(ec, ch)
            eq(main.metric("ipx_redis_up"), 1.0, "main ipx_redis_up")
            amount = await bids(bidders, aid, 1_000_000, 2)
            for i in range(2):
                eq((await npush(ec, ch))["seq"], snap["seq"] + 1 + i, "before the outage")
            redis.kill()
            redis.wait()
            async def edge_down():
                return edge.readyz() == 503
            await wait_for(edge_down, "edge /readyz 503 while Redis is down")
            eq(main.readyz(), 200, "main ready while Redis is down")
            eq(edge.metric("ipx_redis_up"), 0.0, "edge ipx_redis_up while Redis is down")
            amount = await bids(bidders, aid, amount, 3)  # the main keeps trading
            eq(main.readyz(), 200, "main still ready")
            redis = start_redis(rport, workdir)
            async def edge_up():
                return edge.readyz() == 200
            await wait_for(edge_up, "edge /readyz 200 after Redis is back")
            eq(edge.metric("ipx_redis_up"), 1.0, "edge ipx_redis_up after Redis is back")
            for i in range(3):  # caught up from the last seq it delivered: no gap
                p = await npush(ec, ch, timeout=10)
                eq((p["seq"], p["type"]), (snap["seq"] + 3 + i, "bid"), "caught up after the outage")
            await bids(bidders, aid, amount, 1)
            eq((await npush(ec, ch))["seq"], snap["seq"] + 6, "live again")
            await ec.close()
        finally:
            await env.close()
    finally:
        for p in (edge, main):
            if p:
                p.stop()
        redis.kill()
        redis.wait()
        try:
            psql(pg_base, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        except Exception as e:  # noqa: BLE001
            print(f"warning: could not drop {db}: {e}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipxd", required=True)
    args = ap.parse_args()
    pg, redis = os.environ.get("IPX_PG"), os.environ.get("IPX_REDIS")
    if not pg or not redis:
        print('edge_test: IPX_PG and IPX_REDIS must be set (eval "$(tools/ipx services env)")',
              file=sys.stderr)
        return 2
    env_base = dict(os.environ, IPX_ADMIN_KEY=ADMIN_KEY, IPX_ADMIN_SECRET=ADMIN_SECRET,
                    IPX_REDIS_PREFIX=f"ipx-test-{secrets.token_hex(4)}:")
    env_base.pop("IPX_LISTEN", None)
    failed = 0
    db = "ipx_edge_" + secrets.token_hex(5)
    psql(pg, f"CREATE DATABASE {db}")
    main_p = edge_p = None
    try:
        main_p = Ipxd(args.ipxd, ["--listen", "127.0.0.1:0", "--pg", db_conninfo(pg, db), "--manual-clock",
                                  "--redis", redis], env_base).start()
        edge_p = Ipxd(args.ipxd, ["--edge", "--listen", "127.0.0.1:0", "--redis", redis], env_base).start()
        tests = [("fanout_and_nonces", lambda: test_fanout_and_nonces(main_p, edge_p)),
                 ("views_and_clock", lambda: test_views_and_clock(main_p, edge_p))]
        with tempfile.TemporaryDirectory() as wd:
            tests.append(("redis_outage", lambda: test_redis_outage(args.ipxd, pg, env_base, wd)))
            for name, fn in tests:
                t0 = time.time()
                try:
                    asyncio.run(asyncio.wait_for(fn(), 45))
                    print(f"PASS {name} ({time.time() - t0:.1f}s)")
                except Exception as e:  # noqa: BLE001
                    failed += 1
                    print(f"FAIL {name}: {type(e).__name__}: {e}")
                    for p in (main_p, edge_p):
                        if p:
                            sys.stdout.write("".join(p.log[-20:]))
    finally:
        for p in (edge_p, main_p):
            if p:
                p.stop()
        try:
            psql(pg, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        except Exception as e:  # noqa: BLE001
            print(f"warning: could not drop {db}: {e}", file=sys.stderr)
    print(f"{len(tests) - failed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
