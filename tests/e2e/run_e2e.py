#!/usr/bin/python3
"""End-to-end protocol tests for ipx, written from PROTOCOL.md and DOMAIN.md, run as an
outside client over a real WebSocket.

    /usr/bin/python3 tests/e2e/run_e2e.py [--ipxd PATH] [-k SUBSTRING] [-v]

The runner creates a fresh PostgreSQL database (from IPX_PG) per server, starts ipxd on a
free port (with --manual-clock, except the real-clock group), runs every test function
against it, prints each test's name with PASS/FAIL, ends with "N passed, M failed" and
exits non-zero when anything failed. No pytest: plain asyncio + python3-websockets.
"""
import argparse
import asyncio
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import subprocess
import urllib.request
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ipxclient import Client, ProtocolError  # noqa: E402

DAY = 86_400_000
HOUR = 3_600_000
MIN = 60_000
YEAR = 365 * DAY
ADMIN_KEY = "admin"
ADMIN_SECRET = "e2e-" + secrets.token_hex(8)

# ----------------------------------------------------------------------------- assertions


class Failure(AssertionError):
    pass


def check(cond, msg="check failed"):
    if not cond:
        raise Failure(msg)


def eq(got, want, what=""):
    if got != want:
        raise Failure(f"{what}: got {got!r}, want {want!r}")


def has(obj, *fields, what="result"):
    check(isinstance(obj, dict), f"{what}: not an object: {obj!r}")
    missing = [f for f in fields if f not in obj]
    check(not missing, f"{what}: missing {missing} in {sorted(obj)}")


async def err(c, method, **params):
    """Calls and expects an error; returns (code, message)."""
    reply = await c.raw(method, params)
    check("error" in reply, f"{method} {params} should fail, got {reply}")
    return reply["error"]["code"], reply["error"].get("message", "")


async def code(c, method, **params):
    return (await err(c, method, **params))[0]


async def expect(c, want, method, **params):
    got, msg = await err(c, method, **params)
    check(got == want, f"{method} {params}: got {got} ({msg}), want {want}")
    return msg


async def raw_frame(c, text, reply_id=None, timeout=10):
    """Sends a raw text frame and waits for the reply with id reply_id (None: id null)."""
    fut = asyncio.get_running_loop().create_future()
    c.pending[reply_id] = fut
    await c.ws.send(text)
    return await asyncio.wait_for(fut, timeout)


def sign(secret, key, ts, nonce):
    return hmac.new(secret.encode(), f"{key}\n{ts}\n{nonce}".encode(), hashlib.sha256).hexdigest()


async def drain(c):
    while not c.pushes.empty():
        c.pushes.get_nowait()


async def npush(c, channel=None, timeout=10):
    """The next push (of `channel`), keeping other channels' pushes for later calls."""
    stash = c.__dict__.setdefault("stash", [])
    for i, p in enumerate(stash):
        if channel is None or p["channel"] == channel:
            return stash.pop(i)
    while True:
        p = await asyncio.wait_for(c.pushes.get(), timeout)
        if channel is None or p["channel"] == channel:
            return p
        stash.append(p)


async def pushes_until(c, channel, pred, timeout=10):
    """Collects pushes of `channel` until pred(push) is true; returns the list."""
    got = []
    while True:
        p = await npush(c, channel, timeout)
        got.append(p)
        if pred(p):
            return got


# ----------------------------------------------------------------------------- environment


class Party:
    def __init__(self, client, pid, key, secret, kind):
        self.c, self.id, self.key, self.secret, self.kind = client, pid, key, secret, kind

    async def call(self, method, **params):
        return await self.c.call(method, **params)


class Env:
    def __init__(self, url, manual):
        self.url = url
        self.manual = manual
        self.clients = []
        self._admin = None
        self.n = 0

    def uid(self, prefix):
        self.n += 1
        return f"{prefix}-{self.n}-{secrets.token_hex(3)}"

    async def client(self):
        c = await Client.connect(self.url)
        self.clients.append(c)
        return c

    async def admin(self):
        if self._admin is None:
            self._admin = await self.client()
            await self._admin.login(ADMIN_KEY, ADMIN_SECRET)
        return self._admin

    async def party(self, kind, fund=0, region="chengdu", name=None):
        a = await self.admin()
        r = await a.call("participant.create", name=name or self.uid(kind), kind=kind,
                         region=region, whitelisted=True)
        c = await self.client()
        await c.login(r["api_key"], r["api_secret"])
        if fund:
            await a.call("account.fund", participant_id=r["participant_id"], amount=fund)
        return Party(c, r["participant_id"], r["api_key"], r["api_secret"], kind)

    async def now(self):
        return (await (await self.admin()).call("time.now"))["now"]

    async def advance(self, ms):
        return (await (await self.admin()).call("time.advance", ms=ms))["now"]

    async def advance_to(self, t):
        now = await self.now()
        if t > now:
            return await self.advance(t - now)
        return now

    async def asset(self, owner, valuation=300_000_000, expires_in=10 * YEAR, region="chengdu",
                    industry="energy_chemical", co_owners=None):
        a = await self.admin()
        aid = self.uid("CN")
        params = dict(asset_id=aid, kind="invention_patent", title="Battery electrode " + aid,
                      owner=owner.id, region=region, industry=industry, valuation=valuation,
                      expires_at=await self.now() + expires_in)
        if co_owners:
            params["co_owners"] = co_owners
        r = await a.call("asset.register", **params)
        return r["asset_id"]

    async def auction(self, owner, fmt="english", start=1_000_000, increment=10_000, deposit=100_000,
                      opens_in=0, duration=DAY, purpose="transfer", lot=None, **extra):
        a = await self.admin()
        now = await self.now()
        lot = lot or [await self.asset(owner)]
        r = await a.call("auction.create", lot=lot, purpose=purpose, format=fmt, start_price=start,
                         increment=increment, deposit=deposit, opens_at=now + opens_in,
                         closes_at=now + opens_in + duration, **extra)
        return r

    async def close(self):
        for c in self.clients:
            try:
                await c.close()
            except Exception:
                pass


# ----------------------------------------------------------------------------- tests: envelope


async def test_envelope_non_object_frames(env):
    c = await env.client()
    for text in ["[1, 2]", "42", "\"time.now\"", "not json at all", "{\"id\": 1,", "null"]:
        r = await raw_frame(c, text)
        eq(r.get("id", "missing"), None, f"id for {text!r}")
        eq(r["error"]["code"], "BAD_REQUEST", f"code for {text!r}")
    r = await c.call("time.now")  # the connection stays open
    has(r, "now", "wall")


async def test_envelope_bad_ids(env):
    c = await env.client()
    # A missing id is answered with id null (the request is served); a malformed one is also
    # BAD_REQUEST (PROTOCOL "Limits").
    r = await raw_frame(c, '{"method": "time.now"}')
    eq(r.get("id", "missing"), None, "id for a frame without one")
    has(r["result"], "now", "wall")
    for frame in ['{"id": 7.0, "method": "time.now"}',
                  '{"id": [1], "method": "time.now"}', '{"id": {"a": 1}, "method": "time.now"}',
                  '{"id": true, "method": "time.now"}', '{"id": null, "method": "time.now"}',
                  '{"id": 9223372036854775808, "method": "time.now"}', '{"id": 1.5, "method": "time.now"}']:
        r = await raw_frame(c, frame)
        eq(r.get("id", "missing"), None, f"id for {frame}")
        eq(r["error"]["code"], "BAD_REQUEST", f"code for {frame}")
    # Good ids: strings, negative and large signed 64-bit integers, echoed as given.
    for id_ in ["abc", "", -5, 9223372036854775807, 0]:
        r = await raw_frame(c, json.dumps({"id": id_, "method": "time.now"}), reply_id=id_)
        eq(r["id"], id_, "echoed id")
        has(r["result"], "now", "wall")


async def test_check_order(env):
    c = await env.client()
    # Not logged in: UNAUTHENTICATED comes before BAD_REQUEST for unknown methods and bad params.
    eq(await code(c, "no.such.method"), "UNAUTHENTICATED", "unknown method before login")
    eq(await code(c, "account.get", bogus=1), "UNAUTHENTICATED", "bad params before login")
    eq(await code(c, "account.get"), "UNAUTHENTICATED", "account.get before login")
    eq(await code(c, "subscribe", channels=["private"]), "UNAUTHENTICATED", "subscribe before login")
    r = await raw_frame(c, '{"id": 3, "method": 5}', reply_id=3)
    eq(r["error"]["code"], "UNAUTHENTICATED", "non-string method before login")
    t = await env.party("enterprise")
    # Logged in: unknown method BAD_REQUEST; malformed params BAD_REQUEST before FORBIDDEN.
    eq(await code(t.c, "no.such.method"), "BAD_REQUEST", "unknown method")
    r = await raw_frame(t.c, '{"id": 4, "method": 5}', reply_id=4)
    eq(r["error"]["code"], "BAD_REQUEST", "non-string method")
    r = await raw_frame(t.c, '{"id": 5, "method": "account.get", "params": [1]}', reply_id=5)
    eq(r["error"]["code"], "BAD_REQUEST", "params not an object")
    code_, msg = await err(t.c, "participant.create", name="x", kind="bank", region="chengdu", whitelisted=False)
    eq(code_, "FORBIDDEN", "participant.create by a trader")
    code_, msg = await err(t.c, "participant.create", name="x", kind="bank")
    eq(code_, "BAD_REQUEST", "missing field before FORBIDDEN")
    check("region" in msg, f"message names the field: {msg}")
    code_, msg = await err(t.c, "participant.create", name="x", kind="bank", region="chengdu", colour="red")
    eq(code_, "BAD_REQUEST", "unknown field before FORBIDDEN")
    check("colour" in msg, f"message names the field: {msg}")
    code_, msg = await err(t.c, "account.fund", participant_id=t.id, amount="100")
    eq(code_, "BAD_REQUEST", "wrong type before FORBIDDEN")
    check("amount" in msg, f"message names the field: {msg}")
    eq(await code(t.c, "account.fund", participant_id=t.id, amount=-1), "BAD_REQUEST", "out of range")
    eq(await code(t.c, "account.fund", participant_id=t.id, amount=1.5), "BAD_REQUEST", "non-integer")
    # FORBIDDEN before NOT_FOUND.
    eq(await code(t.c, "disposal.get", case_id="C-999999"), "FORBIDDEN", "disposal.get by a trader")
    eq(await code(t.c, "auction.cancel", auction_id="A-999999", reason="r"), "FORBIDDEN", "cancel by a trader")
    eq(await code(t.c, "settlement.confirm", settlement_id="S-999999", registration_no="R"), "FORBIDDEN", "confirm")
    bank = await env.party("bank")
    eq(await code(bank.c, "disposal.get", case_id="C-999999"), "NOT_FOUND", "disposal.get by a bank")
    eq(await code(t.c, "auction.get", auction_id="A-999999"), "NOT_FOUND", "auction.get")
    # BAD_REQUEST before NOT_FOUND: a bad auction_id shape.
    eq(await code(t.c, "auction.get", auction_id=""), "BAD_REQUEST", "empty id")
    eq(await code(t.c, "auction.get", auction_id=12), "BAD_REQUEST", "id must be a string")


# ----------------------------------------------------------------------------- tests: auth


async def test_login(env):
    c = await env.client()
    r = await c.login(ADMIN_KEY, ADMIN_SECRET)
    eq(r, {"participant_id": r["participant_id"], "kind": "admin", "roles": r["roles"]}, "login result")
    check(isinstance(r["participant_id"], str), "participant_id is a string")
    eq(sorted(r["roles"]), ["admin", "operator"], "admin roles")
    # Role sets per kind.
    want = {"operator": ["operator"], "bank": ["bank"], "enterprise": ["trader"],
            "individual": ["trader"], "backstop": ["backstop"], "risk_fund": []}
    for kind, roles in want.items():
        p = await env.party(kind)
        c2 = await env.client()
        r2 = await c2.login(p.key, p.secret)
        eq(r2["participant_id"], p.id, f"{kind} id")
        eq(r2["kind"], kind, f"{kind} kind")
        eq(sorted(r2["roles"]), roles, f"{kind} roles")


async def test_login_failures(env):
    c = await env.client()
    ts = int(time.time() * 1000)

    async def login(key=ADMIN_KEY, secret=ADMIN_SECRET, ts=ts, nonce=None, sig=None, **extra):
        nonce = nonce or secrets.token_hex(8)
        sig = sig or sign(secret, key, ts, nonce)
        return await err(c, "auth.login", key=key, ts=ts, nonce=nonce, sig=sig, **extra)

    eq((await login(secret="wrong"))[0], "UNAUTHENTICATED", "bad signature")
    eq((await login(key="nobody"))[0], "UNAUTHENTICATED", "unknown key")
    eq((await login(ts=ts - 60_000))[0], "UNAUTHENTICATED", "stale ts")
    eq((await login(ts=ts + 60_000))[0], "UNAUTHENTICATED", "future ts")
    eq(await code(c, "account.get"), "UNAUTHENTICATED", "still logged out after failures")
    # Malformed: BAD_REQUEST.
    n = secrets.token_hex(8)
    eq(await code(c, "auth.login", key=ADMIN_KEY, ts=ts, nonce=n), "BAD_REQUEST", "missing sig")
    eq(await code(c, "auth.login", key=ADMIN_KEY, ts=str(ts), nonce=n, sig="00"), "BAD_REQUEST", "ts string")
    eq(await code(c, "auth.login", key=ADMIN_KEY, ts=ts, nonce="short", sig="00"), "BAD_REQUEST", "nonce < 8")
    eq(await code(c, "auth.login", key=ADMIN_KEY, ts=ts, nonce="x" * 65, sig="00"), "BAD_REQUEST", "nonce > 64")
    eq(await code(c, "auth.login", key=ADMIN_KEY, ts=ts, nonce=n, sig="00", extra=1), "BAD_REQUEST", "unknown field")
    eq(await code(c, "auth.login"), "BAD_REQUEST", "no params")
    # Replayed nonce: refused whether the first login succeeded or not.
    nonce = secrets.token_hex(10)
    ok = await c.call("auth.login", key=ADMIN_KEY, ts=ts, nonce=nonce, sig=sign(ADMIN_SECRET, ADMIN_KEY, ts, nonce))
    eq(ok["kind"], "admin", "first login")
    c2 = await env.client()
    eq(await code(c2, "auth.login", key=ADMIN_KEY, ts=ts, nonce=nonce,
                  sig=sign(ADMIN_SECRET, ADMIN_KEY, ts, nonce)), "UNAUTHENTICATED", "replayed nonce")
    nonce2 = secrets.token_hex(10)
    eq(await code(c2, "auth.login", key=ADMIN_KEY, ts=ts, nonce=nonce2, sig="ab" * 32), "UNAUTHENTICATED", "bad sig")
    eq(await code(c2, "auth.login", key=ADMIN_KEY, ts=ts, nonce=nonce2,
                  sig=sign(ADMIN_SECRET, ADMIN_KEY, ts, nonce2)), "UNAUTHENTICATED", "nonce of a failed login")
    # The connection stays open and can still log in.
    r = await c2.login(ADMIN_KEY, ADMIN_SECRET)
    eq(r["kind"], "admin", "login after failures")


