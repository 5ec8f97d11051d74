#!/usr/bin/python3
"""The dashboard's browser test runner (see dashboard.spec.js).

Starts ipxd on a free port with a fresh PostgreSQL database (from IPX_PG) and
--manual-clock, seeds two banks' disposal cases over the WebSocket (tests/e2e/ipxclient.py),
checks GET /v1/reports/disposals, then runs dashboard.spec.js (node + playwright-core +
/usr/bin/chromium) and answers its requests (e.g. "place a bid now") on its stdin.
Needs no internet: chromium is Debian's, playwright-core sits in tests/browser/node_modules
(`tools/ipx setup` installs it).
"""
import argparse
import asyncio
import hashlib
import hmac
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from ipxclient import Client  # noqa: E402

ADMIN_KEY, ADMIN_SECRET = "admin", "browser-test-admin-secret"
DAY = 86_400_000


def db_conninfo(base, db):
    if base.startswith("postgres://") or base.startswith("postgresql://"):
        return re.sub(r"(://[^/]*)(/[^?]*)?", lambda m: m.group(1) + "/" + db, base, count=1)
    if re.search(r"\bdbname\s*=", base):
        return re.sub(r"\bdbname\s*=\s*\S+", "dbname=" + db, base)
    return base + " dbname=" + db


