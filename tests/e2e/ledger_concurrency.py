#!/usr/bin/python3
"""Concurrency (issue 4): many bidders registering for the same auctions and trading in one
market at once never overdraw an account.

    /usr/bin/python3 tests/e2e/ledger_concurrency.py [--ipxd PATH] [--tools DIR] [--clients N] [--seed S]

A fresh database (from IPX_PG) and ipxd (--manual-clock). N bidders (50), each on its own
WebSocket, each funded with cash for only two deposits (or one deposit and some orders), fire
at once: register for three auctions, place several limit buys in one market (with fees) that
trade against a seller's asks or rest and hold cash, and cancel some; the seller sells into
them at the same time. A monitor reads every account (account.get) all along. Then the
auctions open, bidders bid, the auctions close and the winners pay. Checks:
  - every account.get, during and after: cash_available >= 0 and cash_held >= 0;
  - each bidder's accepted deposits and order costs never exceed its funding;
  - INSUFFICIENT_FUNDS was actually hit (the test contended);
  - the sum of cash (participants' available + held, fees, escrow) equals the total funded,
    and the external account's balance equals it too (queried from ledger_balances);
  - `ipx-ledger reconcile`: no difference.
"""
import argparse
import asyncio
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_e2e as e2e  # noqa: E402
from ipxclient import ProtocolError  # noqa: E402

HOUR, DAY = e2e.HOUR, e2e.DAY
FUND = 250_000
DEPOSIT = 100_000