# ----------------------------------------------------------------------------- tests: time


async def test_time(env):
    c = await env.client()
    r = await c.call("time.now")
    eq(sorted(r), ["now", "wall"], "time.now fields")
    check(isinstance(r["now"], int) and isinstance(r["wall"], int), "integers")
    check(abs(r["wall"] - time.time() * 1000) < 30_000, "wall is the real clock")
    eq(await code(c, "time.advance", ms=1000), "UNAUTHENTICATED", "time.advance before login")
    t = await env.party("enterprise")
    eq(await code(t.c, "time.advance", ms=1000), "FORBIDDEN", "time.advance by a trader")
    op = await env.party("operator")
    eq(await code(op.c, "time.advance", ms=1000), "FORBIDDEN", "time.advance by an operator")
    a = await env.admin()
    eq(await code(a, "time.advance", ms=0), "BAD_REQUEST", "ms = 0")
    eq(await code(a, "time.advance", ms=-5), "BAD_REQUEST", "ms < 0")
    eq(await code(a, "time.advance"), "BAD_REQUEST", "ms missing")
    eq(await code(a, "time.advance", ms=1.5), "BAD_REQUEST", "ms not an integer")
    eq(await code(a, "time.advance", ms=2**63 - 1), "BAD_REQUEST", "ms would overflow engine time")
    before = (await a.call("time.now"))["now"]
    r = await a.call("time.advance", ms=1234)
    eq(sorted(r), ["now"], "time.advance fields")
    eq(r["now"], before + 1234, "advanced")
    eq((await t.call("time.now"))["now"], before + 1234, "everyone sees engine time")


# ----------------------------------------------------------------------------- tests: roles

KINDS = ["admin", "operator", "bank", "enterprise", "individual", "backstop", "risk_fund"]
ROLES = {"admin": {"admin", "operator"}, "operator": {"operator"}, "bank": {"bank"},
         "enterprise": {"trader"}, "individual": {"trader"}, "backstop": {"backstop"}, "risk_fund": set()}


async def test_roles_per_method(env):
    parties = {"admin": None}
    for k in KINDS[1:]:
        parties[k] = await env.party(k)
    admin = await env.admin()
    now = await env.now()
    lic = {"kind": "non_exclusive", "territory": ["cn"], "field": "all", "term_months": 12, "royalty_bp": 0}
    # method -> (roles allowed, params well formed but naming nothing that exists)
    table = {
        "time.advance": ({"admin"}, {"ms": 1}),
        "participant.create": ({"admin"}, None),
        "account.fund": ({"admin"}, {"participant_id": "P-999999", "amount": 1}),
        "asset.register": ({"operator", "trader"}, {"asset_id": "X", "kind": "invention_patent", "title": "t",
                                                    "owner": "P-999999", "region": "chengdu",
                                                    "industry": "other", "valuation": 1, "expires_at": now + YEAR}),
        "pledge.register": ({"operator", "bank"}, {"asset_id": "NOPE", "pledgee": "P-999999",
                                                   "loan_outstanding": 1, "registration_no": "R"}),
        "pledge.consent": ({"bank"}, {"asset_id": "NOPE"}),
        "asset.get": (None, {"asset_id": "NOPE"}),
        "disposal.open": ({"operator", "bank"}, {"assets": ["NOPE"], "pledgee": "P-999999",
                                                 "pledgor": "P-999998", "valuation": 100}),
        "disposal.get": ({"operator", "bank"}, {"case_id": "C-999999"}),
        "auction.create": ({"operator", "trader"}, {"lot": ["NOPE"], "purpose": "transfer", "format": "english",
                                                    "start_price": 100, "increment": 1, "deposit": 0,
                                                    "opens_at": now, "closes_at": now + DAY}),
        "auction.cancel": ({"operator"}, {"auction_id": "A-999999", "reason": "r"}),
        "auction.register": ({"trader", "backstop"}, {"auction_id": "A-999999"}),
        "auction.bid": ({"trader", "backstop"}, {"auction_id": "A-999999", "amount": 100}),
        "auction.proxy": ({"trader", "backstop"}, {"auction_id": "A-999999", "max_amount": 100}),
        "auction.accept": ({"trader", "backstop"}, {"auction_id": "A-999999"}),
        "auction.get": (None, {"auction_id": "A-999999"}),
        "backstop.offer": ({"backstop"}, None),
        "market.create": ({"operator", "trader"}, {"market_id": "M-X", "asset_id": "NOPE", "licence": lic,
                                                   "tick": 1, "min_qty": 1}),
        "units.issue": ({"trader"}, {"market_id": "NOPE", "qty": 1}),
        "order.place": ({"trader"}, {"market_id": "NOPE", "side": "buy", "type": "limit", "price": 1, "qty": 1,
                                     "tif": "gtc", "client_order_id": "c1"}),
        "order.cancel": ({"trader"}, {"market_id": "NOPE", "order_id": "O-999999"}),
        "settlement.get": (None, {"settlement_id": "S-999999"}),
        "settlement.confirm": ({"operator"}, {"settlement_id": "S-999999", "registration_no": "R"}),
        "settlement.fail": ({"operator"}, {"settlement_id": "S-999999", "reason": "r"}),
        "report.disposals": ({"operator", "bank"}, {}),
        "account.get": (None, {}),
    }
    problems = []
    for method, (allowed, params) in table.items():
        for kind in KINDS:
            c = admin if kind == "admin" else parties[kind].c
            if method == "asset.register" and kind in ("enterprise", "individual"):
                params = dict(params, owner=parties[kind].id, asset_id=env.uid("OWN"))
            may = allowed is None or bool(ROLES[kind] & allowed)
            if params is None:
                if may:
                    continue
                params_ = {"name": "x", "kind": "bank", "region": "chengdu", "whitelisted": False} \
                    if method == "participant.create" \
                    else {"price_bp": 5000, "max_amount": 100}
            else:
                params_ = params
            reply = await c.raw(method, params_)
            got = reply["error"]["code"] if "error" in reply else "OK"
            if may and got in ("FORBIDDEN", "BAD_REQUEST", "UNAUTHENTICATED"):
                problems.append(f"{method} by {kind}: {got} {reply.get('error', {}).get('message')}")
            if not may and got != "FORBIDDEN":
                problems.append(f"{method} by {kind}: {got}, want FORBIDDEN")
    check(not problems, "; ".join(problems))


# ----------------------------------------------------------------------------- tests: accounts


async def test_participant_and_account(env):
    a = await env.admin()
    r = await a.call("participant.create", name="Owner Co", kind="enterprise", region="chengdu", whitelisted=True)
    has(r, "participant_id", "api_key", "api_secret")
    check(all(isinstance(r[k], str) for k in ("participant_id", "api_key", "api_secret")), "strings")
    eq(await code(a, "participant.create", name="x", kind="wizard", region="chengdu", whitelisted=True),
       "BAD_REQUEST", "unknown kind")
    eq(await code(a, "participant.create", name="x", kind="enterprise", region="chengdu", whitelisted="yes"),
       "BAD_REQUEST", "whitelisted type")
    # Own credentials (extension).
    key = "k-" + secrets.token_hex(6)
    r2 = await a.call("participant.create", name="Own Keys", kind="individual", region="leshan",
                      whitelisted=False, api_key=key, api_secret="s3cret-" + key)
    eq(r2["api_key"], key, "own api_key")
    c = await env.client()
    eq((await c.login(key, "s3cret-" + key))["participant_id"], r2["participant_id"], "login with own keys")
    eq(await code(a, "participant.create", name="Dup", kind="individual", region="leshan",
                  whitelisted=False, api_key=key, api_secret="other-secret"), "DUPLICATE", "api_key reuse")
    eq(await code(a, "participant.create", name="x", kind="enterprise", region="chengdu"),
       "BAD_REQUEST", "whitelisted is required")
    f = await a.call("account.fund", participant_id=r2["participant_id"], amount=123_456)
    eq(f, {"participant_id": r2["participant_id"], "cash_available": 123_456, "cash_held": 0, "positions": []},
       "account.fund result")
    g = await c.call("account.get")
    eq(g, f, "account.get self")
    eq(await a.call("account.get", participant_id=r2["participant_id"]), f, "admin reads any account")
    op = await env.party("operator")
    eq(await op.call("account.get", participant_id=r2["participant_id"]), f, "operator reads any account")
    other = await env.party("enterprise")
    eq(await code(other.c, "account.get", participant_id=r2["participant_id"]), "NOT_FOUND", "another's account")
    eq(await code(a, "account.get", participant_id="P-999999"), "NOT_FOUND", "no such account")
    eq(await code(a, "account.fund", participant_id="P-999999", amount=5), "NOT_FOUND", "fund nobody")
    rf = await env.party("risk_fund", fund=1000)
    eq((await rf.call("account.get"))["cash_available"], 1000, "risk_fund reads its own account")


# ----------------------------------------------------------------------------- tests: idempotency


async def test_idempotency(env):
    a = await env.admin()
    p = await env.party("enterprise")
    rid = env.uid("rid")
    r1 = await a.call("account.fund", participant_id=p.id, amount=1000, request_id=rid)
    r2 = await a.call("account.fund", participant_id=p.id, amount=1000, request_id=rid)
    eq(r2, r1, "retry returns the first reply")
    eq((await p.call("account.get"))["cash_available"], 1000, "applied once")
    eq(await code(a, "account.fund", participant_id=p.id, amount=2000, request_id=rid), "DUPLICATE",
       "same request_id, other params")
    eq((await p.call("account.get"))["cash_available"], 1000, "DUPLICATE applied nothing")
    # request_id is 1-64 characters: "" and 65 are refused and apply nothing; 64 is kept.
    for bad in ("", "x" * 65):
        eq(await code(a, "account.fund", participant_id=p.id, amount=5, request_id=bad), "BAD_REQUEST",
           f"request_id of {len(bad)} characters")
    eq((await p.call("account.get"))["cash_available"], 1000, "refused request_ids applied nothing")
    rid64 = env.uid("r").ljust(64, "r")
    r64 = await a.call("account.fund", participant_id=p.id, amount=5, request_id=rid64)
    eq(await a.call("account.fund", participant_id=p.id, amount=5, request_id=rid64), r64,
       "a 64-character request_id is kept")
    eq((await p.call("account.get"))["cash_available"], 1005, "applied once")
    # Per participant: another participant may use the same request_id.
    q = await env.party("enterprise")
    aid = (await env.auction(q, deposit=0))["auction_id"]
    r = await p.call("auction.register", auction_id=aid, request_id=rid)
    eq(r["auction_id"], aid, "same request_id, other participant")
    # Errors are remembered too.
    auc = (await env.auction(q, deposit=5000))["auction_id"]
    rid2 = env.uid("rid")
    eq(await code(p.c, "auction.register", auction_id=auc, request_id=rid2), "INSUFFICIENT_FUNDS", "first")
    await a.call("account.fund", participant_id=p.id, amount=10_000)
    eq(await code(p.c, "auction.register", auction_id=auc, request_id=rid2), "INSUFFICIENT_FUNDS",
       "the remembered error comes back, applying nothing")
    eq((await p.call("account.get"))["cash_held"], 0, "nothing held")
    r = await p.call("auction.register", auction_id=auc, request_id=env.uid("rid"))
    eq(r["auction_id"], auc, "a new request_id applies")
    # A BAD_REQUEST (params the codec refuses) is kept too: the same bad request gets it
    # again, the same id with good params is DUPLICATE and applies nothing.
    rid4 = env.uid("rid")
    auc3 = (await env.auction(q, deposit=0))["auction_id"]
    eq(await code(p.c, "auction.register", auction_id=5, request_id=rid4), "BAD_REQUEST", "malformed")
    eq(await code(p.c, "auction.register", auction_id=5, request_id=rid4), "BAD_REQUEST", "again")
    eq(await code(p.c, "auction.register", auction_id=auc3, request_id=rid4), "DUPLICATE",
       "the kept BAD_REQUEST makes other params DUPLICATE")
    eq((await p.call("auction.get", auction_id=auc3))["registered"], 0, "nothing registered")
    # So is a FORBIDDEN (a change the caller's role may not make): the same request gets it
    # again, the same id on a request it may make is DUPLICATE, and nothing is applied.
    rid5 = env.uid("rid")
    eq(await code(p.c, "auction.cancel", auction_id=auc3, reason="x", request_id=rid5), "FORBIDDEN",
       "auction.cancel is the operator's")
    eq(await code(p.c, "auction.cancel", auction_id=auc3, reason="x", request_id=rid5), "FORBIDDEN",
       "again")
    eq(await code(p.c, "auction.register", auction_id=auc3, request_id=rid5), "DUPLICATE",
       "the kept FORBIDDEN makes other params DUPLICATE")
    eq((await p.call("auction.get", auction_id=auc3))["registered"], 0, "still nothing registered")
    eq((await p.call("auction.get", auction_id=auc3))["state"] != "cancelled", True, "not cancelled")
    # Without a request_id nothing is kept: the same refusal, each time.
    eq(await code(p.c, "auction.cancel", auction_id=auc3, reason="x"), "FORBIDDEN", "no request_id")
    # A retried success does not apply again (no second DUPLICATE registration error).
    rid3 = env.uid("rid")
    auc2 = (await env.auction(q, deposit=100))["auction_id"]
    x1 = await p.call("auction.register", auction_id=auc2, request_id=rid3)
    x2 = await p.call("auction.register", auction_id=auc2, request_id=rid3)
    eq(x2, x1, "register retried")
    eq((await p.call("account.get"))["cash_held"], 5100, "one deposit held per registration")
    # The same request_id on another method (same params) is DUPLICATE, not the other reply.
    eq(await code(p.c, "auction.accept", auction_id=auc2, request_id=rid3), "DUPLICATE", "other method")
    # request_id shape.
    eq(await code(a, "account.fund", participant_id=p.id, amount=1, request_id="x" * 65), "BAD_REQUEST", "65 chars")
    eq(await code(a, "account.fund", participant_id=p.id, amount=1, request_id=5), "BAD_REQUEST", "not a string")
    # Every method accepts one (reads too).
    await p.call("account.get", request_id=rid)
    await p.call("time.now", request_id=rid)
    await p.call("auction.get", auction_id=auc, request_id=rid)
    await p.call("subscribe", channels=["private"], request_id=rid)
    await p.call("unsubscribe", channels=["private"], request_id=rid)


