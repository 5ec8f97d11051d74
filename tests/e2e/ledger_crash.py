#!/usr/bin/python3
"""Crash during settlement (issue 4): SIGKILL ipxd while settlements are in flight, then
reconcile the ledger stored in PostgreSQL with the engine's state, and verify the journal.

    /usr/bin/python3 tests/e2e/ledger_crash.py [--ipxd PATH] [--tools DIR] [--kills N] [--seed S]

One fresh database (from IPX_PG). Each round: start ipxd (--manual-clock) on the database,
run concurrent settlement workers (auctions that close, winners that pay, an operator who
confirms or fails, winners who default when the clock passes due_at, disposals with a
pledgee's waterfall and a risk-fund share, licence-unit trades), and SIGKILL ipxd at a random
moment while they run. Then:
  - `ipx-ledger reconcile` on the database as the killed process left it (ledger rows are
    committed with their journal batch, so nothing may be missing or extra), exit 0;
  - restart ipxd on the same database (it replays and syncs), `ipx-ledger reconcile` again,
    exit 0, and the next round continues on the recovered state.
At the end `ipx-journal verify`. Prints PASS/FAIL lines; exits non-zero on any failure.
"""
import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_e2e as e2e  # noqa: E402
from ipxclient import ProtocolError  # noqa: E402
import websockets.exceptions  # noqa: E402

HOUR, DAY = e2e.HOUR, e2e.DAY


class CrashServer(e2e.Server):
    """An ipxd that can be SIGKILLed and restarted on the same database."""

    def start(self, create=True):
        if create:
            super().start()
            return
        orig = e2e.psql
        e2e.psql = lambda *a, **k: None  # the database exists already
        try:
            super().start()
        finally:
            e2e.psql = orig

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(15)

    def conninfo(self):
        return e2e.db_conninfo(self.pg, self.db)


def tolerated(e):
    # What a client sees when the server is killed under it: a closed or refused connection,
    # or a handshake cut short (websockets' InvalidMessage / InvalidHandshake).
    return isinstance(e, (ProtocolError, ConnectionError, asyncio.TimeoutError, OSError,
                          websockets.exceptions.InvalidHandshake)) or \
        type(e).__name__.startswith("ConnectionClosed")


async def settle_flow(env, op, rng, stats):
    """One auction: two bidders, close, then pay + confirm / pay + fail / default."""
    owner = await env.party("enterprise")
    b1 = await env.party("enterprise", fund=5_000_000)
    b2 = await env.party("individual", fund=5_000_000)
    r = await env.auction(owner, deposit=100_000, duration=HOUR, buyer_premium_bp=rng.choice([0, 500]))
    aid = r["auction_id"]
    await b1.call("auction.register", auction_id=aid)
    await b2.call("auction.register", auction_id=aid)
    await b1.call("auction.bid", auction_id=aid, amount=1_000_000)
    if rng.random() < 0.7:
        await b2.call("auction.bid", auction_id=aid, amount=1_010_000 + 10_000 * rng.randrange(5))
    await env.advance_to(r["closes_at"])
    g = await op.call("auction.get", auction_id=aid)
    sid = g.get("settlement_id")
    if not sid:
        return
    s = await op.call("settlement.get", settlement_id=sid)
    buyer = b1 if s["buyer"] == b1.id else b2
    x = rng.random()
    if x < 0.2:  # the winner defaults: someone moves the clock past due_at
        if rng.random() < 0.5:
            await env.advance_to(s["due_at"])
        stats["default"] += 1
        return
    await buyer.call("settlement.pay", settlement_id=sid)
    if x < 0.75:
        await op.call("settlement.confirm", settlement_id=sid, registration_no="REG-" + aid)
        stats["confirm"] += 1
    else:
        await op.call("settlement.fail", settlement_id=sid, reason="registration refused")
        stats["fail"] += 1


async def disposal_flow(env, op, rng, stats):
    """A pledged asset sold in a disposal whose price falls short of the claim (rule 17)."""
    owner = await env.party("enterprise")
    bank = await env.party("bank")
    fund = await env.party("risk_fund", fund=50_000_000)
    b1 = await env.party("enterprise", fund=20_000_000)
    loan = rng.choice([5_000_000, 9_000_000])
    asset = await e2e.pledged(env, owner, bank, valuation=10_000_000, loan=loan)
    case = await bank.call("disposal.open", assets=[asset], pledgee=bank.id, pledgor=owner.id,
                           valuation=10_000_000,
                           plan={"notice_ms": HOUR, "risk_fund": {"participant_id": fund.id, "share_bp": 5000}})
    cid, aid = case["case_id"], case["auction_id"]
    a = await b1.call("auction.get", auction_id=aid)
    await b1.call("auction.register", auction_id=aid)
    await env.advance_to(a["opens_at"])
    await b1.call("auction.bid", auction_id=aid, amount=a["start_price"])
    await env.advance_to(a["closes_at"])
    sid = (await bank.call("disposal.get", case_id=cid)).get("settlement_id")
    if not sid:
        return
    await b1.call("settlement.pay", settlement_id=sid)
    await op.call("settlement.confirm", settlement_id=sid, registration_no="RF-" + cid)
    stats["disposal"] += 1


