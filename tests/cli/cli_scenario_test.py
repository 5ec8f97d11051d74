#!/usr/bin/python3
"""ipxctl scenario: a disposal from opening to confirmed settlement using only ipxctl.

Starts its own ipxd (free port, manual clock, a fresh database ipx_cli_<random> created with
psql from IPX_PG), then plays the admin, the bank, three bidders and the operator, each with
its own key, through tools/ipxctl, and checks both the tables people read and the --json that
scripts read. Prints `N passed, M failed`; exit 1 on failure, 77 (skipped) without IPX_PG.

  IPX_PG=... /usr/bin/python3 tests/cli/cli_scenario_test.py --ipxd build/release/gateway/ipxd
"""
import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", ".."))
IPXCTL = os.path.join(TOP, "tools", "ipxctl")
START_MS = 1767225600000  # 2026-01-01 00:00:00 UTC
DAY = 86_400_000

passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok    {name}")
    else:
        failed += 1
        print(f"FAIL  {name}" + (f"\n      {detail}" if detail else ""))
    return cond


class Abort(Exception):
    pass


def need(name, cond, detail=""):
    if not check(name, cond, detail):
        raise Abort(name)


# ---------------------------------------------------------------------------- environment
def with_db(conninfo, db):
    if conninfo.startswith(("postgres://", "postgresql://")):
        from urllib.parse import urlsplit, urlunsplit
        u = urlsplit(conninfo)
        return urlunsplit((u.scheme, u.netloc, "/" + db, u.query, u.fragment))
    if re.search(r"\bdbname\s*=", conninfo):
        return re.sub(r"\bdbname\s*=\s*\S+", f"dbname={db}", conninfo)
    return f"{conninfo} dbname={db}"