# ----------------------------------------------------------------------------- tests: assets, pledges


async def test_asset_and_pledge(env):
    a = await env.admin()
    owner = await env.party("enterprise")
    bank = await env.party("bank")
    other_bank = await env.party("bank")
    now = await env.now()
    aid = env.uid("CN")
    r = await owner.call("asset.register", asset_id=aid, kind="utility_model", title="Own", owner=owner.id,
                         region="deyang", industry="advanced_materials", valuation=5_000_000, expires_at=now + YEAR)
    has(r, "asset_id", "kind", "title", "owner", "region", "industry", "valuation", "expires_at")
    eq((r["asset_id"], r["owner"], r["valuation"]), (aid, owner.id, 5_000_000), "asset")
    pos = (await owner.call("account.get"))["positions"]
    check({"asset_id": aid, "units": 1} in [{k: v for k, v in x.items() if k in ("asset_id", "units")} for x in pos],
          f"title in positions: {pos}")
    eq(await code(owner.c, "asset.register", asset_id=aid, kind="utility_model", title="Own", owner=owner.id,
                  region="deyang", industry="advanced_materials", valuation=5, expires_at=now + YEAR),
       "DUPLICATE", "asset id reuse")
    eq(await code(a, "asset.register", asset_id=env.uid("CN"), kind="rocket", title="t", owner=owner.id,
                  region="deyang", industry="other", valuation=5, expires_at=now + YEAR), "BAD_REQUEST", "kind")
    eq(await code(a, "asset.register", asset_id=env.uid("CN"), kind="trademark", title="t", owner=owner.id,
                  region="deyang", industry="mining", valuation=5, expires_at=now + YEAR), "BAD_REQUEST", "industry")
    eq(await code(a, "asset.register", asset_id="x" * 65, kind="trademark", title="t", owner=owner.id,
                  region="deyang", industry="other", valuation=5, expires_at=now + YEAR), "BAD_REQUEST", "id > 64")
    pl = await bank.call("pledge.register", asset_id=aid, pledgee=bank.id, loan_outstanding=1_000_000,
                         registration_no="R-" + aid, interest=10_000, penalties=2_000, costs=500)
    has(pl, "asset_id", "pledgee", "loan_outstanding", "claim")
    eq(pl["claim"], 1_012_500, "claim = loan + interest + penalties + costs")
    eq(pl["consented"], False, "not consented yet")
    eq(await code(other_bank.c, "pledge.consent", asset_id=aid), "NOT_FOUND", "another bank's pledge")
    eq(await code(owner.c, "pledge.consent", asset_id=aid), "FORBIDDEN", "owner may not consent")
    # Rule 13: listing without consent is INVALID_STATE.
    now = await env.now()
    eq(await code(owner.c, "auction.create", lot=[aid], purpose="transfer", format="english", start_price=100_000,
                  increment=1000, deposit=0, opens_at=now, closes_at=now + DAY), "INVALID_STATE", "rule 13 auction")
    lic = {"kind": "non_exclusive", "territory": ["cn"], "field": "all", "term_months": 6}
    eq(await code(owner.c, "market.create", market_id=env.uid("M"), asset_id=aid, licence=lic, tick=1, min_qty=1),
       "INVALID_STATE", "rule 13 market")
    c2 = await bank.call("pledge.consent", asset_id=aid)
    eq(c2["consented"], True, "consented")
    r = await owner.call("auction.create", lot=[aid], purpose="transfer", format="english", start_price=100_000,
                         increment=1000, deposit=0, opens_at=now, closes_at=now + DAY)
    has(r, "auction_id")
    # Another trader's asset is NOT_FOUND.
    stranger = await env.party("enterprise")
    eq(await code(stranger.c, "auction.create", lot=[aid], purpose="transfer", format="english", start_price=100_000,
                  increment=1000, deposit=0, opens_at=now, closes_at=now + DAY), "NOT_FOUND", "another's asset")


# ----------------------------------------------------------------------------- tests: auctions


async def test_english_auction_end_to_end(env):
    owner = await env.party("enterprise")
    b1 = await env.party("enterprise", fund=10_000_000)
    b2 = await env.party("individual", fund=10_000_000, region="leshan")
    op = await env.party("operator")
    now = await env.now()
    asset = await env.asset(owner)
    r = await op.call("auction.create", lot=[asset], purpose="transfer", format="english", start_price=1_000_000,
                      increment=10_000, deposit=100_000, opens_at=now + HOUR, closes_at=now + HOUR + DAY,
                      buyer_premium_bp=500)
    has(r, "auction_id")
    aid = r["auction_id"]
    check(isinstance(aid, str), "auction_id is a string")
    g = await b1.call("auction.get", auction_id=aid)
    has(g, "auction_id", "lot", "purpose", "format", "state", "start_price", "increment", "deposit", "reserve",
        "opens_at", "closes_at", "price", "bids", "leader", "min_next_bid", "winner", "settlement_id")
    eq((g["state"], g["format"], g["purpose"], g["lot"]), ("scheduled", "english", "transfer", [asset]), "scheduled")
    eq((g["price"], g["bids"], g["leader"], g["winner"]), (None, 0, None, None), "no bids")
    reg = await b1.call("auction.register", auction_id=aid)
    has(reg, "bidder_code")
    check(isinstance(reg["bidder_code"], str), "bidder_code string")
    eq(await code(b1.c, "auction.register", auction_id=aid), "DUPLICATE", "registered twice")
    eq(await code(owner.c, "auction.register", auction_id=aid), "NOT_QUALIFIED", "the seller may not register")
    acct = await b1.call("account.get")
    eq((acct["cash_available"], acct["cash_held"]), (9_900_000, 100_000), "deposit held")
    reg2 = await b2.call("auction.register", auction_id=aid)
    check(reg2["bidder_code"] != reg["bidder_code"], "distinct codes")
    third = await env.party("enterprise", fund=10_000_000)
    eq(await code(b1.c, "auction.bid", auction_id=aid, amount=1_000_000), "AUCTION_NOT_OPEN", "before opens_at")
    await env.advance(HOUR)
    eq((await b1.call("auction.get", auction_id=aid))["state"], "open", "open at opens_at")
    eq(await code(third.c, "auction.bid", auction_id=aid, amount=1_000_000), "NOT_QUALIFIED", "not registered")
    eq(await code(b1.c, "auction.bid", auction_id=aid, amount=990_000), "BID_TOO_LOW", "first bid below start")
    eq(await code(b1.c, "auction.bid", auction_id=aid, amount=1_005_000), "BAD_PRICE", "first bid off the grid")
    bid = await b1.call("auction.bid", auction_id=aid, amount=1_000_000)
    has(bid, "auction_id", "amount", "ts", "leader", "closes_at", "min_next_bid")
    eq((bid["amount"], bid["leader"], bid["min_next_bid"]), (1_000_000, reg["bidder_code"], 1_010_000), "bid reply")
    eq(await code(b1.c, "auction.bid", auction_id=aid, amount=1_010_000), "ALREADY_LEADING", "raise own lead")
    eq(await code(b2.c, "auction.bid", auction_id=aid, amount=1_000_000), "BID_TOO_LOW", "equal to the high bid")
    eq(await code(b2.c, "auction.bid", auction_id=aid, amount=1_005_000), "BID_TOO_LOW", "too low before bad price")
    eq(await code(b2.c, "auction.bid", auction_id=aid, amount=1_015_000), "BAD_PRICE", "off the increment grid")
    bid2 = await b2.call("auction.bid", auction_id=aid, amount=1_030_000)
    eq((bid2["leader"], bid2["min_next_bid"]), (reg2["bidder_code"], 1_040_000), "jump bid on the grid")
    g = await op.call("auction.get", auction_id=aid)
    eq((g["price"], g["bids"], g["leader"], g["min_next_bid"]), (1_030_000, 2, reg2["bidder_code"], 1_040_000),
       "auction.get while open")
    # Proxy: b1 sets a max, b2's bid is answered automatically.
    px = await b1.call("auction.proxy", auction_id=aid, max_amount=1_100_000)
    has(px, "auction_id", "amount", "ts", "leader", "closes_at", "min_next_bid")
    eq(px["leader"], reg["bidder_code"], "proxy leads")
    b2r = await b2.call("auction.bid", auction_id=aid, amount=px["min_next_bid"])
    eq(b2r["leader"], reg["bidder_code"], "the proxy answers")
    g = await b2.call("auction.get", auction_id=aid)
    check(g["price"] > b2r["amount"] or g["price"] == b2r["amount"], "price moved")
    closes_at = g["closes_at"]
    await env.advance_to(closes_at)
    eq(await code(b2.c, "auction.bid", auction_id=aid, amount=2_000_000), "AUCTION_CLOSED", "bid at closes_at")
    g = await b2.call("auction.get", auction_id=aid)
    eq((g["state"], g["winner"]), ("sold", reg["bidder_code"]), "sold to b1")
    price = g["price"]
    sid = g["settlement_id"]
    check(isinstance(sid, str), "settlement id")
    eq(await code(b2.c, "settlement.get", settlement_id=sid), "NOT_FOUND", "loser is no party")
    eq(await code(b2.c, "settlement.pay", settlement_id=sid), "NOT_FOUND", "loser cannot pay")
    loser = await b2.call("account.get")
    eq((loser["cash_available"], loser["cash_held"]), (10_000_000, 0), "loser's deposit released at close")
    s = await b1.call("settlement.get", settlement_id=sid)
    has(s, "settlement_id", "auction_id", "buyer", "state", "price", "buyer_premium", "due_at", "transfers")
    premium = price * 500 // 10_000
    eq((s["buyer"], s["state"], s["price"], s["buyer_premium"], s["auction_id"]),
       (b1.id, "awaiting_payment", price, premium, aid), "settlement")
    eq(s["due_at"], closes_at + 10 * DAY, "payment due 10 days after the close")
    eq(await code(op.c, "settlement.confirm", settlement_id=sid, registration_no="REG"), "INVALID_STATE",
       "confirm before pay")
    paid = await b1.call("settlement.pay", settlement_id=sid)
    eq(paid["state"], "paid", "paid")
    acct = await b1.call("account.get")
    eq(acct["cash_held"], price + premium, "escrow = price + premium (deposit included)")
    eq(acct["cash_available"], 10_000_000 - price - premium, "available")
    eq(await code(b1.c, "settlement.pay", settlement_id=sid), "INVALID_STATE", "pay twice")
    conf = await op.call("settlement.confirm", settlement_id=sid, registration_no="REG-" + aid)
    eq(conf["state"], "confirmed", "confirmed")
    acct = await b1.call("account.get")
    eq(acct["cash_held"], 0, "escrow released")
    check(any(p.get("asset_id") == asset and p["units"] == 1 for p in acct["positions"]), "title moved to buyer")
    seller = await owner.call("account.get")
    check(not any(p.get("asset_id") == asset and p["units"] > 0 for p in seller["positions"]), "seller lost title")
    eq(seller["cash_available"], price, "seller receives the price (no commission)")