async def market_flow(env, op, rng, stats):
    owner, mid, _ = await e2e.make_market(env)
    buyers = [await env.party("enterprise", fund=200_000) for _ in range(3)]
    await owner.call("order.place", **e2e.order(mid, "sell", 300, 1000))
    for b in buyers:
        price = rng.choice([900, 1000, 1100])
        o = await b.call("order.place", **e2e.order(mid, "buy", 10 * rng.randrange(1, 20), price))
        if o["status"] == "open" and rng.random() < 0.5:
            await b.call("order.cancel", market_id=mid, order_id=o["order_id"])
    stats["market"] += 1


async def worker(url, seed, stats):
    rng = random.Random(seed)
    env = e2e.Env(url, True)
    try:
        op = await env.party("operator")
        while True:
            flow = rng.choices([settle_flow, disposal_flow, market_flow], [6, 2, 2])[0]
            try:
                await flow(env, op, rng, stats)
            except Exception as e:  # noqa: BLE001
                if not tolerated(e):
                    raise
                if isinstance(e, ProtocolError):
                    # e.g. INVALID_STATE or AUCTION_CLOSED: another worker's clock move got there first
                    stats["refused"] += 1
                    stats.setdefault("codes", {}).setdefault(e.code, 0)
                    stats["codes"][e.code] += 1
                    if os.environ.get("IPX_LEDGER_CRASH_DEBUG"):
                        print(f"refused: {flow.__name__}: {e}", flush=True)
                else:
                    return  # the server is gone
            finally:
                # ipxd allows 256 connections per address: close this flow's parties.
                for c in env.clients[2:]:
                    try:
                        await c.close()
                    except Exception:  # noqa: BLE001
                        pass
                del env.clients[2:]
    except Exception as e:  # noqa: BLE001
        if not tolerated(e):
            raise
    finally:
        await env.close()


async def run_round(server, rng, stats, seed):
    # Some money in the ledger before the kill window opens.
    env = e2e.Env(server.url, True)
    try:
        await env.party("enterprise", fund=1_000_000)
    finally:
        await env.close()
    tasks = [asyncio.ensure_future(worker(server.url, seed * 100 + i, stats)) for i in range(6)]
    await asyncio.sleep(rng.uniform(1.0, 4.0))
    before = dict(stats)
    server.kill()
    done, _ = await asyncio.wait(tasks, timeout=40)
    for t in done:
        if t.exception() is not None:
            raise t.exception()
    return before


def reconcile(tools, conninfo):
    p = subprocess.run([os.path.join(tools, "ipx-ledger"), "reconcile", "--pg", conninfo, "--max-differences", "5"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    return p.returncode, p.stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    top = os.path.join(HERE, "..", "..")
    ap.add_argument("--ipxd", default=os.path.join(top, "build", "release", "gateway", "ipxd"))
    ap.add_argument("--tools", default=os.path.join(top, "build", "release", "tools"),
                    help="directory of ipx-ledger and ipx-journal")
    ap.add_argument("--kills", type=int, default=4)
    ap.add_argument("--seed", type=int, default=int(os.environ.get("IPX_SEED", "0")) or int(time.time()))
    args = ap.parse_args()
    pg = os.environ.get("IPX_PG")
    if not pg:
        print("ledger_crash: IPX_PG is not set (eval \"$(tools/ipx services env)\", or run via tools/ipx test)",
              file=sys.stderr)
        return 2
    for exe in (args.ipxd, os.path.join(args.tools, "ipx-ledger"), os.path.join(args.tools, "ipx-journal")):
        if not os.access(exe, os.X_OK):
            print(f"ledger_crash: no executable {exe}", file=sys.stderr)
            return 2
    print(f"seed {args.seed}", flush=True)
    rng = random.Random(args.seed)
    server = CrashServer(args.ipxd, pg, True)
    failures = 0
    stats = {k: 0 for k in ("confirm", "fail", "default", "disposal", "market", "refused")}
    try:
        server.start()
        for k in range(args.kills):
            t0 = time.time()
            before = asyncio.run(run_round(server, rng, stats, args.seed + k))
            rc, out = reconcile(args.tools, server.conninfo())
            ok = rc == 0
            print(f"{'PASS' if ok else 'FAIL'} kill {k + 1}: reconcile after SIGKILL (flows so far {before}): {out}",
                  flush=True)
            failures += not ok
            server.log.clear()
            server.start(create=False)
            rc, out = reconcile(args.tools, server.conninfo())
            ok = rc == 0
            print(f"{'PASS' if ok else 'FAIL'} kill {k + 1}: reconcile after restart: {out} ({time.time() - t0:.1f}s)",
                  flush=True)
            failures += not ok
        server.proc.terminate()
        server.proc.wait(15)
        p = subprocess.run([os.path.join(args.tools, "ipx-journal"), "verify", "--pg", server.conninfo()],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        ok = p.returncode == 0
        print(f"{'PASS' if ok else 'FAIL'} ipx-journal verify: {p.stdout.strip()}", flush=True)
        failures += not ok
        settled = stats["confirm"] + stats["fail"] + stats["default"] + stats["disposal"]
        ok = settled > 0
        print(f"{'PASS' if ok else 'FAIL'} settlement flows ran: {stats}", flush=True)
        failures += not ok
    except Exception as e:  # noqa: BLE001
        print(f"FAIL {type(e).__name__}: {e}\n" + "".join(server.log[-30:]), flush=True)
        failures += 1
    finally:
        server.stop()
    print("ledger_crash: " + ("ok" if failures == 0 else f"{failures} failed"))
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