def psql(conninfo, sql):
    subprocess.run(["psql", conninfo, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


async def party(admin, ws_url, name, kind, region, fund=0):
    p = await admin.call("participant.create", name=name, kind=kind, region=region, whitelisted=True)
    if fund:
        await admin.call("account.fund", participant_id=p["participant_id"], amount=fund)
    c = await Client.connect(ws_url)
    await c.login(p["api_key"], p["api_secret"])
    return p, c


async def seed(ws_url):
    """Two banks; bank A: one case sold and paid (settlement to confirm) and one live round;
    bank B: one live round. Returns what the browser test needs."""
    admin = await Client.connect(ws_url)
    await admin.login(ADMIN_KEY, ADMIN_SECRET)
    bank_a, ca = await party(admin, ws_url, "Bank of Chengdu", "bank", "chengdu")
    bank_b, cb = await party(admin, ws_url, "Deyang Rural Bank", "bank", "deyang")
    op, co = await party(admin, ws_url, "Sichuan IP Exchange", "operator", "chengdu")
    owner1, _ = await party(admin, ws_url, "Chengdu Battery Co", "enterprise", "chengdu")
    owner2, _ = await party(admin, ws_url, "Deyang Turbine Works", "enterprise", "deyang")
    t1, c1 = await party(admin, ws_url, "Mianyang Optics", "enterprise", "mianyang", 10_000_000_000)
    t2, c2 = await party(admin, ws_url, "Leshan Materials", "enterprise", "leshan", 10_000_000_000)
    now = (await admin.call("time.now"))["now"]

    async def case(asset_id, title, owner, bank_client, bank, region, industry, valuation, loan):
        await co.call("asset.register", asset_id=asset_id, kind="invention_patent", title=title,
                      owner=owner["participant_id"], region=region, industry=industry,
                      valuation=valuation, expires_at=now + 3650 * DAY)
        await bank_client.call("pledge.register", asset_id=asset_id, pledgee=bank["participant_id"],
                               loan_outstanding=loan, registration_no="PR-" + asset_id)
        return await bank_client.call("disposal.open", assets=[asset_id], pledgee=bank["participant_id"],
                                      pledgor=owner["participant_id"], valuation=valuation)

    # Case 1 (bank A): round 1 sells to t1; t1 pays; the operator confirms from the page.
    k1 = await case("CN201910000001.1", "Solid-state battery electrode", owner1, ca, bank_a,
                    "chengdu", "energy_chemical", 300_000_000, 100_000_000)
    a1 = k1["auction_id"]
    await admin.call("time.advance", ms=30 * DAY + 1000)
    for c in (c1, c2):
        await c.call("auction.register", auction_id=a1)
    r = await c1.call("auction.bid", auction_id=a1, amount=210_000_000)
    r = await c2.call("auction.bid", auction_id=a1, amount=r["min_next_bid"])
    r = await c1.call("auction.bid", auction_id=a1, amount=r["min_next_bid"])
    await admin.call("time.advance", ms=DAY + 1000)
    sold = await c1.call("auction.get", auction_id=a1)
    check(sold["state"] == "sold", f"case 1 sold: {sold}")
    settlement = sold["settlement_id"]
    await c1.call("settlement.pay", settlement_id=settlement)

    # Case 2 (bank A) and case 3 (bank B): live round-1 auctions.
    k2 = await case("CN202020000002.X", "Turbine blade coating", owner1, ca, bank_a,
                    "chengdu", "advanced_materials", 120_000_000, 40_000_000)
    k3 = await case("CN202130000003.4", "Hydraulic press controller", owner2, cb, bank_b,
                    "deyang", "equipment_manufacturing", 80_000_000, 30_000_000)
    await admin.call("time.advance", ms=30 * DAY + 1000)
    a2 = k2["auction_id"]
    for c in (c1, c2):
        await c.call("auction.register", auction_id=a2)
    first = await c1.call("auction.bid", auction_id=a2, amount=84_000_000)
    for c in (admin, ca, cb, co):
        await c.close()
    return {
        "state": {
            "bank_a": {"key": bank_a["api_key"], "secret": bank_a["api_secret"], "id": bank_a["participant_id"]},
            "bank_b": {"key": bank_b["api_key"], "secret": bank_b["api_secret"], "id": bank_b["participant_id"]},
            "operator": {"key": op["api_key"], "secret": op["api_secret"], "id": op["participant_id"]},
            "case_a_sold": k1["case_id"], "case_a_live": k2["case_id"], "case_b": k3["case_id"],
            "auction_a_live": a2, "auction_b": k3["auction_id"], "settlement": settlement,
            "first_bid": first["amount"], "next_bid": first["min_next_bid"],
        },
        "bidder": c2,
        "others": [c1],
    }


def signed_url(base, key, secret, query=""):
    ts = int(time.time() * 1000)
    nonce = secrets.token_hex(12)
    sig = hmac.new(secret.encode(), f"{key}\n{ts}\n{nonce}".encode(), hashlib.sha256).hexdigest()
    q = f"key={key}&ts={ts}&nonce={nonce}&sig={sig}"
    return f"{base}/v1/reports/disposals?{q}" + (f"&{query}" if query else "")


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def check_http(base, st):
    # Static files with their content types.
    for path, ctype in (("/", "text/html"), ("/app.js", "text/javascript"), ("/style.css", "text/css")):
        status, ct, _ = http_get(base + path)
        check(status == 200 and ct.startswith(ctype), f"GET {path}: {status} {ct}")
    check(http_get(base + "/../etc/passwd")[0] == 404, "no path escape")
    # The report: unauthenticated is 401 JSON; a bank sees only its own cases.
    status, ct, body = http_get(base + "/v1/reports/disposals")
    check(status == 401 and ct.startswith("application/json") and
          json.loads(body)["error"]["code"] == "UNAUTHENTICATED", f"unsigned report: {status} {body}")
    a = st["bank_a"]
    status, _, body = http_get(signed_url(base, a["key"], a["secret"]) + "0")  # a wrong signature
    check(status == 401, f"bad signature: {status}")
    status, ct, body = http_get(signed_url(base, a["key"], a["secret"]))
    check(status == 200 and ct.startswith("application/json"), f"report: {status} {body[:200]}")
    cases = {r["case_id"] for r in json.loads(body)["rows"]}
    check(cases == {st["case_a_sold"], st["case_a_live"]}, f"bank A's report rows: {cases}")
    status, ct, body = http_get(signed_url(base, a["key"], a["secret"], "format=csv"))
    check(status == 200 and ct.startswith("text/csv"), f"csv: {status} {ct}")
    lines = body.strip().splitlines()
    check(lines[0].startswith("level,case_id,") and sum(l.startswith("case,") for l in lines) == 2 and
          any(l.startswith("region,") for l in lines) and lines[-1].startswith("total,"), f"csv:\n{body}")
    check(st["case_b"] not in body, "bank B's case is not in bank A's CSV")
    # Rates in plain decimals (0.75, 0), as a spreadsheet reads them, not 7.5E-1 or 0E0.
    rate = lines[0].split(",").index("recovery_rate")
    for l in lines[1:]:
        cell = l.split(",")[rate]
        check("E" not in cell.upper() and (cell == "" or float(cell) >= 0), f"recovery_rate cell {cell!r}")
    o = st["operator"]
    status, _, body = http_get(signed_url(base, o["key"], o["secret"]))
    check(status == 200 and len(json.loads(body)["rows"]) == 3, f"operator report: {status}")
    print("PASS http: static files, /v1/reports/disposals (401, JSON, CSV, own cases only)", flush=True)


async def drive_spec(base, seeded, shots):
    st = seeded["state"]
    env = dict(os.environ, IPX_BASE_URL=base, IPX_SEED=json.dumps(st), IPX_SHOTS=shots)
    proc = await asyncio.create_subprocess_exec(
        "node", os.path.join(HERE, "dashboard.spec.js"), cwd=HERE, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    bidder = seeded["bidder"]
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), 240)
        if not line:
            break
        text = line.decode().rstrip("\n")
        print(text, flush=True)
        if text.startswith("@@ bid"):
            r = await bidder.call("auction.bid", auction_id=st["auction_a_live"], amount=st["next_bid"])
            proc.stdin.write((json.dumps(r) + "\n").encode())
            await proc.stdin.drain()
    return await proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipxd", default=os.path.join(ROOT, "build", "release", "gateway", "ipxd"))
    ap.add_argument("--shots", default=os.path.join(ROOT, "build", "browser"))
    args = ap.parse_args()
    pg = os.environ.get("IPX_PG")
    if not pg:
        print("run_browser: IPX_PG is not set (eval \"$(tools/ipx services env)\")", file=sys.stderr)
        return 2
    if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        print("run_browser: playwright-core is missing: run tools/ipx setup", file=sys.stderr)
        return 2
    os.makedirs(args.shots, exist_ok=True)
    db = "ipx_browser_" + secrets.token_hex(5)
    psql(pg, f"CREATE DATABASE {db}")
    proc = None
    log = []
    try:
        env = dict(os.environ, IPX_ADMIN_KEY=ADMIN_KEY, IPX_ADMIN_SECRET=ADMIN_SECRET)
        env.pop("IPX_LISTEN", None)
        env.pop("IPX_REDIS", None)
        env.pop("IPX_WWW_DIR", None)
        proc = subprocess.Popen([args.ipxd, "--listen", "127.0.0.1:0", "--pg", db_conninfo(pg, db),
                                 "--manual-clock"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=env, text=True)
        hostport = None
        deadline = time.time() + 60
        while time.time() < deadline and hostport is None:
            line = proc.stdout.readline()
            if not line:
                break
            log.append(line)
            m = re.search(r"http://([0-9.]+:\d+)/", line)
            if "ready" in line and m:
                hostport = m.group(1)
        if hostport is None:
            raise RuntimeError("ipxd did not start:\n" + "".join(log))
        base = f"http://{hostport}"
        threading.Thread(target=lambda: [log.append(x) for x in proc.stdout], daemon=True).start()

        async def go():
            seeded = await seed(f"ws://{hostport}/v1/ws")
            print(f"seeded: {json.dumps(seeded['state'])}", flush=True)
            check_http(base, seeded["state"])
            rc = await drive_spec(base, seeded, args.shots)
            await seeded["bidder"].close()
            for c in seeded["others"]:
                await c.close()
            return rc

        rc = asyncio.run(go())
        if rc != 0:
            print("ipxd log:\n" + "".join(log[-40:]), flush=True)
        print("browser_dashboard: " + ("PASS" if rc == 0 else "FAIL"), flush=True)
        return rc
    except Exception as e:  # noqa: BLE001
        print(f"browser_dashboard: FAIL: {type(e).__name__}: {e}", flush=True)
        return 1
    finally:
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        try:
            psql(pg, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        except Exception as e:  # noqa: BLE001
            print(f"warning: could not drop {db}: {e}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