async def test_auction_cancel(env):
    owner = await env.party("enterprise")
    b = await env.party("enterprise", fund=1_000_000)
    op = await env.party("operator")
    aid = (await env.auction(owner, deposit=50_000))["auction_id"]
    await b.call("auction.register", auction_id=aid)
    eq((await b.call("account.get"))["cash_held"], 50_000, "held")
    eq(await code(op.c, "auction.cancel", auction_id=aid), "BAD_REQUEST", "reason required")
    r = await op.call("auction.cancel", auction_id=aid, reason="withdrawn")
    eq(r["state"], "cancelled", "cancelled")
    eq((await b.call("account.get"))["cash_held"], 0, "deposit released")
    eq(await code(b.c, "auction.bid", auction_id=aid, amount=1_000_000), "AUCTION_CLOSED", "bid after cancel")
    aid2 = (await env.auction(owner, deposit=0))["auction_id"]
    await b.call("auction.register", auction_id=aid2)
    await b.call("auction.bid", auction_id=aid2, amount=1_000_000)
    eq(await code(op.c, "auction.cancel", auction_id=aid2, reason="late"), "INVALID_STATE", "cancel after a bid")
    eq(await code(op.c, "auction.cancel", auction_id="A-999999", reason="x"), "NOT_FOUND", "no such auction")


async def test_soft_close_extension(env):
    owner = await env.party("enterprise")
    b1 = await env.party("enterprise", fund=10_000_000)
    b2 = await env.party("enterprise", fund=10_000_000)
    r = await env.auction(owner, deposit=0, duration=HOUR, extend_window_ms=5 * MIN, extend_by_ms=10 * MIN)
    aid, closes = r["auction_id"], r["closes_at"]
    await b1.call("auction.register", auction_id=aid)
    await b2.call("auction.register", auction_id=aid)
    await b1.call("subscribe", channels=[f"auction.{aid}"])
    snap = await npush(b1.c, f"auction.{aid}")
    eq(snap["type"], "snapshot", "snapshot first")
    await b1.call("auction.bid", auction_id=aid, amount=1_000_000)
    await env.advance_to(closes - 5 * MIN - 1)
    x = await b2.call("auction.bid", auction_id=aid, amount=1_010_000)
    eq(x["closes_at"], closes, "a bid before the window does not extend")
    await env.advance(1)  # closes_at - t == extend_window_ms: inside the window
    x = await b1.call("auction.bid", auction_id=aid, amount=1_020_000)
    eq(x["closes_at"], x["ts"] + 10 * MIN, "extended to the bid's ts + extend_by_ms")
    new_close = x["closes_at"]
    got = await pushes_until(b1.c, f"auction.{aid}", lambda p: p["type"] == "extension")
    eq(got[-1]["data"]["closes_at"], new_close, "extension push carries the new closes_at")
    seqs = [snap["seq"]] + [p["seq"] for p in got]
    eq(seqs, list(range(snap["seq"], snap["seq"] + len(seqs))), "gap-free seq")
    await env.advance_to(new_close - 1)
    y = await b2.call("auction.bid", auction_id=aid, amount=1_030_000)
    eq(y["closes_at"], y["ts"] + 10 * MIN, "extends again")
    await env.advance_to(y["closes_at"] - 1)
    eq((await b1.call("auction.get", auction_id=aid))["state"], "open", "still open before the new close")
    await env.advance(1)
    g = await b1.call("auction.get", auction_id=aid)
    eq((g["state"], g["closes_at"], g["price"]), ("sold", y["closes_at"], 1_030_000), "closed at the extended time")
    got = await pushes_until(b1.c, f"auction.{aid}", lambda p: p["type"] == "close")
    eq(got[-1]["data"]["state"], "sold", "close push")


async def test_dutch_auction(env):
    owner = await env.party("enterprise")
    b1 = await env.party("enterprise", fund=10_000_000)
    r = await env.auction(owner, fmt="dutch", start=1_000_000, increment=10_000, deposit=0, duration=DAY,
                          dutch={"decrement": 50_000, "interval_ms": 10 * MIN, "floor": 800_000})
    aid = r["auction_id"]
    opens = r["opens_at"]
    await b1.call("auction.register", auction_id=aid)
    g = await b1.call("auction.get", auction_id=aid)
    eq((g["format"], g["state"], g["price"]), ("dutch", "open", 1_000_000), "opening price")
    await env.advance_to(opens + 25 * MIN)
    eq((await b1.call("auction.get", auction_id=aid))["price"], 900_000, "price(t) after 2 intervals")
    acc = await b1.call("auction.accept", auction_id=aid)
    eq(sorted(acc), ["auction_id", "price", "ts"], "accept fields")
    eq(acc["price"], 900_000, "accepted at the clock price")
    g = await b1.call("auction.get", auction_id=aid)
    eq((g["state"], g["price"]), ("sold", 900_000), "sold")
    check(g["settlement_id"], "settlement")
    # Unsold: the floor stood for one interval unaccepted.
    r = await env.auction(owner, fmt="dutch", start=1_000_000, increment=10_000, deposit=0, duration=DAY,
                          dutch={"decrement": 100_000, "interval_ms": 10 * MIN, "floor": 800_000})
    aid2, opens = r["auction_id"], r["opens_at"]
    await env.advance_to(opens + 20 * MIN)
    eq((await b1.call("auction.get", auction_id=aid2))["price"], 800_000, "at the floor")
    await env.advance_to(opens + 30 * MIN)
    eq((await b1.call("auction.get", auction_id=aid2))["state"], "unsold", "unsold after the floor stood")


async def test_sealed_first(env):
    owner = await env.party("enterprise")
    bs = [await env.party("enterprise", fund=10_000_000) for _ in range(3)]
    op = await env.party("operator")
    r = await env.auction(owner, fmt="sealed_first", deposit=0)
    aid = r["auction_id"]
    codes = [(await b.call("auction.register", auction_id=aid))["bidder_code"] for b in bs]
    await op.call("subscribe", channels=[f"auction.{aid}"])
    await bs[2].call("subscribe", channels=[f"auction.{aid}"])
    snap = await npush(op.c, f"auction.{aid}")
    eq(snap["type"], "snapshot", "snapshot")
    for b, amount in zip(bs, [1_200_000, 1_500_000, 1_100_000]):
        x = await b.call("auction.bid", auction_id=aid, amount=amount)
        eq(sorted(x), ["amount", "auction_id", "ts"], "sealed bid reply carries no leader")
    for who in (op, bs[0], owner):
        g = await who.call("auction.get", auction_id=aid)
        eq((g["price"], g["leader"], g["min_next_bid"], g["bids"]), (None, None, None, 3),
           f"sealed auction.get for {who.kind}")
    pushes = await pushes_until(op.c, f"auction.{aid}", lambda p: p["type"] == "bid" and p["data"].get("bids") == 3)
    for p in pushes:
        d = json.dumps(p["data"])
        for amount in ("1200000", "1500000", "1100000"):
            check(amount not in d, f"sealed amount in a push: {p}")
        for k in ("leader", "amount", "price", "min_next_bid", "bidder"):
            check(p["data"].get(k) is None, f"sealed push shows {k}: {p}")
    await env.advance_to(r["closes_at"])
    g = await op.call("auction.get", auction_id=aid)
    eq((g["state"], g["price"], g["winner"]), ("sold", 1_500_000, codes[1]), "first price")


async def test_sealed_second(env):
    owner = await env.party("enterprise")
    bs = [await env.party("enterprise", fund=10_000_000) for _ in range(3)]
    r = await env.auction(owner, fmt="sealed_second", deposit=0, reserve=1_150_000)
    aid = r["auction_id"]
    codes = [(await b.call("auction.register", auction_id=aid))["bidder_code"] for b in bs]
    for b, amount in zip(bs, [1_200_000, 1_500_000, 1_100_000]):
        await b.call("auction.bid", auction_id=aid, amount=amount)
    await env.advance_to(r["closes_at"])
    g = await bs[0].call("auction.get", auction_id=aid)
    eq((g["state"], g["price"], g["winner"]), ("sold", 1_200_000, codes[1]), "second price")
    # Reserve above the second bid.
    r = await env.auction(owner, fmt="sealed_second", deposit=0, reserve=1_300_000)
    aid = r["auction_id"]
    for b, amount in zip(bs[:2], [1_200_000, 1_500_000]):
        await b.call("auction.register", auction_id=aid)
        await b.call("auction.bid", auction_id=aid, amount=amount)
    await env.advance_to(r["closes_at"])
    g = await bs[0].call("auction.get", auction_id=aid)
    eq((g["state"], g["price"]), ("sold", 1_300_000), "max(second, reserve, start)")
    # A single bid pays the start price.
    r = await env.auction(owner, fmt="sealed_second", deposit=0)
    aid = r["auction_id"]
    await bs[0].call("auction.register", auction_id=aid)
    await bs[0].call("auction.bid", auction_id=aid, amount=1_700_000)
    await env.advance_to(r["closes_at"])
    g = await bs[0].call("auction.get", auction_id=aid)
    eq((g["state"], g["price"]), ("sold", 1_000_000), "single bid pays the start")


async def test_fixed_price(env):
    owner = await env.party("enterprise")
    b1 = await env.party("enterprise", fund=10_000_000)
    b2 = await env.party("enterprise", fund=10_000_000)
    b3 = await env.party("enterprise", fund=10_000_000)
    # One buyer buys at the listed price.
    r = await env.auction(owner, fmt="fixed_price", deposit=10_000, duration=5 * DAY)
    aid = r["auction_id"]
    await b1.call("auction.register", auction_id=aid)
    await env.advance_to(r["closes_at"])
    g = await b1.call("auction.get", auction_id=aid)
    eq((g["state"], g["price"], g["format"]), ("sold", 1_000_000, "fixed_price"), "one buyer buys at start")
    # Two buyers turn it into english from start_price, 24 h more with the 5 min soft close.
    r = await env.auction(owner, fmt="fixed_price", deposit=10_000, duration=5 * DAY)
    aid = r["auction_id"]
    await b1.call("auction.register", auction_id=aid)
    await b2.call("auction.register", auction_id=aid)
    await b1.call("subscribe", channels=[f"auction.{aid}"])
    await npush(b1.c, f"auction.{aid}")
    await env.advance_to(r["closes_at"])
    g = await b1.call("auction.get", auction_id=aid)
    eq((g["state"], g["format"], g["closes_at"]), ("open", "english", r["closes_at"] + DAY), "turned english")
    eq(g["min_next_bid"], 1_000_000, "first bid at start_price")
    eq(await code(b3.c, "auction.register", auction_id=aid), "AUCTION_CLOSED", "registration closed (rule 16)")
    x = await b2.call("auction.bid", auction_id=aid, amount=1_000_000)
    eq(x["leader"] is not None, True, "bid")
    await env.advance_to(g["closes_at"] - MIN)
    y = await b1.call("auction.bid", auction_id=aid, amount=x["min_next_bid"])
    eq(y["closes_at"], y["ts"] + 5 * MIN, "5 min soft close")
    await env.advance_to(y["closes_at"])
    g = await b1.call("auction.get", auction_id=aid)
    eq((g["state"], g["price"]), ("sold", y["amount"]), "sold")


async def test_priority_holders(env):
    owner = await env.party("enterprise")
    h1 = await env.party("enterprise", fund=10_000_000)
    h2 = await env.party("enterprise", fund=10_000_000)
    b = await env.party("enterprise", fund=10_000_000)
    r = await env.auction(owner, deposit=0, priority_holders=[{"participant_id": h2.id, "rank": 2},
                                                             {"participant_id": h1.id, "rank": 1}])
    aid = r["auction_id"]
    c1 = (await h1.call("auction.register", auction_id=aid))["bidder_code"]
    c2 = (await h2.call("auction.register", auction_id=aid))["bidder_code"]
    cb = (await b.call("auction.register", auction_id=aid))["bidder_code"]
    x = await b.call("auction.bid", auction_id=aid, amount=1_000_000)
    eq(x["leader"], cb, "b leads")
    y = await h2.call("auction.bid", auction_id=aid, amount=1_000_000)
    eq(y["leader"], c2, "a holder matching the high bid takes the lead")
    eq(await code(b.c, "auction.bid", auction_id=aid, amount=1_000_000), "BID_TOO_LOW", "non-holder cannot match")
    z = await h1.call("auction.bid", auction_id=aid, amount=1_000_000)
    eq(z["leader"], c1, "a higher-ranked holder beats a lower one")
    eq(await code(h2.c, "auction.bid", auction_id=aid, amount=1_000_000), "BID_TOO_LOW", "lower rank cannot match")
    await env.advance_to(r["closes_at"])
    g = await b.call("auction.get", auction_id=aid)
    eq((g["winner"], g["price"]), (c1, 1_000_000), "the highest holder wins the tie")


async def test_licence_rules(env):
    owner = await env.party("enterprise")
    b = await env.party("enterprise", fund=100_000_000)
    op = await env.party("operator")
    asset = await env.asset(owner, expires_in=400 * DAY)
    now = await env.now()
    lic = {"kind": "exclusive", "territory": ["chengdu"], "field": "batteries", "term_months": 24, "royalty_bp": 0}
    # Rule 15: a term running past the asset's expiry.
    eq(await code(owner.c, "auction.create", lot=[asset], purpose="exclusive_licence", format="english",
                  start_price=100_000, increment=1000, deposit=0, opens_at=now, closes_at=now + DAY, licence=lic),
       "INVALID_STATE", "term past expiry")
    eq(await code(owner.c, "market.create", market_id=env.uid("M"), asset_id=asset,
                  licence=dict(lic, kind="non_exclusive"), tick=1, min_qty=1), "INVALID_STATE", "market term past expiry")
    # An exclusive licence sold and confirmed blocks an overlapping one.
    lic["term_months"] = 6
    r = await owner.call("auction.create", lot=[asset], purpose="exclusive_licence", format="english",
                         start_price=100_000, increment=1000, deposit=0, opens_at=now, closes_at=now + DAY, licence=lic)
    aid = r["auction_id"]
    await b.call("auction.register", auction_id=aid)
    await b.call("auction.bid", auction_id=aid, amount=100_000)
    await env.advance_to(now + DAY)
    g = await b.call("auction.get", auction_id=aid)
    eq(g["state"], "sold", "licence sold")
    await b.call("settlement.pay", settlement_id=g["settlement_id"])
    await op.call("settlement.confirm", settlement_id=g["settlement_id"], registration_no="LIC-1")
    now = await env.now()
    eq(await code(owner.c, "auction.create", lot=[asset], purpose="sole_licence", format="english",
                  start_price=100_000, increment=1000, deposit=0, opens_at=now, closes_at=now + DAY,
                  licence=dict(lic, kind="sole", field="all")), "INVALID_STATE", "overlaps a confirmed exclusive")
    eq(await code(owner.c, "auction.create", lot=[asset], purpose="exclusive_licence", format="english",
                  start_price=100_000, increment=1000, deposit=0, opens_at=now, closes_at=now + DAY,
                  licence=dict(lic, territory=["cn"])), "INVALID_STATE", "cn overlaps every region")
    # Non-overlapping territory is fine.
    r = await owner.call("auction.create", lot=[asset], purpose="exclusive_licence", format="english",
                         start_price=100_000, increment=1000, deposit=0, opens_at=now, closes_at=now + DAY,
                         licence=dict(lic, territory=["leshan"]))
    has(r, "auction_id")
    eq(await code(owner.c, "auction.create", lot=[asset], purpose="exclusive_licence", format="english",
                  start_price=100_000, increment=1000, deposit=0, opens_at=now, closes_at=now + DAY),
       "BAD_REQUEST", "licence required for a licence auction")