class Failure(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def query(conninfo, sql):
    p = subprocess.run(["psql", conninfo, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    return p.stdout.strip()


async def scenario(env, server, tools, n, rng):
    a = await env.admin()
    op = await env.party("operator")
    funded = 0
    owner = await env.party("enterprise", fund=10_000_000)
    funded += 10_000_000
    asset = await env.asset(owner)
    mid = env.uid("M")
    lic = {"kind": "non_exclusive", "territory": ["cn"], "field": "all", "term_months": 12, "royalty_bp": 100}
    await owner.call("market.create", market_id=mid, asset_id=asset, licence=lic, tick=100, min_qty=10,
                     maker_fee_bp=10, taker_fee_bp=20)
    await owner.call("units.issue", market_id=mid, qty=100_000)
    now = await env.now()
    auctions = []
    for _ in range(3):
        r = await env.auction(owner, deposit=DEPOSIT, start=1_000_000, increment=10_000, opens_in=HOUR, duration=DAY)
        auctions.append(r)
    bidders = []
    for i in range(n):
        bidders.append(await env.party("enterprise" if i % 2 else "individual", fund=FUND))
        funded += FUND

    errors = {}
    overdrafts = []
    reads = [0]

    def note(e):
        if isinstance(e, ProtocolError):
            errors[e.code] = errors.get(e.code, 0) + 1
        else:
            raise e

    async def read_all(where):
        # In chunks, paced under the gateway's per-connection rate limit (1,000 frames/s).
        accts = []
        everyone = bidders + [owner]
        for i in range(0, len(everyone), 20):
            accts += await asyncio.gather(*(a.call("account.get", participant_id=p.id) for p in everyone[i:i + 20]))
            await asyncio.sleep(0.04)
        reads[0] += len(accts)
        for p, acct in zip(bidders + [owner], accts):
            if acct["cash_available"] < 0 or acct["cash_held"] < 0:
                overdrafts.append((where, p.id, acct["cash_available"], acct["cash_held"]))
        return accts

    stop = asyncio.Event()

    async def monitor():
        while not stop.is_set():
            await read_all("during")

    registered = {x["auction_id"]: [] for x in auctions}

    def own_read(where, p, rep):
        if "result" in rep:
            reads[0] += 1
            acct = rep["result"]
            if acct["cash_available"] < 0 or acct["cash_held"] < 0:
                overdrafts.append((where, p.id, acct["cash_available"], acct["cash_held"]))
        else:
            note(ProtocolError(rep["error"]["code"], rep["error"].get("message", "")))

    async def bidder(p, seed):
        r = random.Random(seed)
        calls = [("register", x["auction_id"], p.c.raw("auction.register", {"auction_id": x["auction_id"]}))
                 for x in auctions]
        for _ in range(r.randrange(2, 6)):
            price = r.choice([900, 1000, 1000, 1100])
            calls.append(("order", None, p.c.raw("order.place", e2e.order(mid, "buy", 10 * r.randrange(3, 12), price))))
        calls += [("read", None, p.c.raw("account.get", {})) for _ in range(3)]
        r.shuffle(calls)
        replies = await asyncio.gather(*(c for _, _, c in calls))
        for (what, aid, _), rep in zip(calls, replies):
            if what == "read":
                own_read("during the burst", p, rep)
            elif "error" in rep:
                errors[rep["error"]["code"]] = errors.get(rep["error"]["code"], 0) + 1
            elif what == "register":
                registered[aid].append(p)
        # Cancel half of what rests and buy more, concurrently with everyone else's orders.
        open_ids = [rep["result"]["order_id"] for (what, _, _), rep in zip(calls, replies)
                    if what == "order" and "result" in rep
                    and rep["result"].get("status") in ("open", "partially_filled")]
        more = [p.c.raw("order.cancel", {"market_id": mid, "order_id": o}) for o in open_ids if r.random() < 0.5]
        more += [p.c.raw("order.place", e2e.order(mid, "buy", 10 * r.randrange(3, 12), 1100)) for _ in range(2)]
        more += [p.c.raw("account.get", {}) for _ in range(2)]
        for rep in await asyncio.gather(*more):
            if "result" in rep and "cash_available" in rep["result"]:
                own_read("during the second wave", p, rep)
            elif "error" in rep:
                errors[rep["error"]["code"]] = errors.get(rep["error"]["code"], 0) + 1

    async def seller():
        for _ in range(40):
            rep = await owner.c.raw("order.place", e2e.order(mid, "sell", 50, rng.choice([1000, 1100])))
            if "error" in rep:
                errors[rep["error"]["code"]] = errors.get(rep["error"]["code"], 0) + 1

    mon = asyncio.ensure_future(monitor())
    t0 = time.time()
    await asyncio.gather(seller(), *(bidder(p, rng.randrange(1 << 30) + i) for i, p in enumerate(bidders)))
    burst = time.time() - t0
    await read_all("after the burst")

    # Each bidder: accepted deposits + what its orders cost or hold never exceed its funding.
    for p in bidders:
        acct = await p.call("account.get")
        check(acct["cash_available"] + acct["cash_held"] <= FUND,
              f"{p.id}: cash {acct} exceeds its funding {FUND} (cash only leaves a buyer)")

    # The auctions run: registered bidders bid, the auctions close, winners pay.
    await env.advance_to(now + HOUR)
    for x in auctions:
        aid = x["auction_id"]
        price = 1_000_000
        for p in registered[aid][:10]:
            rep = await p.c.raw("auction.bid", {"auction_id": aid, "amount": price})
            if "result" in rep:
                price += 10_000
            else:
                errors[rep["error"]["code"]] = errors.get(rep["error"]["code"], 0) + 1
    await env.advance_to(now + HOUR + DAY)
    settled = 0
    for x in auctions:
        g = await op.call("auction.get", auction_id=x["auction_id"])
        sid = g.get("settlement_id")
        if not sid:
            continue
        s = await op.call("settlement.get", settlement_id=sid)
        buyer = next(p for p in bidders if p.id == s["buyer"])
        # The winner could not afford the price on FUND: top it up (counted as funding).
        top_up = s["price"] + s.get("buyer_premium", 0)
        await a.call("account.fund", participant_id=buyer.id, amount=top_up)
        funded += top_up
        rep = await buyer.c.raw("settlement.pay", {"settlement_id": sid})
        if "result" in rep:
            await op.call("settlement.confirm", settlement_id=sid, registration_no="REG-" + x["auction_id"])
            settled += 1
        else:
            errors[rep["error"]["code"]] = errors.get(rep["error"]["code"], 0) + 1
    stop.set()
    await mon
    accts = await read_all("at the end")

    check(not overdrafts, f"overdrawn accounts: {overdrafts[:5]}")
    check(settled == len(auctions), f"{settled} of {len(auctions)} auctions settled")
    check(errors.get("INSUFFICIENT_FUNDS", 0) > 0, f"no INSUFFICIENT_FUNDS: the bidders never contended ({errors})")
    conn = server.conninfo()
    # Account ids (engine/ids.hpp): kind << 56 | numbers; kind 1 system (external CNY = 1,
    # fees = 3), 3 auction escrow, 7 order escrow (cash); the CNY ledger is the external's.
    ext, fee_acct = (1 << 56) | 1, (1 << 56) | 3
    fees, escrow, external, others = (int(v) for v in query(conn, f"""
        SELECT COALESCE(sum(credits_posted - debits_posted) FILTER (WHERE account_id = {fee_acct}), 0),
               COALESCE(sum(credits_posted - debits_posted) FILTER (WHERE account_id >> 56 IN (3, 7)), 0),
               COALESCE(sum(debits_posted - credits_posted) FILTER (WHERE account_id = {ext}), 0),
               COALESCE(sum(credits_posted - debits_posted) FILTER (WHERE account_id <> {ext}), 0)
          FROM ledger_balances WHERE ledger = (SELECT ledger FROM ledger_accounts WHERE id = {ext})""").split("|"))
    cash = sum(x["cash_available"] + x["cash_held"] for x in accts)
    check(external == funded, f"external account: {external}, funded {funded}")
    check(others == funded, f"all CNY accounts but external: {others}, funded {funded}")
    check(cash + fees + escrow == funded,
          f"participants' cash {cash} + fees {fees} + escrow {escrow} = {cash + fees + escrow}, funded {funded}")
    p = subprocess.run([os.path.join(tools, "ipx-ledger"), "reconcile", "--pg", conn, "--max-differences", "5"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    check(p.returncode == 0, f"ipx-ledger reconcile exit {p.returncode}: {p.stdout}")
    return (f"{n} clients, burst {burst:.2f}s, {reads[0]} account reads, {settled} settled, "
            f"refusals {errors}, cash {cash} + fees {fees} + escrow {escrow} = funded {funded}; {p.stdout.strip()}")


class Server(e2e.Server):
    def conninfo(self):
        return e2e.db_conninfo(self.pg, self.db)


def main():
    ap = argparse.ArgumentParser()
    top = os.path.join(HERE, "..", "..")
    ap.add_argument("--ipxd", default=os.path.join(top, "build", "release", "gateway", "ipxd"))
    ap.add_argument("--tools", default=os.path.join(top, "build", "release", "tools"))
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seed", type=int, default=int(os.environ.get("IPX_SEED", "0")) or int(time.time()))
    args = ap.parse_args()
    pg = os.environ.get("IPX_PG")
    if not pg:
        print("ledger_concurrency: IPX_PG is not set (eval \"$(tools/ipx services env)\", or run via tools/ipx test)",
              file=sys.stderr)
        return 2
    for exe in (args.ipxd, os.path.join(args.tools, "ipx-ledger")):
        if not os.access(exe, os.X_OK):
            print(f"ledger_concurrency: no executable {exe}", file=sys.stderr)
            return 2
    print(f"seed {args.seed}", flush=True)
    server = Server(args.ipxd, pg, True)
    ok = False
    try:
        server.start()

        async def go():
            env = e2e.Env(server.url, True)
            try:
                return await asyncio.wait_for(scenario(env, server, args.tools, args.clients,
                                                       random.Random(args.seed)), 90)
            finally:
                await env.close()

        print("PASS concurrency: " + asyncio.run(go()), flush=True)
        ok = True
    except Exception as e:  # noqa: BLE001
        print(f"FAIL concurrency: {type(e).__name__}: {e}", flush=True)
        if server.log:
            print("".join(server.log[-20:]), flush=True)
    finally:
        server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