def psql(conninfo, sql):
    return subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", conninfo, "-c", sql],
                          capture_output=True, text=True, timeout=60)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, ipxd, pg):
        self.ipxd, self.base_pg = ipxd, pg
        self.db = f"ipx_cli_{secrets.token_hex(4)}"
        self.pg = with_db(pg, self.db)
        self.secret = secrets.token_hex(16)
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}/v1/ws"
        self.proc = None
        self.log = None

    def start(self):
        r = psql(self.base_pg, f"CREATE DATABASE {self.db}")
        if r.returncode != 0:
            raise Abort(f"CREATE DATABASE {self.db}: {r.stderr.strip()}")
        env = dict(os.environ, IPX_ADMIN_KEY="admin", IPX_ADMIN_SECRET=self.secret)
        env.pop("IPX_REDIS", None)
        self.log = open(f"/tmp/{self.db}.ipxd.log", "w+")
        self.proc = subprocess.Popen(
            [self.ipxd, "--listen", f"127.0.0.1:{self.port}", "--pg", self.pg,
             f"--manual-clock={START_MS}"], stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Abort(f"ipxd exited {self.proc.returncode}: {self.tail()}")
            self.log.flush()
            with open(self.log.name) as f:
                if "ready" in f.read():
                    return
            time.sleep(0.1)
        raise Abort("ipxd not ready within 60 s: " + self.tail())

    def tail(self):
        try:
            with open(self.log.name) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log:
            self.log.close()
        psql(self.base_pg, f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
        if failed == 0 and self.log:
            try:
                os.unlink(self.log.name)
            except OSError:
                pass


# --------------------------------------------------------------------------------- ipxctl
class Who:
    """One person at a keyboard: a key, a secret, and ipxctl."""

    def __init__(self, url, key, secret, name):
        self.url, self.key, self.secret, self.name = url, key, secret, name

    def run(self, *args, url=None):
        env = dict(os.environ, IPX_URL=url or self.url, IPX_KEY=self.key, IPX_SECRET=self.secret,
                   TZ="UTC")
        t = time.time()
        p = subprocess.run([IPXCTL, *args], capture_output=True, text=True, env=env, timeout=60)
        if os.environ.get("CLI_TEST_VERBOSE"):
            print(f"  $ [{self.name}] ipxctl {' '.join(args)}  ({time.time() - t:.2f}s, rc "
                  f"{p.returncode})\n" + "\n".join("    " + ln for ln in
                                                    (p.stdout + p.stderr).splitlines()))
        return p

    def ok(self, *args):
        p = self.run(*args)
        need(f"[{self.name}] ipxctl {' '.join(args)} succeeds", p.returncode == 0,
             f"rc {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        return p.stdout

    def js(self, *args):
        out = self.ok("--json", *args)
        try:
            return json.loads(out)
        except ValueError:
            need(f"[{self.name}] ipxctl --json {' '.join(args)} prints JSON", False, out)

    def fails(self, code, *args, rc=1, advice=None):
        p = self.run(*args)
        check(f"[{self.name}] ipxctl {' '.join(args)} fails with {code}",
              p.returncode == rc and code in p.stderr,
              f"rc {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        if advice:
            check(f"  ... and says what to do ({advice!r})", advice in p.stderr, p.stderr)
        return p


def field(table_text, key):
    """The value of KEY in a key/value table."""
    m = re.search(rf"^{re.escape(key)}\s+(.*)$", table_text, re.M)
    return m.group(1).strip() if m else None


# ------------------------------------------------------------------------------- scenario
def scenario(srv):
    admin = Who(srv.url, "admin", srv.secret, "admin")

    # --- help, before anything else: every subcommand has --help with an example
    subs = {"participants": ["create"], "account": ["fund", "get"], "assets": ["register"],
            "pledges": ["register", "consent"], "disposals": ["open", "show", "list"],
            "auctions": ["create", "show", "list", "register", "bid", "proxy", "accept", "cancel"],
            "settlements": ["show", "pay", "confirm", "fail"],
            "markets": ["create", "show", "issue"], "orders": ["place", "cancel"],
            "backstop": ["offer"], "reports": ["disposals"], "time": ["now", "advance"],
            "journal": ["verify"], "ledger": ["reconcile"]}
    bad = []
    for g, actions in subs.items():
        for act in actions:
            p = admin.run(g, act, "--help")
            if p.returncode != 0 or "example:" not in p.stdout or f"ipxctl {g} {act}" not in p.stdout:
                bad.append(f"{g} {act}")
    p = admin.run("watch", "--help")
    if p.returncode != 0 or "example:" not in p.stdout:
        bad.append("watch")
    check("every subcommand has --help with an example", not bad, f"missing: {bad}")
    top = admin.run("--help").stdout
    check("top --help states the money rule", "a plain integer is fen" in top, top[:400])

    # --- engine time, before login
    out = Who(srv.url, "", "", "anyone").ok("time", "now")
    check("time now shows local time (TZ=UTC)", "2026-01-01 00:00:00" in out, out)

    # --- the admin creates participants and funds the bidders
    bank = admin.js("participants", "create", "Bank of Chengdu", "--kind", "bank",
                    "--region", "chengdu")
    need("participant create --json gives id, key and secret",
         {"participant_id", "api_key", "api_secret"} <= set(bank), bank)
    out = admin.ok("participants", "create", "Owner Co", "--kind", "enterprise",
                   "--region", "chengdu")
    owner_id = field(out, "participant_id")
    need("participant create table shows the id", bool(owner_id), out)
    check("participant create tells how to act as it", "export IPX_KEY=" in out, out)
    b1 = admin.js("participants", "create", "Deyang Machinery", "--kind", "enterprise",
                  "--region", "deyang")
    b2 = admin.js("participants", "create", "Leshan Li", "--kind", "individual",
                  "--region", "leshan")
    b3 = admin.js("participants", "create", "Broke Ltd", "--kind", "enterprise",
                  "--region", "mianyang")

    out = admin.ok("account", "fund", b1["participant_id"], "500000.00")
    check("fund in yuan (500000.00) shows 500,000.00 CNY",
          field(out, "cash_available") == "500,000.00 CNY", out)
    acct = admin.js("account", "fund", b2["participant_id"], "50000000")
    check("fund in fen (plain integer 50000000) = 500,000.00 CNY",
          acct.get("cash_available") == 50_000_000, acct)
    p = admin.run("account", "fund", b2["participant_id"], "2,100,000")
    check("an ambiguous amount (2,100,000) is refused, exit 2",
          p.returncode == 2 and "ambiguous" in p.stderr, p.stderr)

    # --- the operator registers the patent
    asset = admin.js("assets", "register", "CN2020100001.X", "--kind", "invention_patent",
                     "--title", "Solid-state battery separator", "--owner", owner_id,
                     "--region", "chengdu", "--industry", "energy_chemical",
                     "--valuation", "3000000.00", "--expires", "2040-01-01T00:00:00Z")
    check("asset valuation 3000000.00 CNY = 300000000 fen",
          asset.get("valuation") == 300_000_000, asset)
    check("asset expiry from ISO 8601", asset.get("expires_at") == 2208988800000, asset)

    # --- the bank registers the pledge and opens the disposal
    bk = Who(srv.url, bank["api_key"], bank["api_secret"], "bank")
    pledge = bk.js("pledges", "register", "CN2020100001.X", "--loan", "1000000.00",
                   "--interest", "10000 CNY", "--registration-no", "R-2024-001")
    check("pledge defaults the pledgee to the bank; claim = loan + interest",
          pledge.get("pledgee") == bank["participant_id"] and pledge.get("claim") == 101_000_000,
          pledge)
    bk.fails("FORBIDDEN", "account", "fund", bank["participant_id"], "100.00",
             advice="the admin")
    out = bk.ok("disposals", "open", "CN2020100001.X", "--pledgor", owner_id,
                "--valuation", "3000000.00")
    m = re.search(r"opened disposal case (\S+); round 1 is auction (\S+)", out)
    need("disposals open names the case and round 1's auction", bool(m), out)
    case_id, auction_id = m.group(1), m.group(2)
    case = bk.js("disposals", "show", case_id)
    check("case in round_1, start 70% of valuation (2,100,000.00 CNY)",
          case.get("state") == "round_1" and case["rounds"][0]["start_price"] == 210_000_000,
          case)
    out = bk.ok("disposals", "show", case_id)
    check("case table: claim 1,010,000.00 CNY", field(out, "claim") == "1,010,000.00 CNY", out)
    check("case table: rounds table with the auction", auction_id in out and "rounds" in out, out)

    # --- bidders register; one cannot pay the deposit
    w1 = Who(srv.url, b1["api_key"], b1["api_secret"], "bidder1")
    w2 = Who(srv.url, b2["api_key"], b2["api_secret"], "bidder2")
    w3 = Who(srv.url, b3["api_key"], b3["api_secret"], "bidder3")
    out = w1.ok("auctions", "register", auction_id)
    check("register prints the bidder code and the deposit",
          "bidder code is B" in out and "210,000.00 CNY" in out, out)
    reg2 = w2.js("auctions", "register", auction_id)
    check("register --json has bidder_code", bool(reg2.get("bidder_code")), reg2)
    w3.fails("INSUFFICIENT_FUNDS", "auctions", "register", auction_id, advice="account fund")
    w1.fails("DUPLICATE", "auctions", "register", auction_id, advice="already registered")
    w1.fails("AUCTION_NOT_OPEN", "auctions", "bid", auction_id, "2100000.00",
             advice="time advance")
    out = w1.ok("account", "get")
    check("deposit held: cash_held 210,000.00 CNY", field(out, "cash_held") == "210,000.00 CNY",
          out)

    # --- a live stream, watched while the auction opens and the first bid lands
    env = dict(os.environ, IPX_URL=srv.url, IPX_KEY=w1.key, IPX_SECRET=w1.secret, TZ="UTC")
    watch = subprocess.Popen([IPXCTL, "watch", f"auction.{auction_id}", "--count", "3", "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    watch_h = subprocess.Popen([IPXCTL, "watch", f"auction.{auction_id}", "--count", "3"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(1.0)  # let both subscribe before the clock moves

    out = admin.ok("time", "advance", "30d")
    check("time advance 30d: engine now 2026-01-31", "2026-01-31 00:00:00" in out, out)

    out = w1.ok("auctions", "bid", auction_id, "min")
    check("bid min = the start price, bidder 1 leads",
          "bid 2,100,000.00 CNY" in out and field(out, "leader") is not None, out)
    w2.fails("BID_TOO_LOW", "auctions", "bid", auction_id, "2100000.00", advice="min")
    bid = w2.js("auctions", "bid", auction_id, "min")
    check("bid min --json: start + one increment (0.5% = 10,500.00 CNY)",
          bid.get("amount") == 211_050_000 and bid.get("leader") == reg2["bidder_code"], bid)
    w2.fails("ALREADY_LEADING", "auctions", "bid", auction_id, "min", advice="proxy")
    out = w1.ok("auctions", "show", auction_id)
    check("auction table: price 2,110,500.00 CNY, 2 bids, min next 2,121,000.00 CNY",
          field(out, "price") == "2,110,500.00 CNY" and field(out, "bids") == "2"
          and field(out, "min_next_bid") == "2,121,000.00 CNY", out)

    try:
        wout, werr = watch.communicate(timeout=20)
        hout, herr = watch_h.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        watch.kill()
        watch_h.kill()
        wout, werr = watch.communicate()
        hout, herr = watch_h.communicate()
    lines = [json.loads(x) for x in wout.splitlines() if x.strip()]
    check("watch --count 3 --json: snapshot, open, then the first bid",
          watch.returncode == 0 and [p["type"] for p in lines][:2] == ["snapshot", "open"]
          and len(lines) == 3, f"rc {watch.returncode}\n{wout}\n{werr}")
    check("watch lines have consecutive seq",
          all(b["seq"] == a["seq"] + 1 for a, b in zip(lines, lines[1:])), wout)
    hl = hout.splitlines()
    check("watch (table mode): one line per push with channel and type",
          watch_h.returncode == 0 and len(hl) == 3 and f"auction.{auction_id}" in hl[0]
          and "snapshot" in hl[0] and "CNY" in hout, f"{hout}\n{herr}")

    # --- the auction closes; the winner pays; the operator confirms
    admin.ok("time", "advance", "1d")
    auc = w2.js("auctions", "show", auction_id)
    need("after close: sold to bidder 2 with a settlement",
         auc.get("state") == "sold" and auc.get("winner") == reg2["bidder_code"]
         and auc.get("settlement_id"), auc)
    sid = auc["settlement_id"]
    out = w2.ok("auctions", "show", auction_id)
    check("auction table marks the winner as you", "(you)" in (field(out, "winner") or ""), out)
    out = w2.ok("settlements", "show", sid)
    check("settlement table: awaiting_payment, amount due 1,900,500.00 CNY",
          field(out, "state") == "awaiting_payment"
          and field(out, "amount_due") == "1,900,500.00 CNY", out)
    w1.fails("NOT_FOUND", "settlements", "pay", sid)
    w2.fails("INSUFFICIENT_FUNDS", "settlements", "pay", sid, advice="account fund")
    admin.ok("account", "fund", b2["participant_id"], "2000000 CNY")
    out = w2.ok("settlements", "pay", sid)
    check("pay: state paid", field(out, "state") == "paid", out)
    w2.fails("INVALID_STATE", "settlements", "pay", sid, advice="settlements show")
    st = admin.js("settlements", "confirm", sid, "--registration-no", "CNIPA-2026-0042")
    check("confirm --json: confirmed with the registration number",
          st.get("state") == "confirmed" and st.get("registration_no") == "CNIPA-2026-0042", st)
    acct = w2.js("account", "get")
    check("the winner holds the title",
          any(p.get("asset_id") == "CN2020100001.X" and p.get("units") == 1
              for p in acct.get("positions", [])), acct)

    # --- the bank reads the case and the report
    out = bk.ok("disposals", "show", case_id)
    check("case table: closed, outcome sold", field(out, "state") == "closed"
          and field(out, "outcome") == "sold", out)
    check("case table: recovery rate 100.0%, net to bank 1,010,000.00 CNY",
          field(out, "recovery_rate") == "100.0%"
          and field(out, "net_to_bank") == "1,010,000.00 CNY", out)
    out = bk.ok("disposals", "list")
    check("disposals list shows the closed case",
          re.search(rf"^{re.escape(case_id)}\s+closed\s+sold", out, re.M) is not None, out)
    rep = bk.js("reports", "disposals")
    row = (rep.get("rows") or [{}])[0]
    check("report --json: one case, hammer and net to bank",
          len(rep.get("rows", [])) == 1 and row.get("case_id") == case_id
          and row.get("hammer") == 211_050_000 and row.get("net_to_bank") == 101_000_000, rep)
    out = bk.ok("reports", "disposals")
    check("report table: the case, the hammer in CNY, totals by region",
          case_id in out and "2,110,500.00 CNY" in out and "by region" in out, out)
    out = bk.ok("reports", "disposals", "--csv")
    csv_lines = out.strip().splitlines()
    check("report --csv: a header and one row",
          len(csv_lines) == 2 and csv_lines[0].startswith("case_id,bank,region")
          and csv_lines[1].startswith(f"{case_id},{bank['participant_id']},chengdu")
          and "211050000" in csv_lines[1], out)
    out = bk.ok("reports", "disposals", "--by", "region", "--csv")
    check("report --by region --csv", out.splitlines()[0].startswith("region,cases,sold")
          and out.splitlines()[1].startswith("chengdu,1,1"), out)

    # --- failures people will meet
    p = admin.run("time", "now", url=f"ws://127.0.0.1:{free_port()}/v1/ws")
    check("no server: exit 3 and says how to start one",
          p.returncode == 3 and "tools/ipx serve" in p.stderr, p.stderr)
    p = Who(srv.url, "admin", "wrong", "intruder").run("account", "get")
    check("bad secret: UNAUTHENTICATED with advice",
          p.returncode == 1 and "UNAUTHENTICATED" in p.stderr and "IPX_SECRET" in p.stderr,
          p.stderr)
    p = admin.run("--json", "auctions", "show", "A-999")
    check("--json error: {error: {code}} on stdout, exit 1",
          p.returncode == 1 and json.loads(p.stdout or "{}").get("error", {}).get("code")
          == "NOT_FOUND", p.stdout + p.stderr)

    # --- journal and ledger tools, when built: ipxctl runs them with --pg and passes on their
    # exit code and output (whether the ledger balances is the ledger's own test's business)
    def steady(out):  # the first line without its timings ("replayed in 0.02 s")
        return re.sub(r"\d+(\.\d+)? ?m?s\b", "", out.splitlines()[0])

    for group, sub, tool in (("journal", "verify", "ipx-journal"),
                             ("ledger", "reconcile", "ipx-ledger")):
        exe = os.path.join(TOP, "build", "release", "tools", tool)
        if not os.access(exe, os.X_OK):
            print(f"skip  ipxctl {group} {sub} ({tool} is not built)")
            continue
        direct = subprocess.run([exe, sub, "--pg", srv.pg], capture_output=True, text=True,
                                timeout=120)
        p = admin.run(group, sub, "--pg", srv.pg)
        check(f"ipxctl {group} {sub} --pg runs {tool} (same exit code {direct.returncode}, "
              f"same output)", p.returncode == direct.returncode
              and p.stdout.strip() and steady(p.stdout) == steady(direct.stdout),
              f"ipxctl rc {p.returncode}: {p.stdout}{p.stderr}\n{tool} rc {direct.returncode}: "
              f"{direct.stdout}{direct.stderr}")
        if direct.returncode != 0:
            print(f"note  {tool} {sub} exited {direct.returncode}: "
                  f"{(direct.stdout + direct.stderr).strip()[:300]}")
    env = {k: v for k, v in os.environ.items() if k != "IPX_PG"}
    p = subprocess.run([IPXCTL, "journal", "verify"], capture_output=True, text=True, env=env)
    check("ipxctl journal verify without --pg or IPX_PG says how to get one (exit 2)",
          p.returncode == 2 and "IPX_PG" in p.stderr, p.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipxd", default=os.path.join(TOP, "build", "release", "gateway", "ipxd"))
    a = ap.parse_args()
    pg = os.environ.get("IPX_PG")
    if not pg:
        print("skip: IPX_PG is not set (eval \"$(tools/ipx services env)\")")
        return 77
    if not shutil.which("psql"):
        print("skip: psql is not installed")
        return 77
    srv = Server(a.ipxd, pg)
    t0 = time.time()
    try:
        srv.start()
        scenario(srv)
    except Abort as e:
        check(f"scenario aborted: {e}", False, srv.tail()[-800:] if srv.proc else "")
    except Exception:  # noqa: BLE001
        check("scenario raised", False, traceback.format_exc())
    finally:
        srv.stop()
    print(f"{passed} passed, {failed} failed ({time.time() - t0:.1f}s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