# ----------------------------------------------------------------------------- tests: orders


async def make_market(env, tick=100, min_qty=10, units=1000):
    owner = await env.party("enterprise", fund=100_000_000)
    asset = await env.asset(owner)
    mid = env.uid("M")
    lic = {"kind": "non_exclusive", "territory": ["cn"], "field": "all", "term_months": 12, "royalty_bp": 100}
    m = await owner.call("market.create", market_id=mid, asset_id=asset, licence=lic, tick=tick, min_qty=min_qty)
    if units:
        u = await owner.call("units.issue", market_id=mid, qty=units)
        eq(u["units"], units, "units issued")
    return owner, mid, m


def order(mid, side, qty, price=None, tif="gtc", typ="limit", coid=None, **extra):
    p = dict(market_id=mid, side=side, type=typ, qty=qty, tif=tif, client_order_id=coid or secrets.token_hex(6), **extra)
    if price is not None:
        p["price"] = price
    return p


async def test_market_and_orders(env):
    owner, mid, m = await make_market(env)
    has(m, "market_id", "asset_id")
    eq(m["market_id"], mid, "market id")
    g = await owner.call("market.get", market_id=mid)
    eq((g["tick"], g["min_qty"]), (100, 10), "market.get")
    buyer = await env.party("enterprise", fund=1_000_000)
    stranger = await env.party("enterprise", fund=1_000_000)
    eq(await code(stranger.c, "units.issue", market_id=mid, qty=10), "NOT_FOUND", "another's market")
    # A resting sell.
    s1 = await owner.call("order.place", **order(mid, "sell", 100, 1000, coid="s1"))
    has(s1, "order_id", "client_order_id", "status", "filled_qty", "leaves_qty", "fills")
    eq((s1["status"], s1["filled_qty"], s1["leaves_qty"], s1["fills"], s1["client_order_id"]),
       ("open", 0, 100, [], "s1"), "resting sell")
    check(isinstance(s1["order_id"], str), "order_id string")
    pos = [p for p in (await owner.call("account.get"))["positions"] if p.get("market_id") == mid][0]
    eq((pos["units"], pos["units_held"]), (1000, 100), "units held by the resting sell")
    # A limit buy that crosses at a better price: the difference goes back at once.
    b1 = await buyer.call("order.place", **order(mid, "buy", 50, 1200, coid="b1"))
    eq((b1["status"], b1["filled_qty"], b1["leaves_qty"]), ("filled", 50, 0), "filled")
    eq(len(b1["fills"]), 1, "one fill")
    has(b1["fills"][0], "trade_id", "price", "qty")
    eq((b1["fills"][0]["price"], b1["fills"][0]["qty"]), (1000, 50), "fill at the maker's price")
    acct = await buyer.call("account.get")
    eq((acct["cash_available"], acct["cash_held"]), (1_000_000 - 50_000, 0), "cash after the fill")
    bpos = [p for p in acct["positions"] if p.get("market_id") == mid][0]
    eq((bpos["units"], bpos["units_held"]), (50, 0), "buyer's units")
    # A resting limit buy holds price x leaves.
    b2 = await buyer.call("order.place", **order(mid, "buy", 30, 900, coid="b2"))
    eq(b2["status"], "open", "resting buy")
    acct = await buyer.call("account.get")
    eq(acct["cash_held"], 27_000, "hold = price x leaves")
    # Partially filled by a sell that crosses.
    s2 = await owner.call("order.place", **order(mid, "sell", 10, 900, coid="s2"))
    eq(s2["status"], "filled", "sell filled")
    acct = await buyer.call("account.get")
    eq(acct["cash_held"], 18_000, "hold follows leaves")
    # Cancel by client_order_id returns the order with its fills.
    c = await buyer.call("order.cancel", market_id=mid, client_order_id="b2")
    eq((c["status"], c["filled_qty"], c["leaves_qty"], len(c["fills"])), ("cancelled", 10, 0, 1), "cancelled")
    eq((await buyer.call("account.get"))["cash_held"], 0, "hold released")
    eq(await code(buyer.c, "order.cancel", market_id=mid, client_order_id="b2"), "INVALID_STATE", "cancel done")
    eq(await code(buyer.c, "order.cancel", market_id=mid, order_id=b1["order_id"]), "INVALID_STATE", "cancel filled")
    eq(await code(stranger.c, "order.cancel", market_id=mid, order_id=s1["order_id"]), "NOT_FOUND", "another's order")
    eq(await code(buyer.c, "order.place", **order(mid, "buy", 10, 900, coid="b1")), "DUPLICATE", "client_order_id reuse")
    # Shape checks.
    eq(await code(buyer.c, "order.place", **order(mid, "buy", 15, 900)), "BAD_REQUEST", "qty not a lot multiple")
    eq(await code(buyer.c, "order.place", **order(mid, "buy", 0, 900)), "BAD_REQUEST", "qty 0")
    eq(await code(buyer.c, "order.place", **order(mid, "buy", 10, 950)), "BAD_PRICE", "off the tick")
    eq(await code(buyer.c, "order.place", **order(mid, "buy", 10, 0)), "BAD_REQUEST", "price 0")
    eq(await code(buyer.c, "order.place", **order(mid, "buy", 10, -100)), "BAD_REQUEST", "price < 0")
    eq(await code(buyer.c, "order.place", **order(mid, "buy", 10, 900, typ="market", tif="ioc")), "BAD_REQUEST",
       "market with a price")
    eq(await code(buyer.c, "order.place", **order(mid, "buy", 10, typ="market", tif="gtc")), "BAD_REQUEST",
       "market gtc")
    eq(await code(buyer.c, "order.place", **order(mid, "buy", 10, 900, tif="ioc", post_only=True)), "BAD_REQUEST",
       "post_only ioc")
    eq(await code(buyer.c, "order.place", **order(mid, "buy", 10, 900, tif="day")), "BAD_REQUEST", "tif")
    eq(await code(buyer.c, "order.place", **order(mid, "up", 10, 900)), "BAD_REQUEST", "side")
    eq(await code(buyer.c, "order.place", **order("NO-SUCH", "buy", 0, 900)), "BAD_REQUEST", "qty 0 before NOT_FOUND")
    eq(await code(buyer.c, "order.place", **order("NO-SUCH", "buy", 10, 0)), "BAD_REQUEST", "price 0 before NOT_FOUND")
    eq(await code(buyer.c, "order.place", **order("NO-SUCH", "buy", 10, typ="market", tif="gtc")), "BAD_REQUEST",
       "market gtc before NOT_FOUND")
    eq(await code(buyer.c, "order.place", **order("NO-SUCH", "buy", 10, 900, tif="fok", post_only=True)),
       "BAD_REQUEST", "post_only fok before NOT_FOUND")
    eq(await code(buyer.c, "order.place", **order("NO-SUCH", "buy", 10, 900)), "NOT_FOUND", "no market")
    eq(await code(buyer.c, "order.place", **order(mid, "buy", 10_000, 1000)), "INSUFFICIENT_FUNDS", "funds")
    eq(await code(buyer.c, "order.place", **order(mid, "buy", 10, 1000, post_only=True)), "WOULD_CROSS", "post only")
    eq(await code(buyer.c, "order.place", **order(mid, "buy", 10_000, 950)), "BAD_PRICE", "BAD_PRICE before funds")
    # The id of a rejected order.place is not used up.
    coid = "reused-" + secrets.token_hex(3)
    eq(await code(buyer.c, "order.place", **order(mid, "buy", 10, 950, coid=coid)), "BAD_PRICE", "rejected")
    r = await buyer.call("order.place", **order(mid, "buy", 10, 500, coid=coid))
    eq(r["client_order_id"], coid, "coid reusable after rejection")
    await buyer.call("order.cancel", market_id=mid, order_id=r["order_id"])
    eq(await code(stranger.c, "order.place", **order(mid, "sell", 10, 1000)), "INSUFFICIENT_FUNDS", "no units")


async def test_order_tifs_and_stp(env):
    owner, mid, _ = await make_market(env)
    buyer = await env.party("enterprise", fund=10_000_000)
    await owner.call("order.place", **order(mid, "sell", 50, 1000))
    await owner.call("order.place", **order(mid, "sell", 50, 1100))
    # FOK that cannot fill in full: cancelled with nothing filled, nothing changes.
    f = await buyer.call("order.place", **order(mid, "buy", 200, 1100, tif="fok"))
    eq((f["status"], f["filled_qty"], f["leaves_qty"], f["fills"]), ("cancelled", 0, 0, []), "FOK unfillable")
    # IOC remainder cancelled.
    i = await buyer.call("order.place", **order(mid, "buy", 70, 1000, tif="ioc"))
    eq((i["status"], i["filled_qty"], i["leaves_qty"]), ("cancelled", 50, 0), "IOC remainder cancelled")
    # Market buy: takes the next level.
    mk = await buyer.call("order.place", **order(mid, "buy", 20, typ="market", tif="ioc"))
    eq((mk["status"], mk["filled_qty"], mk["fills"][0]["price"]), ("filled", 20, 1100), "market buy")
    # Market order against an empty side.
    e = await owner.call("order.place", **order(mid, "sell", 10, typ="market", tif="ioc"))
    eq((e["status"], e["filled_qty"], e["leaves_qty"]), ("cancelled", 0, 0), "market vs empty side")
    # Self-trade prevention (asks left: the owner's 30 @ 1100).
    ci = await owner.call("order.place", **order(mid, "buy", 10, 1100))
    eq((ci["status"], ci["filled_qty"], ci["leaves_qty"]), ("cancelled", 0, 0), "cancel_incoming (default)")
    eq(await code(owner.c, "order.place", **order(mid, "buy", 10, 1100, stp="reject")), "SELF_TRADE", "stp reject")
    eq(await code(owner.c, "order.place", **order(mid, "buy", 10, 1100, stp="sideways")), "BAD_REQUEST", "stp value")
    cr = await owner.call("order.place", **order(mid, "buy", 10, 1100, stp="cancel_resting"))
    eq((cr["status"], cr["filled_qty"]), ("open", 0), "cancel_resting: the incoming rests")
    book = await owner.call("market.get", market_id=mid)
    eq((book["asks"], book["bids"]), ([], [[1100, 10]]), "the resting sell was cancelled")
    await owner.call("order.cancel", market_id=mid, order_id=cr["order_id"])
    # reject refuses only if the order would reach its owner's order before it is filled.
    await buyer.call("order.place", **order(mid, "buy", 20, 900))
    await owner.call("order.place", **order(mid, "buy", 10, 900))
    rj = await owner.call("order.place", **order(mid, "sell", 10, 900, stp="reject"))
    eq((rj["status"], rj["filled_qty"]), ("filled", 10), "fills against another's order first")
    # FOK counts only liquidity it may trade with: 10 of the buyer's + the owner's own 10.
    fk = await owner.call("order.place", **order(mid, "sell", 20, 900, tif="fok"))
    eq((fk["status"], fk["filled_qty"]), ("cancelled", 0), "FOK without enough tradeable liquidity")
    book = await owner.call("market.get", market_id=mid)
    eq(book["bids"], [[900, 20]], "an unfillable FOK changes nothing")
    # GTD expiry.
    now = await env.now()
    held_before = (await buyer.call("account.get"))["cash_held"]
    gtd = await buyer.call("order.place", **order(mid, "buy", 10, 500, tif="gtd", expire_at=now + MIN))
    eq(gtd["status"], "open", "gtd rests")
    eq(await code(buyer.c, "order.place", **order(mid, "buy", 10, 500, tif="gtd")), "BAD_REQUEST", "gtd needs expire_at")
    await env.advance(MIN)
    eq(await code(buyer.c, "order.cancel", market_id=mid, order_id=gtd["order_id"]), "INVALID_STATE", "expired is done")
    eq((await buyer.call("account.get"))["cash_held"], held_before, "expired hold released")


async def test_book_and_trades_channels(env):
    owner, mid, _ = await make_market(env)
    buyer = await env.party("enterprise", fund=10_000_000)
    watcher = await env.party("individual")
    await owner.call("order.place", **order(mid, "sell", 30, 1200))
    await owner.call("order.place", **order(mid, "sell", 20, 1100))
    await buyer.call("order.place", **order(mid, "buy", 40, 900))
    r = await watcher.call("subscribe", channels=[f"book.{mid}", f"trades.{mid}"])
    eq(r, {"channels": [f"book.{mid}", f"trades.{mid}"]}, "subscribe result")
    snaps = {}
    for _ in range(2):
        p = await npush(watcher.c)
        eq(p["type"], "snapshot", "snapshot first")
        has(p, "channel", "seq", "type", "ts", "data", what="push")
        snaps[p["channel"]] = p
    # A channel with no push yet (no trades) is stamped with engine time too.
    eq(snaps[f"trades.{mid}"]["ts"], (await watcher.call("time.now"))["now"],
       "trades snapshot ts before any trade: engine time")
    book = snaps[f"book.{mid}"]
    eq(book["data"], {"bids": [[900, 40]], "asks": [[1100, 20], [1200, 30]]}, "book snapshot, best first")
    seq = book["seq"]
    tseq = snaps[f"trades.{mid}"]["seq"]
    await buyer.call("order.place", **order(mid, "buy", 30, 1200))  # takes 20@1100 and 10@1200
    u = await npush(watcher.c, f"book.{mid}")
    eq((u["type"], u["seq"]), ("update", seq + 1), "book update, gap-free")
    changes = sorted(map(tuple, u["data"]["changes"]))
    eq(changes, [("ask", 1100, 0), ("ask", 1200, 20)], "changes: level totals, 0 removes")
    t1 = await npush(watcher.c, f"trades.{mid}")
    t2 = await npush(watcher.c, f"trades.{mid}")
    for i, t in enumerate((t1, t2)):
        eq((t["type"], t["seq"]), ("trade", tseq + 1 + i), "trade push seq")
        eq(sorted(t["data"]), ["aggressor_side", "price", "qty", "trade_id"], "trade fields, no identities")
        eq(t["data"]["aggressor_side"], "buy", "aggressor")
    eq([(t1["data"]["price"], t1["data"]["qty"]), (t2["data"]["price"], t2["data"]["qty"])], [(1100, 20), (1200, 10)],
       "trades")
    await owner.call("order.place", **order(mid, "sell", 10, 1000))
    u = await npush(watcher.c, f"book.{mid}")
    eq((u["seq"], u["data"]["changes"]), (seq + 2, [["ask", 1000, 10]]), "new level")
    # A fresh subscriber's snapshot has seq = current.
    w2 = await env.party("individual")
    await w2.call("subscribe", channels=[f"book.{mid}"])
    s = await npush(w2.c, f"book.{mid}")
    eq((s["type"], s["seq"]), ("snapshot", seq + 2), "snapshot seq = current")
    eq(s["data"], {"bids": [[900, 40]], "asks": [[1000, 10], [1200, 20]]}, "snapshot after updates")
    eq(await code(w2.c, "subscribe", channels=["book.NO-SUCH"]), "NOT_FOUND", "unknown book")
    eq(await code(w2.c, "subscribe", channels=["weird"]), "BAD_REQUEST", "unknown channel")


async def test_private_channel(env):
    owner, mid, _ = await make_market(env)
    buyer = await env.party("enterprise", fund=1_000_000)
    await buyer.call("subscribe", channels=["private"])
    snap = await npush(buyer.c, "private")
    eq(snap["type"], "snapshot", "private snapshot")
    eq(snap["data"].get("cash_available"), 1_000_000, "snapshot shows the balance")
    seq = snap["seq"]
    await owner.call("order.place", **order(mid, "sell", 10, 1000))
    await buyer.call("order.place", **order(mid, "buy", 10, 1000, coid="pb"))
    got = await pushes_until(buyer.c, "private", lambda p: p["type"] == "balance")
    eq([p["seq"] for p in got], list(range(seq + 1, seq + 1 + len(got))), "gap-free seq")
    types = [p["type"] for p in got]
    check("fill" in types and "order" in types, f"fill and order pushes: {types}")
    eq(got[-1]["data"]["cash_available"], 990_000, "balance push")
    # Someone else's private pushes never arrive.
    other = await env.party("enterprise")
    await other.call("subscribe", channels=["private"])
    p = await npush(other.c, "private")
    eq(p["data"].get("participant_id"), other.id, "own snapshot")


async def test_subscription_auction_channel(env):
    owner = await env.party("enterprise")
    b1 = await env.party("enterprise", fund=10_000_000)
    b2 = await env.party("enterprise", fund=10_000_000)
    r = await env.auction(owner, deposit=0)
    aid = r["auction_id"]
    await b1.call("auction.register", auction_id=aid)
    await b2.call("auction.register", auction_id=aid)
    await b1.call("auction.bid", auction_id=aid, amount=1_000_000)
    watcher = await env.party("individual")
    res = await watcher.call("subscribe", channels=[f"auction.{aid}"])
    eq(res["channels"], [f"auction.{aid}"], "subscribe result")
    snap = await npush(watcher.c, f"auction.{aid}")
    eq(snap["type"], "snapshot", "snapshot")
    g = await watcher.call("auction.get", auction_id=aid)
    for k in ("auction_id", "state", "price", "bids", "leader", "min_next_bid", "closes_at", "start_price"):
        eq(snap["data"].get(k), g.get(k), f"snapshot {k} = auction.get")
    await b2.call("auction.bid", auction_id=aid, amount=1_010_000)
    p = await npush(watcher.c, f"auction.{aid}")
    eq((p["type"], p["seq"]), ("bid", snap["seq"] + 1), "bid push")
    eq(p["data"].get("amount"), 1_010_000, "bid amount")
    check("name" not in json.dumps(p["data"]), "no names")
    await env.advance_to(r["closes_at"])
    p2 = await npush(watcher.c, f"auction.{aid}")
    eq((p2["type"], p2["seq"]), ("close", snap["seq"] + 2), "close push")
    eq(p2["data"].get("state"), "sold", "close state")
    eq(await code(watcher.c, "subscribe", channels=["auction.A-999999"]), "NOT_FOUND", "unknown auction")
    un = await watcher.call("unsubscribe", channels=[f"auction.{aid}"])
    eq(un["channels"], [f"auction.{aid}"], "unsubscribe")


# ----------------------------------------------------------------------------- tests: disposals


async def pledged(env, owner, bank, valuation=300_000_000, loan=100_000_000, region="chengdu",
                  industry="energy_chemical"):
    asset = await env.asset(owner, valuation=valuation, region=region, industry=industry)
    await bank.call("pledge.register", asset_id=asset, pledgee=bank.id, loan_outstanding=loan,
                    registration_no="PR-" + asset)
    return asset


async def test_disposal_defaults_and_access(env):
    owner = await env.party("enterprise")
    bank = await env.party("bank")
    bank2 = await env.party("bank")
    op = await env.party("operator")
    t = await env.party("enterprise")
    asset = await pledged(env, owner, bank)
    now = await env.now()
    case = await bank.call("disposal.open", assets=[asset], pledgee=bank.id, pledgor=owner.id, valuation=300_000_000)
    has(case, "case_id", "auction_id")
    cid, aid = case["case_id"], case["auction_id"]
    g = await bank.call("disposal.get", case_id=cid)
    has(g, "case_id", "state", "outcome", "pledgee", "pledgor", "valuation", "claim", "rounds", "settlement_id",
        "recovery")
    eq((g["state"], g["outcome"], g["claim"], g["pledgee"], g["pledgor"]),
       ("round_1", None, 100_000_000, bank.id, owner.id), "case")
    eq(len(g["rounds"]), 1, "one round")
    r1 = g["rounds"][0]
    has(r1, "round", "kind", "auction_id", "start_price", "state", "price")
    eq((r1["round"], r1["kind"], r1["auction_id"], r1["start_price"]), (1, "auction", aid, 210_000_000), "round 1")
    a = await t.call("auction.get", auction_id=aid)
    eq((a["purpose"], a["format"], a["start_price"], a["deposit"], a["increment"]),
       ("disposal", "english", 210_000_000, 21_000_000, 1_050_000), "defaults: 70%, 10% deposit, 0.5% tier")
    eq(a["opens_at"], now + 30 * DAY, "30 days' notice")
    eq(a["closes_at"], now + 31 * DAY, "24 h bidding")
    # Access: the other bank sees nothing; traders are forbidden; the operator sees all.
    eq(await code(bank2.c, "disposal.get", case_id=cid), "NOT_FOUND", "another bank's case")
    eq(await code(t.c, "disposal.get", case_id=cid), "FORBIDDEN", "trader")
    eq((await op.call("disposal.get", case_id=cid))["case_id"], cid, "operator")
    eq(await code(bank2.c, "subscribe", channels=[f"disposal.{cid}"]), "NOT_FOUND", "another bank's channel")
    eq(await code(t.c, "subscribe", channels=[f"disposal.{cid}"]), "FORBIDDEN", "trader channel")
    await bank.call("subscribe", channels=[f"disposal.{cid}"])
    s = await npush(bank.c, f"disposal.{cid}")
    eq((s["type"], s["data"].get("case_id")), ("snapshot", cid), "bank's disposal snapshot")
    await op.call("subscribe", channels=[f"disposal.{cid}"])
    eq((await npush(op.c, f"disposal.{cid}"))["type"], "snapshot", "operator's disposal snapshot")
    eq(await code(bank2.c, "disposal.open", assets=[asset], pledgee=bank2.id, pledgor=owner.id, valuation=1),
       "NOT_FOUND", "another bank's pledge")
    # Reports: the bank sees its own cases only.
    rep = await bank.call("report.disposals")
    has(rep, "rows", "totals")
    eq([r["case_id"] for r in rep["rows"]], [cid], "bank's report rows")
    eq((await bank2.call("report.disposals"))["rows"], [], "other bank's report")
    rep = await op.call("report.disposals")
    check(cid in [r["case_id"] for r in rep["rows"]], "operator sees every case")
    rep = await op.call("report.disposals", region="mianyang")
    check(cid not in [r["case_id"] for r in rep["rows"]], "region filter")
    eq(await code(t.c, "report.disposals"), "FORBIDDEN", "trader report")


async def test_disposal_round1_sold_and_settled(env):
    owner = await env.party("enterprise")
    bank = await env.party("bank")
    op = await env.party("operator")
    b1 = await env.party("enterprise", fund=500_000_000)
    asset = await pledged(env, owner, bank, valuation=10_000_000, loan=5_000_000)
    case = await bank.call("disposal.open", assets=[asset], pledgee=bank.id, pledgor=owner.id, valuation=10_000_000,
                           plan={"notice_ms": HOUR})
    cid, aid = case["case_id"], case["auction_id"]
    a = await b1.call("auction.get", auction_id=aid)
    eq((a["start_price"], a["deposit"], a["increment"]), (7_000_000, 700_000, 140_000), "2% tier")
    await b1.call("auction.register", auction_id=aid)
    await env.advance_to(a["opens_at"])
    await b1.call("auction.bid", auction_id=aid, amount=7_000_000)
    await env.advance_to(a["closes_at"])
    g = await bank.call("disposal.get", case_id=cid)
    eq((g["state"], g["rounds"][0]["state"], g["rounds"][0]["price"]), ("settlement", "sold", 7_000_000), "sold")
    sid = g["settlement_id"]
    s = await bank.call("settlement.get", settlement_id=sid)
    eq((s["state"], s["buyer"]), ("awaiting_payment", b1.id), "bank is a party")
    await b1.call("settlement.pay", settlement_id=sid)
    await op.call("settlement.confirm", settlement_id=sid, registration_no="REG-" + cid)
    g = await bank.call("disposal.get", case_id=cid)
    eq((g["state"], g["outcome"]), ("closed", "sold"), "closed, sold")
    acct = await bank.call("account.get")
    eq(acct["cash_available"], 5_000_000, "the pledgee's payout is capped at the claim")
    eq((await owner.call("account.get"))["cash_available"], 2_000_000, "the surplus goes to the pledgor")
    rep = await bank.call("report.disposals")
    row = [r for r in rep["rows"] if r["case_id"] == cid][0]
    eq(row["outcome"], "sold", "report outcome")


async def test_disposal_two_pledgees(env):
    """Rules 13 and 14 with two banks pledging one asset: both consent before a listing; the
    case opened by the second-ranked bank pays the first-ranked bank first, then itself, then
    the pledgor; asset.get shows `pledge` (first-ranked) and `pledges` (registration order)."""
    owner = await env.party("enterprise")
    first = await env.party("bank")
    second = await env.party("bank")
    op = await env.party("operator")
    b1 = await env.party("enterprise", fund=500_000_000)
    asset = await pledged(env, owner, first, valuation=10_000_000, loan=5_000_000)
    pl = await second.call("pledge.register", asset_id=asset, pledgee=second.id, loan_outstanding=3_000_000,
                           registration_no="PR2-" + asset, interest=1_000_000)
    eq((pl["pledgee"], pl["claim"], pl["rank"]), (second.id, 4_000_000, 2), "the second pledge")
    eq(await code(second.c, "pledge.register", asset_id=asset, pledgee=second.id, loan_outstanding=1,
                  registration_no="PR2-" + asset), "DUPLICATE", "the same registration_no twice")
    a = await owner.call("asset.get", asset_id=asset)
    eq(a["pledge"]["pledgee"], first.id, "pledge: the first-ranked")
    eq([(p["pledgee"], p["rank"], p["claim"]) for p in a["pledges"]],
       [(first.id, 1, 5_000_000), (second.id, 2, 4_000_000)], "pledges in registration order")
    eq(await code(b1.c, "asset.get", asset_id=asset), "NOT_FOUND", "a stranger's asset.get")
    # Rule 13: every pledgee's consent before the owner lists.
    now = await env.now()
    listing = dict(lot=[asset], purpose="transfer", format="english", start_price=100_000, increment=1000,
                   deposit=0, opens_at=now + DAY, closes_at=now + 2 * DAY)
    await first.call("pledge.consent", asset_id=asset)
    eq(await code(owner.c, "auction.create", **listing), "INVALID_STATE", "one consent of two")
    c2 = await second.call("pledge.consent", asset_id=asset)
    eq((c2["pledgee"], c2["consented"]), (second.id, True), "second consent")
    listed = await owner.call("auction.create", **listing)
    await op.call("auction.cancel", auction_id=listed["auction_id"], reason="the bank forecloses instead")
    # The second-ranked bank forecloses; a sale at 7,000,000 pays the first 5,000,000, the second 2,000,000.
    case = await second.call("disposal.open", assets=[asset], pledgee=second.id, pledgor=owner.id,
                             valuation=10_000_000, plan={"notice_ms": HOUR})
    cid, aid = case["case_id"], case["auction_id"]
    eq((case["pledgee"], case["claim"]), (second.id, 4_000_000), "the case is the second bank's")
    eq([p["pledgee"] for p in case["pledges"]], [first.id, second.id], "the case pays in registration order")
    eq(await code(first.c, "disposal.get", case_id=cid), "NOT_FOUND", "the first bank does not see the case")
    auc = await b1.call("auction.get", auction_id=aid)
    await b1.call("auction.register", auction_id=aid)
    await env.advance_to(auc["opens_at"])
    await b1.call("auction.bid", auction_id=aid, amount=7_000_000)
    await env.advance_to(auc["closes_at"])
    sid = (await second.call("disposal.get", case_id=cid))["settlement_id"]
    await b1.call("settlement.pay", settlement_id=sid)
    await op.call("settlement.confirm", settlement_id=sid, registration_no="REG-" + cid)
    eq((await first.call("account.get"))["cash_available"], 5_000_000, "first-ranked paid in full")
    eq((await second.call("account.get"))["cash_available"], 2_000_000, "second-ranked gets the rest")
    eq((await owner.call("account.get"))["cash_available"], 0, "nothing left for the pledgor")
    g = await second.call("disposal.get", case_id=cid)
    eq((g["state"], g["outcome"], g["recovery"]["net_to_bank"]), ("closed", "sold", 2_000_000), "recovery")
    eq([(p["pledgee"], p["paid"]) for p in g["pledges"]], [(first.id, 5_000_000), (second.id, 2_000_000)],
       "payouts")
    a = await op.call("asset.get", asset_id=asset)
    eq((a["owner"], a["pledge"], a["pledges"]), (b1.id, None, []), "the sale released both pledges")


async def test_disposal_default_and_rerun(env):
    owner = await env.party("enterprise")
    bank = await env.party("bank")
    b1 = await env.party("enterprise", fund=500_000_000)
    b2 = await env.party("enterprise", fund=500_000_000)
    asset = await pledged(env, owner, bank, valuation=10_000_000, loan=5_000_000)
    case = await bank.call("disposal.open", assets=[asset], pledgee=bank.id, pledgor=owner.id, valuation=10_000_000,
                           plan={"notice_ms": HOUR, "renotice_ms": DAY})
    cid, aid = case["case_id"], case["auction_id"]
    a = await b1.call("auction.get", auction_id=aid)
    await b1.call("auction.register", auction_id=aid)
    await env.advance_to(a["opens_at"])
    await b1.call("auction.bid", auction_id=aid, amount=7_000_000)
    await env.advance_to(a["closes_at"])
    g = await bank.call("disposal.get", case_id=cid)
    sid = g["settlement_id"]
    s = await b1.call("settlement.get", settlement_id=sid)
    eq(s["due_at"], a["closes_at"] + 10 * DAY, "due 10 days after the close")
    await env.advance_to(s["due_at"])
    s = await b1.call("settlement.get", settlement_id=sid)
    eq(s["state"], "defaulted", "defaulted at due_at")
    eq(await code(b1.c, "settlement.pay", settlement_id=sid), "INVALID_STATE", "cannot pay after default")
    acct = await b1.call("account.get")
    eq((acct["cash_available"], acct["cash_held"]), (500_000_000 - 700_000, 0), "deposit forfeited")
    g = await bank.call("disposal.get", case_id=cid)
    eq(len(g["rounds"]), 2, "the round runs again")
    rerun = g["rounds"][-1]
    eq((rerun["kind"], rerun["start_price"]), ("auction", 7_000_000), "same start")
    a2 = await b1.call("auction.get", auction_id=rerun["auction_id"])
    eq(a2["opens_at"], s["due_at"] + DAY, "after renotice_ms")
    eq(await code(b1.c, "auction.register", auction_id=rerun["auction_id"]), "NOT_QUALIFIED", "defaulter barred")
    r = await b2.call("auction.register", auction_id=rerun["auction_id"])
    has(r, "bidder_code")


async def test_settlement_fail(env):
    owner = await env.party("enterprise")
    b1 = await env.party("enterprise", fund=10_000_000)
    op = await env.party("operator")
    r = await env.auction(owner, deposit=100_000)
    aid = r["auction_id"]
    await b1.call("auction.register", auction_id=aid)
    await b1.call("auction.bid", auction_id=aid, amount=1_000_000)
    await env.advance_to(r["closes_at"])
    sid = (await b1.call("auction.get", auction_id=aid))["settlement_id"]
    await b1.call("settlement.pay", settlement_id=sid)
    eq(await code(op.c, "settlement.fail", settlement_id=sid), "BAD_REQUEST", "reason required")
    f = await op.call("settlement.fail", settlement_id=sid, reason="registration refused")
    eq(f["state"], "failed", "failed")
    acct = await b1.call("account.get")
    eq((acct["cash_available"], acct["cash_held"]), (10_000_000, 0), "buyer refunded")
    eq(await code(op.c, "settlement.confirm", settlement_id=sid, registration_no="R"), "INVALID_STATE",
       "confirm a failed settlement")


async def test_disposal_round2_selloff_backstop(env):
    owner = await env.party("enterprise")
    bank = await env.party("bank")
    bs = await env.party("backstop", fund=500_000_000)
    bs2 = await env.party("backstop", fund=500_000_000)
    op = await env.party("operator")
    asset = await pledged(env, owner, bank, valuation=10_000_000, loan=5_000_000, region="mianyang",
                          industry="medicine_health")
    o1 = await bs.call("backstop.offer", price_bp=4000, max_amount=100_000_000, regions=["mianyang"],
                       industries=["medicine_health"])
    has(o1, "offer_id")
    await bs2.call("backstop.offer", price_bp=4500, max_amount=100_000_000, regions=["deyang"])  # no match
    await bs2.call("backstop.offer", price_bp=3000, max_amount=100_000_000, industries=["medicine_health"])
    eq(await code(owner.c, "backstop.offer", price_bp=4000, max_amount=1), "FORBIDDEN", "trader offer")
    case = await bank.call("disposal.open", assets=[asset], pledgee=bank.id, pledgor=owner.id, valuation=10_000_000,
                           plan={"notice_ms": HOUR, "renotice_ms": DAY, "sell_off_ms": 2 * DAY})
    cid, aid = case["case_id"], case["auction_id"]
    a1 = await bank.call("auction.get", auction_id=aid)
    await env.advance_to(a1["closes_at"])
    g = await bank.call("disposal.get", case_id=cid)
    eq((g["state"], g["rounds"][0]["state"]), ("round_2", "unsold"), "round 1 unsold -> round 2")
    r2 = g["rounds"][1]
    eq((r2["round"], r2["kind"], r2["start_price"]), (2, "auction", 5_600_000), "round 2: 20% below round 1's start")
    a2 = await bank.call("auction.get", auction_id=r2["auction_id"])
    eq(a2["opens_at"], a1["closes_at"] + DAY, "round 2 announced at the close with renotice_ms")
    await env.advance_to(a2["closes_at"])
    g = await bank.call("disposal.get", case_id=cid)
    eq(g["state"], "sell_off", "round 2 unsold -> sell-off")
    so = g["rounds"][-1]
    eq((so["kind"], so["start_price"]), ("sell_off", 5_600_000), "sell-off at round 2's start")
    a3 = await bank.call("auction.get", auction_id=so["auction_id"])
    eq((a3["opens_at"], a3["closes_at"]), (a2["closes_at"], a2["closes_at"] + 2 * DAY), "opens at once, sell_off_ms")
    await env.advance_to(a3["closes_at"])
    g = await bank.call("disposal.get", case_id=cid)
    eq(g["state"], "settlement", "the backstop buys")
    sid = g["settlement_id"]
    s = await bs.call("settlement.get", settlement_id=sid)
    eq((s["buyer"], s["price"]), (bs.id, 4_000_000), "the matching offer with the highest price buys at its own price")
    if s["state"] == "awaiting_payment":
        await bs.call("settlement.pay", settlement_id=sid)
    await op.call("settlement.confirm", settlement_id=sid, registration_no="BS-" + cid)
    g = await bank.call("disposal.get", case_id=cid)
    eq((g["state"], g["outcome"]), ("closed", "backstop"), "outcome backstop")
    rep = await bank.call("report.disposals")
    row = [r for r in rep["rows"] if r["case_id"] == cid][0]
    eq(row["outcome"], "backstop", "report")


async def test_disposal_selloff_in_lieu_and_release(env):
    owner = await env.party("enterprise")
    bank = await env.party("bank")
    b1 = await env.party("enterprise", fund=500_000_000)
    asset = await pledged(env, owner, bank, valuation=10_000_000, loan=5_000_000, region="leshan",
                          industry="food_light_textile")
    case = await bank.call("disposal.open", assets=[asset], pledgee=bank.id, pledgor=owner.id, valuation=10_000_000,
                           plan={"notice_ms": HOUR, "renotice_ms": HOUR, "sell_off_ms": DAY})
    cid = case["case_id"]
    a1 = await bank.call("auction.get", auction_id=case["auction_id"])
    await env.advance_to(a1["closes_at"])
    g = await bank.call("disposal.get", case_id=cid)
    a2 = await bank.call("auction.get", auction_id=g["rounds"][1]["auction_id"])
    await env.advance_to(a2["closes_at"])
    g = await bank.call("disposal.get", case_id=cid)
    so = await bank.call("auction.get", auction_id=g["rounds"][-1]["auction_id"])
    # Sell-off: the first bid at the price moves the close to 24 h after it.
    await b1.call("auction.register", auction_id=so["auction_id"])
    await env.advance(HOUR)
    x = await b1.call("auction.bid", auction_id=so["auction_id"], amount=so["start_price"])
    eq(x["closes_at"], x["ts"] + DAY, "first sell-off bid: close 24 h after it")
    # Another case: sell-off unsold -> in lieu (default).
    asset2 = await pledged(env, owner, bank, valuation=10_000_000, loan=5_000_000, region="leshan",
                           industry="food_light_textile")
    case2 = await bank.call("disposal.open", assets=[asset2], pledgee=bank.id, pledgor=owner.id,
                            valuation=10_000_000,
                            plan={"notice_ms": HOUR, "renotice_ms": HOUR, "sell_off_ms": DAY})
    for _ in range(3):
        g = await bank.call("disposal.get", case_id=case2["case_id"])
        last = await bank.call("auction.get", auction_id=g["rounds"][-1]["auction_id"])
        await env.advance_to(last["closes_at"])
    g = await bank.call("disposal.get", case_id=case2["case_id"])
    eq((g["state"], g["outcome"]), ("closed", "in_lieu"), "in lieu")
    pos = (await bank.call("account.get"))["positions"]
    check(any(p.get("asset_id") == asset2 and p["units"] == 1 for p in pos), f"title to the pledgee: {pos}")
    # after_sell_off release.
    asset3 = await pledged(env, owner, bank, valuation=10_000_000, loan=5_000_000)
    case3 = await bank.call("disposal.open", assets=[asset3], pledgee=bank.id, pledgor=owner.id,
                            valuation=10_000_000, plan={"notice_ms": HOUR, "renotice_ms": HOUR, "sell_off_ms": DAY,
                                                        "after_sell_off": "release"})
    for _ in range(3):
        g = await bank.call("disposal.get", case_id=case3["case_id"])
        last = await bank.call("auction.get", auction_id=g["rounds"][-1]["auction_id"])
        await env.advance_to(last["closes_at"])
    g = await bank.call("disposal.get", case_id=case3["case_id"])
    eq((g["state"], g["outcome"]), ("closed", "released"), "released")
    pos = (await owner.call("account.get"))["positions"]
    check(any(p.get("asset_id") == asset3 and p["units"] == 1 for p in pos), "released: the owner keeps it")
    rep = await bank.call("report.disposals")
    outcomes = {r["case_id"]: r["outcome"] for r in rep["rows"]}
    eq((outcomes[case2["case_id"]], outcomes[case3["case_id"]]), ("in_lieu", "released"), "report outcomes")


async def test_extensions_replace_and_lists(env):
    owner, mid, _ = await make_market(env)
    buyer = await env.party("enterprise", fund=1_000_000)
    o = await buyer.call("order.place", **order(mid, "buy", 20, 500, coid="rep"))
    eq((await buyer.call("account.get"))["cash_held"], 10_000, "hold before replace")
    r = await buyer.call("order.replace", market_id=mid, order_id=o["order_id"], price=600, qty=30)
    has(r, "order_id", "client_order_id", "status", "filled_qty", "leaves_qty", "fills")
    eq((r["order_id"], r["status"], r["leaves_qty"], r["price"]), (o["order_id"], "open", 30, 600), "replaced")
    eq((await buyer.call("account.get"))["cash_held"], 18_000, "hold follows the replace")
    eq(await code(buyer.c, "order.replace", market_id=mid, order_id=o["order_id"], price=650), "BAD_PRICE", "tick")
    other = await env.party("enterprise")
    eq(await code(other.c, "order.replace", market_id=mid, order_id=o["order_id"], price=700), "NOT_FOUND",
       "another's order")
    eq(await code(buyer.c, "market.get", market_id="NO-SUCH"), "NOT_FOUND", "market.get unknown")
    # auction.list (anyone logged in), with a state filter.
    aid = (await env.auction(owner, deposit=0))["auction_id"]
    rows = (await buyer.call("auction.list"))["auctions"]
    check(aid in [a["auction_id"] for a in rows], "auction.list lists it")
    rows = (await buyer.call("auction.list", state="sold"))["auctions"]
    check(all(a["state"] == "sold" for a in rows), "state filter")
    # disposal.list: a bank sees its own cases.
    bank = await env.party("bank")
    bank2 = await env.party("bank")
    asset = await pledged(env, owner, bank)
    case = await bank.call("disposal.open", assets=[asset], pledgee=bank.id, pledgor=owner.id, valuation=300_000_000)
    eq([c["case_id"] for c in (await bank.call("disposal.list"))["cases"]], [case["case_id"]], "own cases")
    eq((await bank2.call("disposal.list"))["cases"], [], "no cases of others")
    eq(await code(buyer.c, "disposal.list"), "FORBIDDEN", "trader")


async def test_risk_fund_share_and_pushes(env):
    owner = await env.party("enterprise")
    bank = await env.party("bank")
    fund = await env.party("risk_fund", fund=50_000_000)
    op = await env.party("operator")
    b1 = await env.party("enterprise", fund=500_000_000)
    asset = await pledged(env, owner, bank, valuation=10_000_000, loan=9_000_000)
    case = await bank.call("disposal.open", assets=[asset], pledgee=bank.id, pledgor=owner.id, valuation=10_000_000,
                           plan={"notice_ms": HOUR, "risk_fund": {"participant_id": fund.id, "share_bp": 5000}})
    cid, aid = case["case_id"], case["auction_id"]
    await bank.call("subscribe", channels=[f"disposal.{cid}"])
    snap = await npush(bank.c, f"disposal.{cid}")
    await b1.call("subscribe", channels=["private"])
    await npush(b1.c, "private")
    a = await b1.call("auction.get", auction_id=aid)
    reg = await b1.call("auction.register", auction_id=aid)
    dep = await pushes_until(b1.c, "private", lambda p: p["type"] == "deposit")
    eq((dep[-1]["data"].get("auction_id"), dep[-1]["data"].get("amount")), (aid, a["deposit"]), "deposit push")
    await env.advance_to(a["opens_at"])
    await b1.call("auction.bid", auction_id=aid, amount=7_000_000)
    await env.advance_to(a["closes_at"])
    st = await pushes_until(b1.c, "private", lambda p: p["type"] == "settlement")
    sid = st[-1]["data"]["settlement_id"]
    eq(st[-1]["data"]["state"], "awaiting_payment", "settlement push")
    up = await pushes_until(bank.c, f"disposal.{cid}", lambda p: p["seq"] > snap["seq"])
    eq(up[-1]["seq"], snap["seq"] + 1, "disposal channel: gap-free")
    await b1.call("settlement.pay", settlement_id=sid)
    await op.call("settlement.confirm", settlement_id=sid, registration_no="RF-" + cid)
    g = await bank.call("disposal.get", case_id=cid)
    eq((g["state"], g["outcome"]), ("closed", "sold"), "closed")
    eq(g["recovery"].get("fund_share"), 1_000_000, "the fund pays share_bp of the 2M shortfall (rule 17)")
    eq((await bank.call("account.get"))["cash_available"], 8_000_000, "bank: 7M + 1M")
    eq((await fund.call("account.get"))["cash_available"], 49_000_000, "fund paid")
    eq(reg["bidder_code"], (await op.call("auction.get", auction_id=aid))["winner"], "winner code")


async def test_http_endpoints(env):
    import urllib.request
    base = env.url.replace("ws://", "http://").replace("/v1/ws", "")
    with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
        eq(r.status, 200, "/healthz")
    with urllib.request.urlopen(base + "/readyz", timeout=5) as r:
        eq(r.status, 200, "/readyz")
    with urllib.request.urlopen(base + "/metrics", timeout=5) as r:
        eq(r.status, 200, "/metrics")
        check(b"# TYPE" in r.read(), "Prometheus text")


# ----------------------------------------------------------------------------- real clock group


async def test_realclock_time_advance_refused(env):
    a = await env.admin()
    code_, msg = await err(a, "time.advance", ms=1000)
    eq(code_, "INVALID_STATE", f"time.advance without --manual-clock ({msg})")
    t = await env.party("enterprise")
    eq(await code(t.c, "time.advance", ms=1000), "FORBIDDEN", "non-admin still FORBIDDEN")
    r = await a.call("time.now")
    check(abs(r["now"] - r["wall"]) < 5_000, "engine time is the real clock")


# ----------------------------------------------------------------------------- runner


def db_conninfo(base, db):
    if base.startswith("postgres://") or base.startswith("postgresql://"):
        return re.sub(r"(://[^/]*)(/[^?]*)?", lambda m: m.group(1) + "/" + db, base, count=1)
    if re.search(r"\bdbname\s*=", base):
        return re.sub(r"\bdbname\s*=\s*\S+", "dbname=" + db, base)
    return base + " dbname=" + db


def psql(conninfo, sql):
    subprocess.run(["psql", conninfo, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)


class Server:
    def __init__(self, ipxd, pg, manual, extra=()):
        self.ipxd, self.pg, self.manual, self.extra = ipxd, pg, manual, list(extra)
        self.db = "ipx_e2e_" + secrets.token_hex(5)
        self.proc = None
        self.url = None
        self.log = []

    def start(self, fresh=True):
        if fresh:
            psql(self.pg, f"CREATE DATABASE {self.db}")
        args = [self.ipxd, "--listen", "127.0.0.1:0", "--pg", db_conninfo(self.pg, self.db)]
        if self.manual:
            args.append("--manual-clock")
        args += self.extra
        env = dict(os.environ, IPX_ADMIN_KEY=ADMIN_KEY, IPX_ADMIN_SECRET=ADMIN_SECRET)
        env.pop("IPX_LISTEN", None)
        env.pop("IPX_REDIS", None)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.log.append(line)
            m = re.search(r"ws://([0-9.]+:\d+)/v1/ws", line)
            if "ready" in line and m:
                self.url = f"ws://{m.group(1)}/v1/ws"
                import threading
                threading.Thread(target=self._pump, daemon=True).start()
                return
        raise RuntimeError("ipxd did not start:\n" + "".join(self.log))

    def _pump(self):
        for line in self.proc.stdout:
            self.log.append(line)

    def stop(self, keep_db=False, kill=False):
        if self.proc and self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if keep_db:
            return
        try:
            psql(self.pg, f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
        except Exception as e:  # noqa: BLE001
            print(f"warning: could not drop {self.db}: {e}", file=sys.stderr)


async def run_group(server, tests, verbose):
    results = []
    for name, fn in tests:
        env = Env(server.url, server.manual)
        t0 = time.time()
        try:
            await asyncio.wait_for(fn(env), 60)
            results.append((name, True, ""))
            print(f"PASS {name} ({time.time() - t0:.1f}s)", flush=True)
        except Exception as e:  # noqa: BLE001
            detail = "".join(traceback.format_exception(e)) if verbose else f"{type(e).__name__}: {e}"
            results.append((name, False, detail))
            print(f"FAIL {name}: {detail}", flush=True)
        finally:
            await env.close()
    return results


# A login nonce outlives a restart of ipxd (no Redis): after a graceful stop and after SIGKILL,
# the same login frame is refused (PROTOCOL.md "Authentication": a nonce seen in the last 5
# minutes is refused); a fresh nonce logs in.
async def restart_nonce_checks(server):
    async def login(nonce, ts):  # the error code, or None for a successful login
        c = await Client.connect(server.url)
        try:
            reply = await c.raw("auth.login", dict(key=ADMIN_KEY, ts=ts, nonce=nonce,
                                                   sig=sign(ADMIN_SECRET, ADMIN_KEY, ts, nonce)))
            return reply["error"]["code"] if "error" in reply else None
        finally:
            await c.close()

    for how in ("graceful", "kill"):
        ts = int(time.time() * 1000)
        nonce = secrets.token_hex(10)
        eq(await login(nonce, ts), None, f"first login ({how})")
        await asyncio.sleep(0.3)  # longer than the nonce writer's batch interval (20 ms)
        server.stop(keep_db=True, kill=how == "kill")
        server.start(fresh=False)
        eq(await login(nonce, ts), "UNAUTHENTICATED", f"the nonce replayed after a {how} restart")
        eq(await login(secrets.token_hex(10), int(time.time() * 1000)), None, f"a fresh nonce ({how})")


# ipxd --snapshot-every N: snapshots are taken and the journal's and snapshots' figures are on
# /metrics; --ledger-capacity 64: the ledger's settled transfers are retired (the restart
# checks that follow recover that ledger from its snapshots); a bad value stops ipxd at once
# with a message and a non-zero exit.
async def snapshot_flag_checks(server):
    base = server.url.replace("ws://", "http://").replace("/v1/ws", "")
    a = await Client.connect(server.url)
    metrics = {}
    try:
        await a.login(ADMIN_KEY, ADMIN_SECRET)
        # One record per participant. A snapshot falls due every 5 records; one due while the
        # writer is busy waits for the next batch, so commands go on until two are written.
        for i in range(200):
            p = await a.call("participant.create", name=f"snap-{i}", kind="individual", region="chengdu",
                             whitelisted=True)
            # A transfer into the ledger each: past 32 (half of --ledger-capacity 64) the
            # engine retires the settled ones.
            await a.call("account.fund", participant_id=p["participant_id"], amount=100)
            if i < 40:
                continue
            body = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
            metrics = dict(l.split(" ", 1) for l in body.splitlines() if l and not l.startswith("#"))
            if int(metrics.get("ipx_snapshots_written_total", "0")) >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await a.close()
    check(int(metrics.get("ipx_journal_committed_seq", "0")) >= 12, f"committed seq: {metrics}")
    check(int(metrics.get("ipx_snapshots_written_total", "0")) >= 2,
          f"--snapshot-every 5: 2 snapshots written ({metrics})")
    check(float(metrics["ipx_snapshot_max_pause_seconds"]) >= 0, "pause gauge")
    check(1 <= int(metrics.get("ipx_ledger_transfers", "0")) < 64, f"ledger transfers: {metrics}")
    check(int(metrics.get("ipx_ledger_transfers_max", "0")) == 64, f"ledger capacity: {metrics}")
    check(int(metrics.get("ipx_ledger_transfers_retired_total", "0")) >= 32, f"retired: {metrics}")
    promtool = shutil.which("promtool")
    if promtool:  # Debian's prometheus package (installed by tools/ipx deps)
        r = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, text=True,
                           timeout=30)
        check(r.returncode == 0, f"promtool check metrics: {r.stdout}{r.stderr}")
    for bad in (["--snapshot-every", "-1"], ["--snapshot-pace", "x"], ["--snapshot-nice", "20"],
                ["--ledger-capacity", "63"], ["--ledger-capacity", str((1 << 30) + 1)]):
        r = subprocess.run([server.ipxd, "--listen", "127.0.0.1:0", "--pg", "dbname=none"] + bad,
                           capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, IPX_ADMIN_SECRET=ADMIN_SECRET))
        check(r.returncode != 0 and bad[0] in r.stderr, f"{bad}: exit {r.returncode}, {r.stderr!r}")


def run_restart_group(ipxd, pg, verbose):
    server = Server(ipxd, pg, False, extra=["--snapshot-every", "5", "--ledger-capacity", "64"])
    t0 = time.time()
    try:
        server.start()
        asyncio.run(snapshot_flag_checks(server))
        asyncio.run(restart_nonce_checks(server))
        print(f"PASS restart_nonces, snapshot_flags ({time.time() - t0:.1f}s)", flush=True)
        return [("restart_nonces", True, "")]
    except Exception as e:  # noqa: BLE001
        detail = "".join(traceback.format_exception(e)) if verbose else f"{type(e).__name__}: {e}"
        print(f"FAIL restart_nonces: {detail}", flush=True)
        return [("restart_nonces", False, detail)]
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--ipxd", default=os.path.join(here, "..", "..", "build", "release", "gateway", "ipxd"))
    ap.add_argument("-k", default="", help="run only tests whose name contains this")
    ap.add_argument("-v", action="store_true", help="tracebacks on failure")
    args = ap.parse_args()
    pg = os.environ.get("IPX_PG")
    if not pg:
        print("run_e2e: IPX_PG is not set (eval \"$(tools/ipx services env)\", or run via tools/ipx test)",
              file=sys.stderr)
        return 2
    if not os.access(args.ipxd, os.X_OK):
        print(f"run_e2e: no ipxd at {args.ipxd}", file=sys.stderr)
        return 2
    tests = [(n, f) for n, f in globals().items() if n.startswith("test_") and callable(f) and args.k in n]
    groups = {True: [t for t in tests if not t[0].startswith("test_realclock")],
              False: [t for t in tests if t[0].startswith("test_realclock")]}
    results = []
    for manual, group in groups.items():
        if not group:
            continue
        server = Server(args.ipxd, pg, manual)
        try:
            server.start()
            results += asyncio.run(run_group(server, group, args.v))
        except Exception as e:  # noqa: BLE001
            for name, _ in group[len(results):] if not results else []:
                pass
            print(f"FAIL server ({'manual' if manual else 'real'} clock): {e}", flush=True)
            results.append(("server", False, str(e)))
        finally:
            server.stop()
            if server.proc and server.proc.returncode not in (0, None, -15):
                print(f"ipxd exited with {server.proc.returncode}:\n" + "".join(server.log[-30:]), flush=True)
    if args.k in "restart_nonces":
        results += run_restart_group(args.ipxd, pg, args.v)
    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
