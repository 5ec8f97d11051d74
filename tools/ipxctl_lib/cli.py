"""ipxctl's commands: argparse front end, one protocol connection per invocation."""
import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time

from . import render
from .client import Connection, ConnectError, ProtocolError
from .hints import hint
from .render import kv_table, table, fmt_value
from .units import (UsageError, TimeSpec, parse_money, parse_duration, parse_bp, fmt_money,
                    fmt_time, yuan_floor)

DEFAULT_URL = "ws://127.0.0.1:8080/v1/ws"
TOOLS_DIR = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))

EXIT_OK, EXIT_PROTOCOL, EXIT_USAGE, EXIT_CONNECT = 0, 1, 2, 3

RULES = """\
login:    --key/--secret or IPX_KEY/IPX_SECRET. The admin's are the server's IPX_ADMIN_KEY
          (default "admin") and IPX_ADMIN_SECRET; a participant's are printed by
          `ipxctl participants create`. No server? `tools/ipx serve` starts one.

money (one rule everywhere):
  a plain integer is fen, the protocol's unit and what --json prints:  123456 = 1,234.56 CNY
  a decimal point or a CNY / yuan / 元 suffix means yuan:  1234.56   "1234 CNY"   1,234.56yuan
  a fen suffix is explicit:  123456fen.   2,100,000 alone is refused as ambiguous.
  Shown to people as 1,234.56 CNY; in --json as integer fen.

times:    ms since the epoch, ISO 8601 (2026-01-15T10:00 = local time), now, or relative to the
          server's engine time: +30d, +2h, +90m, +1d12h. Shown in local time; ms in --json.
durations: 30d, 2h, 5m, 30s, 500ms, 1y, or plain ms.      shares: 70% or 7000bp (basis points).

output:   tables for people; --json prints the raw protocol result (errors too, as {"error": ...}).
exit:     0 ok, 1 the server refused (the protocol code is printed with what to do),
          2 bad command line, 3 cannot reach the server; journal/ledger pass their own code.
"""


class Ctx:
    """The command's connection, opened on first use, logged in unless the command needs none."""

    def __init__(self, a):
        self.a = a
        self.conn = None
        self._now = None
        self.me = None

    async def open(self, login=True):
        if self.conn is None:
            self.conn = Connection(self.a.url, timeout=self.a.timeout)
            await self.conn.open()
            if login:
                if not self.a.key or not self.a.secret:
                    raise UsageError("no credentials: pass --key and --secret or set IPX_KEY and "
                                     "IPX_SECRET (the admin's: the server's IPX_ADMIN_KEY / "
                                     "IPX_ADMIN_SECRET)")
                self.me = await self.conn.login(self.a.key, self.a.secret)
        return self.conn

    async def call(self, method, **params):
        conn = await self.open()
        return await conn.call(method, **params)

    async def act(self, method, **params):
        """A state-changing call: carries --request-id when given."""
        if getattr(self.a, "request_id", None):
            params["request_id"] = self.a.request_id
        return await self.call(method, **params)

    async def now(self):
        if self._now is None:
            conn = await self.open()
            self._now = (await conn.call("time.now"))["now"]
        return self._now

    async def at(self, spec):
        if spec is None:
            return None
        if spec.absolute is not None:
            return spec.absolute
        return spec.resolve(await self.now())

    async def close(self):
        if self.conn is not None:
            await self.conn.close()


# ------------------------------------------------------------------------------ argparse types
def money(s):
    try:
        return parse_money(s)
    except UsageError as e:
        raise argparse.ArgumentTypeError(str(e))


def when(s):
    try:
        return TimeSpec(s)
    except UsageError as e:
        raise argparse.ArgumentTypeError(str(e))


def duration(s):
    try:
        return parse_duration(s)
    except UsageError as e:
        raise argparse.ArgumentTypeError(str(e))


def bp(s):
    try:
        return parse_bp(s)
    except UsageError as e:
        raise argparse.ArgumentTypeError(str(e))


def pos_int(s):
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a whole number")
    if v <= 0:
        raise argparse.ArgumentTypeError(f"{s!r} must be positive")
    return v


def holder(s):
    pid, _, rank = s.partition(":")
    if not pid:
        raise argparse.ArgumentTypeError(f"{s!r}: write PARTICIPANT:RANK, e.g. P-7:1")
    try:
        return {"participant_id": pid, "rank": int(rank or 1)}
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r}: the rank is a whole number (1 = highest)")


def fund_share(s):
    pid, _, share = s.partition(":")
    if not pid or not share:
        raise argparse.ArgumentTypeError(f"{s!r}: write PARTICIPANT:SHARE, e.g. P-9:50%")
    try:
        return {"participant_id": pid, "share_bp": parse_bp(share)}
    except UsageError as e:
        raise argparse.ArgumentTypeError(str(e))


# ---------------------------------------------------------------------------------- rendering
def show_participant(r):
    out = kv_table(r, keys=["participant_id", "name", "kind", "region", "whitelisted",
                            "api_key", "api_secret"])
    if r.get("api_key"):
        out += ("\n\nTo act as this participant:\n"
                f"  export IPX_KEY={r['api_key']} IPX_SECRET={r.get('api_secret', '...')}")
    return out


def show_account(r):
    out = kv_table(r, keys=["participant_id", "cash_available", "cash_held"])
    pos = r.get("positions") or []
    out += "\n\n" + table(pos, [("holding", lambda p: p.get("asset_id") or p.get("market_id")),
                               ("kind", lambda p: "title" if "asset_id" in p else "licence units"),
                               "units", "units_held"], title="positions", empty="(no positions)")
    return out


def show_asset(r):
    return kv_table(r)


def show_pledge(r):
    return kv_table(r, keys=["asset_id", "pledgee", "pledgor", "registration_no", "status",
                             "consented", "loan_outstanding", "interest", "penalties", "costs",
                             "claim"] + [k for k in r if k not in {
                                 "asset_id", "pledgee", "pledgor", "registration_no", "status",
                                 "consented", "loan_outstanding", "interest", "penalties",
                                 "costs", "claim"}])


CASE_KEYS = ["case_id", "state", "outcome", "pledgee", "pledgor", "assets", "region", "industry",
             "regime", "valuation", "claim", "opened_at", "defaults", "auction_id", "settlement_id"]


def show_case(r):
    out = kv_table(r, keys=CASE_KEYS + [k for k in r if k not in CASE_KEYS and k not in (
        "recovery", "rounds", "timeline")])
    rec = r.get("recovery")
    if isinstance(rec, dict) and rec:
        out += "\n\n" + kv_table(rec, title="recovery")
    out += "\n\n" + table(r.get("rounds") or [], [
        "round", "kind", "auction_id", "state", "start_price", "bidders", "price", "discount"],
        title="rounds")
    if r.get("timeline"):
        out += "\n\n" + table(r["timeline"], ["ts", "event", "state",
                                              ("reason", lambda e: humanize(e.get("reason", "")))],
                                title="timeline")
    return out


AUCTION_KEYS = ["auction_id", "case_id", "lot", "purpose", "format", "state", "opens_at",
                "closes_at", "start_price", "increment", "deposit", "reserve", "price", "bids",
                "registered", "leader", "min_next_bid", "winner", "settlement_id",
                "my_bidder_code"]


def show_auction(r):
    r = dict(r)
    mine = r.get("my_bidder_code")
    for k in ("leader", "winner"):
        if mine and r.get(k) == mine:
            r[k] = f"{mine} (you)"
    return kv_table(r, keys=AUCTION_KEYS + [k for k in r if k not in AUCTION_KEYS])


def show_bid(r):
    r = dict(r)
    return kv_table(r)


SETTLEMENT_KEYS = ["settlement_id", "state", "auction_id", "case_id", "buyer", "seller", "price",
                   "buyer_premium", "seller_commission", "deposit", "amount_due", "due_at",
                   "registration_no"]


def show_settlement(r):
    out = kv_table(r, keys=SETTLEMENT_KEYS + [k for k in r if k not in SETTLEMENT_KEYS])
    if r.get("transfers"):
        out += "\n\n" + table(r["transfers"], ["id", "code", "amount", "state"] + sorted(
            {k for t in r["transfers"] for k in t} - {"id", "code", "amount", "state"}),
            title="transfers")
    return out


def show_market(r):
    r = dict(r)
    for side in ("bids", "asks"):
        levels = r.get(side)
        if isinstance(levels, list):
            r[side] = ", ".join(f"{fmt_money(lv[0])} x {lv[1]}" for lv in levels
                                if isinstance(lv, list) and len(lv) == 2) or "-"
    return show_generic(r)


def humanize(text):
    """Server reasons carry fen and ms: show them as CNY and local time."""
    text = re.sub(r"\b(\d+) fen\b", lambda m: fmt_money(int(m.group(1))), str(text))
    return re.sub(r"\b(1\d{12})\b", lambda m: fmt_time(int(m.group(1))), text)


def show_order(r):
    out = kv_table(r)
    if r.get("fills"):
        out += "\n\n" + table(r["fills"], ["trade_id", "price", "qty"], title="fills")
    return out


def show_generic(r):
    if isinstance(r, dict):
        out = kv_table(r)
        for k, v in r.items():
            if isinstance(v, list) and v and isinstance(v[0], dict):
                cols = list(dict.fromkeys(c for row in v for c in row))
                out += "\n\n" + table(v, cols, title=k)
        return out
    return json.dumps(r, indent=2, ensure_ascii=False)


def case_row_round(c):
    rounds = c.get("rounds") or []
    return str(rounds[-1].get("round")) if rounds else "-"


def case_row_auction(c):
    rounds = c.get("rounds") or []
    return rounds[-1].get("auction_id") or "-" if rounds else "-"


def show_case_list(r):
    cases = r.get("cases", []) if isinstance(r, dict) else r
    return table(cases, [
        "case_id", "state", "outcome", "pledgee", "pledgor", "region", "claim", "valuation",
        ("round", case_row_round), ("auction", case_row_auction),
        ("hammer", lambda c: fmt_value("hammer", (c.get("recovery") or {}).get("hammer"))),
        ("recovery", lambda c: fmt_value("recovery_rate",
                                         (c.get("recovery") or {}).get("recovery_rate")))],
        empty="(no disposal cases)")


def show_auction_list(r):
    rows = r.get("auctions", []) if isinstance(r, dict) else r
    return table(rows, ["auction_id", "case_id", "purpose", "format", "state", "start_price",
                        "price", "bids", "opens_at", "closes_at"], empty="(no auctions)")


REPORT_COLS = ["case_id", "bank", "region", "industry", "month", "state", "outcome", "claim",
               "valuation", "hammer", "net_to_bank", "fund_share", "recovery_rate",
               "discount_by_round", "rounds", "defaults", "days_to_sale", "days_to_cash",
               "days_to_registration"]
AGG_COLS = ["cases", "sold", "claim", "hammer", "net_to_bank", "fund_share", "recovery_rate",
            "discount", "rounds", "defaults"]


def show_report(r):
    rows = r.get("rows") or []
    out = table(rows, ["case_id", "bank", "region", "industry", "state", "outcome", "claim",
                       "hammer", "net_to_bank", "fund_share", "recovery_rate",
                       ("discount", lambda x: fmt_value("discount_by_round",
                                                        x.get("discount_by_round"))),
                       "rounds", "defaults", ("days to sale/cash/reg", lambda x: "/".join(
                           "-" if x.get(k) is None else f"{x[k]:g}"
                           for k in ("days_to_sale", "days_to_cash", "days_to_registration")))],
                title="cases", empty="(no cases)")
    totals = r.get("totals") or {}
    if totals:
        out += "\n\n" + kv_table(totals, keys=[k for k in totals if not k.startswith("by_")],
                                 title="totals")
        for dim in ("bank", "region", "industry", "month"):
            groups = totals.get(f"by_{dim}") or []
            if groups:
                out += "\n\n" + table(groups, [dim] + AGG_COLS, title=f"by {dim}")
    return out


# ---------------------------------------------------------------------------------- commands
# Each returns (result, text for people).

async def c_participants_create(ctx, a):
    r = await ctx.act("participant.create", name=a.name, kind=a.kind, region=a.region,
                      whitelisted=a.whitelisted, api_key=a.api_key, api_secret=a.api_secret)
    return r, show_participant(r)


async def c_account_fund(ctx, a):
    r = await ctx.act("account.fund", participant_id=a.participant, amount=a.amount)
    return r, f"funded {a.participant} with {fmt_money(a.amount)}\n\n" + show_account(r)


async def c_account_get(ctx, a):
    r = await ctx.call("account.get", participant_id=a.participant)
    return r, show_account(r)


async def c_assets_register(ctx, a):
    r = await ctx.act("asset.register", asset_id=a.asset_id, kind=a.kind, title=a.title,
                      owner=a.owner, region=a.region, industry=a.industry, valuation=a.valuation,
                      expires_at=await ctx.at(a.expires), co_owners=a.co_owner or None,
                      legal_status=a.legal_status, valuation_date=await ctx.at(a.valuation_date))
    return r, show_asset(r)


async def my_bank_id(ctx, given):
    """--pledgee, defaulting to the caller when it is a bank."""
    if given:
        return given
    await ctx.open()
    if ctx.me and ctx.me.get("kind") == "bank":
        return ctx.me["participant_id"]
    raise UsageError("--pledgee is required (it defaults to you only when you log in as a bank)")


async def c_pledges_register(ctx, a):
    r = await ctx.act("pledge.register", asset_id=a.asset_id, pledgee=await my_bank_id(ctx, a.pledgee),
                      loan_outstanding=a.loan, registration_no=a.registration_no,
                      interest=a.interest, penalties=a.penalties, costs=a.costs, pledgor=a.pledgor)
    return r, show_pledge(r)


async def c_pledges_consent(ctx, a):
    r = await ctx.act("pledge.consent", asset_id=a.asset_id)
    return r, show_pledge(r)


async def c_disposals_open(ctx, a):
    pledgee = await my_bank_id(ctx, a.pledgee)
    plan = {k: v for k, v in {
        "regime": a.regime, "start_bp": a.start, "deposit_bp": a.deposit, "cut_bp": a.cut,
        "notice_ms": a.notice, "renotice_ms": a.renotice, "bidding_ms": a.bidding,
        "sell_off_ms": a.sell_off, "payment_ms": a.payment, "extend_window_ms": a.extend_window,
        "extend_by_ms": a.extend_by, "after_sell_off": a.after_sell_off,
        "risk_fund": a.risk_fund}.items() if v is not None}
    r = await ctx.act("disposal.open", assets=a.assets, pledgee=pledgee, pledgor=a.pledgor,
                      valuation=a.valuation, plan=plan or None)
    text = f"opened disposal case {r.get('case_id')}; round 1 is auction {r.get('auction_id')}"
    if isinstance(r, dict) and "rounds" in r:
        text += "\n\n" + show_case(r)
    else:
        text += "\n\n" + kv_table(r)
    return r, text


async def c_disposals_show(ctx, a):
    r = await ctx.call("disposal.get", case_id=a.case_id)
    return r, show_case(r)


async def c_disposals_list(ctx, a):
    r = await ctx.call("disposal.list", state=a.state)
    return r, show_case_list(r)


def increment_for(start):
    """DOMAIN rule 4 tiers, rounded down to a whole yuan (at least 1 yuan)."""
    if start <= 100_000_00:
        inc = start * 2 // 100
    elif start <= 1_000_000_00:
        inc = start // 100
    else:
        inc = start * 5 // 1000
    return max(100, yuan_floor(inc))


async def c_auctions_create(ctx, a):
    opens = await ctx.at(a.opens) if a.opens else await ctx.now()
    closes = await ctx.at(a.closes)
    increment = a.increment if a.increment is not None else increment_for(a.start)
    deposit = a.deposit if a.deposit is not None else yuan_floor(a.start // 10)
    dutch = None
    if a.format == "dutch":
        if a.dutch_decrement is None or a.dutch_interval is None or a.dutch_floor is None:
            raise UsageError("a Dutch auction needs --dutch-decrement, --dutch-interval and "
                             "--dutch-floor")
        dutch = {"decrement": a.dutch_decrement, "interval_ms": a.dutch_interval,
                 "floor": a.dutch_floor}
    licence = None
    if a.purpose in ("exclusive_licence", "sole_licence") or a.licence_kind:
        if not a.term_months:
            raise UsageError("a licence needs --term-months (and usually --territory, --field)")
        kind = a.licence_kind or {"exclusive_licence": "exclusive", "sole_licence": "sole"}.get(
            a.purpose, "non_exclusive")
        licence = {"kind": kind, "territory": a.territory or ["cn"], "term_months": a.term_months}
        if a.field:
            licence["field"] = a.field
        if a.royalty is not None:
            licence["royalty_bp"] = a.royalty
    r = await ctx.act("auction.create", lot=a.lot, purpose=a.purpose, format=a.format,
                      start_price=a.start, increment=increment, deposit=deposit, opens_at=opens,
                      closes_at=closes, reserve=a.reserve, extend_window_ms=a.extend_window,
                      extend_by_ms=a.extend_by, dutch=dutch, licence=licence,
                      priority_holders=a.priority or None, buyer_premium_bp=a.buyer_premium,
                      seller_commission_bp=a.seller_commission, payment_ms=a.payment)
    return r, "created auction\n\n" + show_auction(r) if "format" in r else kv_table(r)


async def c_auctions_show(ctx, a):
    r = await ctx.call("auction.get", auction_id=a.auction_id, mine=True)
    return r, show_auction(r)


async def c_auctions_list(ctx, a):
    r = await ctx.call("auction.list", state=a.state)
    return r, show_auction_list(r)


async def c_auctions_register(ctx, a):
    r = await ctx.act("auction.register", auction_id=a.auction_id)
    return r, (f"registered for {a.auction_id}: your bidder code is {r.get('bidder_code')}; "
               f"deposit {fmt_money(r.get('deposit'))} {r.get('deposit_state', 'held')}\n\n"
               + kv_table(r))


async def resolve_amount(ctx, auction_id, amount):
    if amount != "min":
        return parse_money(amount)
    g = await ctx.call("auction.get", auction_id=auction_id)
    if g.get("min_next_bid") is None:
        raise UsageError(f"{auction_id} shows no minimum next bid (state {g.get('state')}, format "
                         f"{g.get('format')}): give an amount")
    return g["min_next_bid"]


async def c_auctions_bid(ctx, a):
    amount = await resolve_amount(ctx, a.auction_id, a.amount)
    r = await ctx.act("auction.bid", auction_id=a.auction_id, amount=amount)
    lead = f"; leader {r['leader']}" if r.get("leader") else ""
    return r, f"bid {fmt_money(r.get('amount'))} on {a.auction_id}{lead}\n\n" + show_bid(r)


async def c_auctions_proxy(ctx, a):
    r = await ctx.act("auction.proxy", auction_id=a.auction_id, max_amount=a.max_amount)
    return r, f"proxy up to {fmt_money(a.max_amount)} on {a.auction_id}\n\n" + show_bid(r)


async def c_auctions_accept(ctx, a):
    r = await ctx.act("auction.accept", auction_id=a.auction_id)
    return r, f"accepted {a.auction_id} at {fmt_money(r.get('price'))}\n\n" + show_bid(r)


async def c_auctions_cancel(ctx, a):
    r = await ctx.act("auction.cancel", auction_id=a.auction_id, reason=a.reason)
    return r, show_auction(r)


async def c_settlements_show(ctx, a):
    r = await ctx.call("settlement.get", settlement_id=a.settlement_id)
    return r, show_settlement(r)


async def c_settlements_pay(ctx, a):
    r = await ctx.act("settlement.pay", settlement_id=a.settlement_id)
    return r, f"paid {a.settlement_id}: {fmt_money(r.get('amount_due'))} moved into escrow\n\n" + \
        show_settlement(r)


async def c_settlements_confirm(ctx, a):
    r = await ctx.act("settlement.confirm", settlement_id=a.settlement_id,
                      registration_no=a.registration_no)
    return r, f"confirmed {a.settlement_id} (registration {a.registration_no})\n\n" + \
        show_settlement(r)


async def c_settlements_fail(ctx, a):
    r = await ctx.act("settlement.fail", settlement_id=a.settlement_id, reason=a.reason)
    return r, show_settlement(r)


async def c_markets_create(ctx, a):
    licence = {"kind": "non_exclusive", "territory": a.territory or ["cn"],
               "term_months": a.term_months}
    if a.field:
        licence["field"] = a.field
    if a.royalty is not None:
        licence["royalty_bp"] = a.royalty
    r = await ctx.act("market.create", market_id=a.market_id, asset_id=a.asset, licence=licence,
                      tick=a.tick, min_qty=a.min_qty, maker_fee_bp=a.maker_fee,
                      taker_fee_bp=a.taker_fee)
    return r, show_market(r)


async def c_markets_show(ctx, a):
    r = await ctx.call("market.get", market_id=a.market_id)
    return r, show_market(r)


async def c_markets_issue(ctx, a):
    r = await ctx.act("units.issue", market_id=a.market_id, qty=a.qty)
    return r, show_generic(r)


async def c_orders_place(ctx, a):
    otype = a.type or ("limit" if a.price is not None else "market")
    tif = a.tif or ("gtc" if otype == "limit" else "ioc")
    coid = a.client_order_id or f"cli-{int(time.time() * 1000)}-{os.urandom(3).hex()}"
    r = await ctx.act("order.place", market_id=a.market_id, side=a.side, type=otype,
                      price=a.price, qty=a.qty, tif=tif, expire_at=await ctx.at(a.expire),
                      post_only=True if a.post_only else None, stp=a.stp, client_order_id=coid)
    return r, show_order(r)


async def c_orders_cancel(ctx, a):
    if not a.order_id and not a.client_order_id:
        raise UsageError("give ORDER_ID or --client-order-id")
    r = await ctx.act("order.cancel", market_id=a.market_id, order_id=a.order_id,
                      client_order_id=a.client_order_id)
    return r, show_order(r)


async def c_backstop_offer(ctx, a):
    r = await ctx.act("backstop.offer", price_bp=a.price, max_amount=a.max_amount,
                      regions=a.region or None, industries=a.industry or None,
                      expires_at=await ctx.at(a.expires))
    return r, show_generic(r)


async def c_reports_disposals(ctx, a):
    r = await ctx.call("report.disposals", **{"from": await ctx.at(a.since)},
                       to=await ctx.at(a.until), region=a.region, bank=a.bank)
    if a.csv:
        if a.by:
            groups = (r.get("totals") or {}).get(f"by_{a.by}") or []
            text = render.to_csv(groups, [a.by] + AGG_COLS)
        else:
            text = render.to_csv(r.get("rows") or [], REPORT_COLS)
        return r, text.rstrip("\n")
    if a.by:
        groups = (r.get("totals") or {}).get(f"by_{a.by}") or []
        return r, table(groups, [a.by] + AGG_COLS, title=f"by {a.by}")
    return r, show_report(r)


async def c_time_now(ctx, a):
    conn = await ctx.open(login=False)
    r = await conn.call("time.now")
    skew = r.get("now", 0) - r.get("wall", 0)
    text = kv_table(r)
    if abs(skew) > 1000:
        text += f"\n\nengine time is {render.fmt_duration(skew)} from the server's wall clock " \
                f"(a manual clock)"
    return r, text


async def c_time_advance(ctx, a):
    r = await ctx.act("time.advance", ms=a.by)
    return r, f"advanced the engine clock by {render.fmt_duration(a.by)}\n\n" + kv_table(r)


async def c_watch(ctx, a):
    conn = await ctx.open()
    await conn.call("subscribe", channels=a.channels)
    seen = 0
    last = {}
    deadline = time.monotonic() + a.for_ / 1000 if a.for_ else None
    while a.count is None or seen < a.count:
        timeout = None
        if deadline is not None:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                break
        try:
            p = await conn.next_push(timeout)
        except asyncio.TimeoutError:
            break
        ch, seq = p.get("channel"), p.get("seq")
        if p.get("type") != "snapshot" and ch in last and isinstance(seq, int) and \
                seq != last[ch] + 1:
            print(f"# gap on {ch}: seq {last[ch]} then {seq}; re-subscribing", file=sys.stderr)
            await conn.call("unsubscribe", channels=[ch])
            await conn.call("subscribe", channels=[ch])
            last.pop(ch, None)
            continue
        last[ch] = seq
        print(json.dumps(p, ensure_ascii=False) if a.json else render.push_line(p), flush=True)
        seen += 1
    return None, None


def find_tool(name):
    build = os.environ.get("IPX_BUILD_DIR") or os.path.join(TOOLS_DIR, "..", "build", "release")
    return os.path.normpath(os.path.join(build, "tools", name))


def run_tool(name, sub, a):
    pg = a.pg or os.environ.get("IPX_PG")
    if not pg:
        raise UsageError("no database: pass --pg CONNINFO or set IPX_PG "
                         "(eval \"$(tools/ipx services env)\")")
    exe = find_tool(name)
    if not os.access(exe, os.X_OK):
        raise UsageError(f"{exe} is not built: cd {os.path.dirname(TOOLS_DIR)} && "
                         f"cmake --build build/release --target {name}")
    extra = [x for x in (a.extra or []) if x != "--"]
    return subprocess.call([exe, sub, "--pg", pg] + extra)


# ------------------------------------------------------------------------------ the parser
class Fmt(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog):
        super().__init__(prog, max_help_position=30, width=100)


def common(p, top):
    """Options every command takes, before or after the subcommand."""
    d = (lambda v: v) if top else (lambda v: argparse.SUPPRESS)
    g = p.add_argument_group("connection and output")
    g.add_argument("--url", default=d(os.environ.get("IPX_URL") or DEFAULT_URL),
                   help="server WebSocket URL (env IPX_URL; default %s)" % DEFAULT_URL)
    g.add_argument("--key", default=d(os.environ.get("IPX_KEY")), help="API key (env IPX_KEY)")
    g.add_argument("--secret", default=d(os.environ.get("IPX_SECRET")),
                   help="API secret (env IPX_SECRET)")
    g.add_argument("--json", action="store_true", default=d(False),
                   help="print the raw protocol result as JSON (money in fen, times in ms)")
    g.add_argument("--request-id", default=d(None), metavar="ID",
                   help="idempotency key: a retry with the same id applies nothing twice")
    g.add_argument("--timeout", type=float, default=d(30.0), metavar="S",
                   help="seconds to wait for the server (default 30)")


def build_parser():
    top = argparse.ArgumentParser(
        prog="ipxctl", formatter_class=Fmt,
        description="ipxctl — drive an ipx exchange: participants, pledges, disposal cases, "
                    "auctions, settlements, licence markets, reports.",
        epilog=RULES + """
a disposal from opening to registration (see docs/ipxctl.md):
  export IPX_URL=ws://127.0.0.1:8080/v1/ws IPX_KEY=admin IPX_SECRET=...     # the admin
  ipxctl participants create "Bank of Chengdu" --kind bank --region chengdu
  ipxctl account fund P-3 500000.00
  ipxctl assets register CN2020100001.X --kind invention_patent --title Battery --owner P-2 \\
      --region chengdu --industry energy_chemical --valuation 3000000.00 --expires +10y
  IPX_KEY=<bank key> IPX_SECRET=<bank secret> ipxctl pledges register CN2020100001.X \\
      --loan 1000000.00 --registration-no R-1
  ... ipxctl disposals open CN2020100001.X --pledgor P-2 --valuation 3000000.00
  ... ipxctl auctions register A-1;  ipxctl auctions bid A-1 min
  ... ipxctl settlements pay S-1;  ipxctl settlements confirm S-1 --registration-no REG-9
  ... ipxctl disposals show C-1;  ipxctl reports disposals --csv

every command has --help with an example.""")
    common(top, True)
    groups = top.add_subparsers(dest="group", metavar="COMMAND", required=True)

    def group(name, help_, aliases=()):
        g = groups.add_parser(name, help=help_, aliases=list(aliases), formatter_class=Fmt,
                              description=help_)
        common(g, False)
        return g.add_subparsers(dest="action", metavar="ACTION", required=True)

    def cmd(sub, name, fn, help_, example, who=None, aliases=()):
        desc = help_ + (f"\n\nwho: {who}" if who else "")
        p = sub.add_parser(name, help=help_, aliases=list(aliases), formatter_class=Fmt,
                           description=desc, epilog="example:\n  " + example.strip().replace(
                               "\n", "\n  ") + "\n\nmoney: plain integer = fen; 1234.56 or "
                           "'1234 CNY' = yuan.  times: ms, ISO 8601, +30d (engine time).")
        p.set_defaults(fn=fn)
        common(p, False)
        return p

    # participants
    s = group("participants", "create participants (admin)", ["participant"])
    p = cmd(s, "create", c_participants_create, "create a participant; prints its API key and secret",
            'ipxctl participants create "Bank of Chengdu" --kind bank --region chengdu\n'
            'ipxctl participants create "Bidder 1" --kind enterprise --region deyang',
            who="the admin")
    p.add_argument("name", help="display name")
    p.add_argument("--kind", required=True, choices=["admin", "operator", "bank", "enterprise",
                                                      "individual", "backstop", "risk_fund"])
    p.add_argument("--region", required=True, help="chengdu, deyang, mianyang, leshan, ...")
    p.add_argument("--not-whitelisted", dest="whitelisted", action="store_false", default=True,
                   help="create it not whitelisted (default: whitelisted)")
    p.add_argument("--api-key", help="choose the API key (default: generated)")
    p.add_argument("--api-secret", help="choose the API secret (default: generated)")

    # account
    s = group("account", "cash and holdings: fund, get", ["accounts"])
    p = cmd(s, "fund", c_account_fund, "credit money that arrived by bank transfer",
            "ipxctl account fund P-3 500000.00        # 500,000.00 CNY\n"
            "ipxctl account fund P-3 50000000         # plain integer: fen = 500,000.00 CNY",
            who="the admin")
    p.add_argument("participant", help="participant id, e.g. P-3")
    p.add_argument("amount", type=money, help="amount (1234.56 = yuan, 123456 = fen)")
    p = cmd(s, "get", c_account_get, "show cash available, cash held and positions",
            "ipxctl account get            # your own\nipxctl account get P-3        # operator: anyone's",
            who="yourself; the admin or an operator: anyone", aliases=["show"])
    p.add_argument("participant", nargs="?", help="participant id (default: you)")

    # assets
    s = group("assets", "register patents, trademarks, copyrights", ["asset"])
    p = cmd(s, "register", c_assets_register, "register an asset (an IP right) and its valuation",
            "ipxctl assets register CN2020100001.X --kind invention_patent --title 'Battery' \\\n"
            "    --owner P-2 --region chengdu --industry energy_chemical --valuation 3000000.00 \\\n"
            "    --expires 2040-01-01",
            who="an operator; a trader for its own assets")
    p.add_argument("asset_id", help="e.g. the patent number, 1-64 characters")
    p.add_argument("--kind", required=True, choices=["invention_patent", "utility_model",
                                                      "design_patent", "trademark", "copyright",
                                                      "software_copyright"])
    p.add_argument("--title", required=True)
    p.add_argument("--owner", required=True, help="owner participant id")
    p.add_argument("--region", required=True)
    p.add_argument("--industry", required=True, choices=[
        "electronic_information", "equipment_manufacturing", "food_light_textile",
        "advanced_materials", "energy_chemical", "medicine_health", "other"])
    p.add_argument("--valuation", required=True, type=money, help="appraised value")
    p.add_argument("--expires", required=True, type=when, help="expiry of the right (time)")
    p.add_argument("--co-owner", action="append", metavar="PARTICIPANT", help="repeatable")
    p.add_argument("--legal-status", help="e.g. valid")
    p.add_argument("--valuation-date", type=when, help="date of the appraisal (default now)")

    # pledges
    s = group("pledges", "register pledges, consent to listings", ["pledge"])
    p = cmd(s, "register", c_pledges_register, "register a pledge (the bank's claim on an asset)",
            "ipxctl pledges register CN2020100001.X --loan 1000000.00 --interest 10000.00 \\\n"
            "    --registration-no R-2024-001          # as the bank (pledgee = you)",
            who="an operator or a bank")
    p.add_argument("asset_id")
    p.add_argument("--pledgee", help="the bank's participant id (default: you, if a bank)")
    p.add_argument("--loan", required=True, type=money, help="loan outstanding")
    p.add_argument("--registration-no", required=True, help="the pledge registration number")
    p.add_argument("--interest", type=money)
    p.add_argument("--penalties", type=money)
    p.add_argument("--costs", type=money, help="realisation costs")
    p.add_argument("--pledgor", help="default: the asset's owner")
    p = cmd(s, "consent", c_pledges_consent,
            "consent to the owner listing or licensing a pledged asset (rule 13)",
            "ipxctl pledges consent CN2020100001.X", who="the pledgee bank")
    p.add_argument("asset_id")

    # disposals
    s = group("disposals", "disposal cases: open, show, list", ["disposal", "cases"])
    p = cmd(s, "open", c_disposals_open,
            "open a disposal case for pledged assets; round 1's auction is scheduled at once",
            "ipxctl disposals open CN2020100001.X --pledgor P-2 --valuation 3000000.00\n"
            "ipxctl disposals open CN1 CN2 --pledgor P-2 --valuation 5000000.00 --notice 15d \\\n"
            "    --risk-fund P-9:50%",
            who="an operator or the pledgee bank")
    p.add_argument("assets", nargs="+", metavar="ASSET")
    p.add_argument("--pledgee", help="default: you, if a bank")
    p.add_argument("--pledgor", required=True, help="the debtor who pledged the assets")
    p.add_argument("--valuation", required=True, type=money)
    g = p.add_argument_group("plan (defaults: online regime, start 70%% of valuation, deposit 10%% "
                             "of start, 30d notice, 24h bidding, round 2 cut 20%%, 60d sell-off)")
    g.add_argument("--regime", choices=["online", "traditional"])
    g.add_argument("--start", type=bp, metavar="SHARE", help="round-1 start, share of valuation")
    g.add_argument("--deposit", type=bp, metavar="SHARE", help="deposit, share of start")
    g.add_argument("--cut", type=bp, metavar="SHARE", help="cut per round")
    g.add_argument("--notice", type=duration, metavar="DUR", help="announcement before round 1")
    g.add_argument("--renotice", type=duration, metavar="DUR", help="notice of later rounds")
    g.add_argument("--bidding", type=duration, metavar="DUR", help="bidding period")
    g.add_argument("--sell-off", type=duration, metavar="DUR", help="sell-off period")
    g.add_argument("--payment", type=duration, metavar="DUR", help="payment due after close")
    g.add_argument("--extend-window", type=duration, metavar="DUR", help="soft-close window")
    g.add_argument("--extend-by", type=duration, metavar="DUR", help="soft-close extension")
    g.add_argument("--after-sell-off", choices=["in_lieu", "release"])
    g.add_argument("--risk-fund", type=fund_share, metavar="P:SHARE",
                   help="risk fund and its share of a shortfall, e.g. P-9:50%%")
    p = cmd(s, "show", c_disposals_show, "a case: state, rounds, recovery, timeline",
            "ipxctl disposals show C-1", who="an operator or the case's bank", aliases=["get"])
    p.add_argument("case_id")
    p = cmd(s, "list", c_disposals_list, "list disposal cases (a bank sees its own)",
            "ipxctl disposals list\nipxctl disposals list --state settlement",
            who="an operator or a bank", aliases=["ls"])
    p.add_argument("--state", choices=["round_1", "round_2", "round_3", "sell_off", "settlement",
                                       "closed"])

    # auctions
    s = group("auctions", "auctions: create, show, list, register, bid, proxy, accept, cancel",
              ["auction"])
    p = cmd(s, "create", c_auctions_create, "create an auction (disposal rounds are created by "
            "`disposals open`)",
            "ipxctl auctions create CN2020100001.X --start 500000.00 --closes +7d\n"
            "ipxctl auctions create CN1 --format dutch --start 800000.00 --closes +2d \\\n"
            "    --dutch-decrement 10000.00 --dutch-interval 1h --dutch-floor 400000.00",
            who="an operator; a trader for its own assets")
    p.add_argument("lot", nargs="+", metavar="ASSET")
    p.add_argument("--purpose", default="transfer",
                   choices=["transfer", "exclusive_licence", "sole_licence", "disposal"])
    p.add_argument("--format", default="english",
                   choices=["english", "dutch", "sealed_first", "sealed_second", "fixed_price"])
    p.add_argument("--start", required=True, type=money, help="start price")
    p.add_argument("--increment", type=money,
                   help="default: 2%%/1%%/0.5%% of start by tier, whole yuan")
    p.add_argument("--deposit", type=money, help="default: 10%% of start, whole yuan")
    p.add_argument("--opens", type=when, help="default: now")
    p.add_argument("--closes", required=True, type=when)
    p.add_argument("--reserve", type=money)
    p.add_argument("--extend-window", type=duration, metavar="DUR", help="soft close (none by default)")
    p.add_argument("--extend-by", type=duration, metavar="DUR")
    p.add_argument("--dutch-decrement", type=money)
    p.add_argument("--dutch-interval", type=duration, metavar="DUR")
    p.add_argument("--dutch-floor", type=money)
    p.add_argument("--licence-kind", choices=["exclusive", "sole", "non_exclusive"])
    p.add_argument("--territory", action="append", metavar="REGION", help="repeatable; default cn")
    p.add_argument("--field", help="field of use (default all)")
    p.add_argument("--term-months", type=pos_int)
    p.add_argument("--royalty", type=bp, metavar="SHARE")
    p.add_argument("--priority", action="append", type=holder, metavar="P:RANK",
                   help="priority purchase right holder, repeatable (rank 1 highest)")
    p.add_argument("--buyer-premium", type=bp, metavar="SHARE")
    p.add_argument("--seller-commission", type=bp, metavar="SHARE")
    p.add_argument("--payment", type=duration, metavar="DUR", help="payment due (default 10d)")
    p = cmd(s, "show", c_auctions_show, "an auction: state, price, bids, leader, min next bid",
            "ipxctl auctions show A-1", who="anyone logged in", aliases=["get"])
    p.add_argument("auction_id")
    p = cmd(s, "list", c_auctions_list, "list auctions", "ipxctl auctions list --state open",
            who="anyone logged in", aliases=["ls"])
    p.add_argument("--state", choices=["scheduled", "open", "sold", "unsold", "cancelled"])
    p = cmd(s, "register", c_auctions_register,
            "register to bid: holds the deposit, gives your bidder code",
            "ipxctl auctions register A-1", who="a trader or a backstop buyer")
    p.add_argument("auction_id")
    p = cmd(s, "bid", c_auctions_bid, "bid (English: start + k × increment; `min` = the minimum "
            "next bid)", "ipxctl auctions bid A-1 min\nipxctl auctions bid A-1 2110500.00",
            who="a registered bidder")
    p.add_argument("auction_id")
    p.add_argument("amount", help="amount (1234.56 = yuan, 123456 = fen), or `min`")
    p = cmd(s, "proxy", c_auctions_proxy, "leave a proxy bid: the server bids for you up to MAX",
            "ipxctl auctions proxy A-1 2500000.00", who="a registered bidder")
    p.add_argument("auction_id")
    p.add_argument("max_amount", type=money, metavar="MAX")
    p = cmd(s, "accept", c_auctions_accept, "accept a Dutch auction's current price",
            "ipxctl auctions accept A-4", who="a registered bidder")
    p.add_argument("auction_id")
    p = cmd(s, "cancel", c_auctions_cancel, "cancel an auction before any bid (deposits released)",
            "ipxctl auctions cancel A-4 --reason 'court order'", who="an operator")
    p.add_argument("auction_id")
    p.add_argument("--reason", required=True)

    # settlements
    s = group("settlements", "settlements: show, pay, confirm, fail", ["settlement"])
    p = cmd(s, "show", c_settlements_show, "a settlement: price, amount due, due date, transfers",
            "ipxctl settlements show S-1", who="its parties, an operator", aliases=["get"])
    p.add_argument("settlement_id")
    p = cmd(s, "pay", c_settlements_pay,
            "pay: moves price + buyer's premium - deposit into escrow",
            "ipxctl settlements pay S-1", who="the buyer")
    p.add_argument("settlement_id")
    p = cmd(s, "confirm", c_settlements_confirm,
            "confirm the title registration: releases escrow to the pledgee and the pledgor",
            "ipxctl settlements confirm S-1 --registration-no CNIPA-2026-0042", who="an operator")
    p.add_argument("settlement_id")
    p.add_argument("--registration-no", required=True, help="the assignment's registration number")
    p = cmd(s, "fail", c_settlements_fail, "fail a settlement (e.g. registration refused)",
            "ipxctl settlements fail S-1 --reason 'registration refused'", who="an operator")
    p.add_argument("settlement_id")
    p.add_argument("--reason", required=True)

    # markets
    s = group("markets", "licence-unit markets: create, show, issue", ["market"])
    p = cmd(s, "create", c_markets_create, "open a market in non-exclusive licence units of an asset",
            "ipxctl markets create M-BATT --asset CN2020100001.X --term-months 24 --tick 1.00 \\\n"
            "    --min-qty 1 --territory chengdu --field 'energy storage'",
            who="an operator or the asset's owner")
    p.add_argument("market_id")
    p.add_argument("--asset", required=True)
    p.add_argument("--tick", required=True, type=money, help="price step")
    p.add_argument("--min-qty", required=True, type=pos_int, help="the lot size")
    p.add_argument("--term-months", required=True, type=pos_int)
    p.add_argument("--territory", action="append", metavar="REGION", help="repeatable; default cn")
    p.add_argument("--field")
    p.add_argument("--royalty", type=bp, metavar="SHARE")
    p.add_argument("--maker-fee", type=bp, metavar="SHARE")
    p.add_argument("--taker-fee", type=bp, metavar="SHARE")
    p = cmd(s, "show", c_markets_show, "a market", "ipxctl markets show M-BATT",
            who="anyone logged in", aliases=["get"])
    p.add_argument("market_id")
    p = cmd(s, "issue", c_markets_issue, "issue licence units to yourself (the licensor)",
            "ipxctl markets issue M-BATT 100", who="the licensor")
    p.add_argument("market_id")
    p.add_argument("qty", type=pos_int)

    # orders
    s = group("orders", "orders in licence markets: place, cancel", ["order"])
    p = cmd(s, "place", c_orders_place, "place an order (limit with --price, else market IOC)",
            "ipxctl orders place M-BATT buy 10 --price 120.00\n"
            "ipxctl orders place M-BATT sell 5 --type market --tif fok", who="a trader")
    p.add_argument("market_id")
    p.add_argument("side", choices=["buy", "sell"])
    p.add_argument("qty", type=pos_int)
    p.add_argument("--price", type=money, help="limit price per unit")
    p.add_argument("--type", choices=["limit", "market"])
    p.add_argument("--tif", choices=["gtc", "ioc", "fok", "gtd"],
                   help="default gtc (limit), ioc (market)")
    p.add_argument("--expire", type=when, help="for --tif gtd")
    p.add_argument("--post-only", action="store_true")
    p.add_argument("--stp", choices=["cancel_incoming", "cancel_resting", "cancel_both", "reject"])
    p.add_argument("--client-order-id", help="your id for the order (default: generated)")
    p = cmd(s, "cancel", c_orders_cancel, "cancel an order",
            "ipxctl orders cancel M-BATT O-17\nipxctl orders cancel M-BATT --client-order-id my-1",
            who="the order's owner")
    p.add_argument("market_id")
    p.add_argument("order_id", nargs="?")
    p.add_argument("--client-order-id")

    # backstop
    s = group("backstop", "standing offers of a backstop buyer (rule 11)")
    p = cmd(s, "offer", c_backstop_offer, "post a standing offer for unsold sell-offs",
            "ipxctl backstop offer --price 40% --max-amount 10000000.00 --region chengdu",
            who="a backstop buyer")
    p.add_argument("--price", required=True, type=bp, metavar="SHARE",
                   help="price as a share of the case's valuation")
    p.add_argument("--max-amount", required=True, type=money, help="total over all purchases")
    p.add_argument("--region", action="append", help="repeatable")
    p.add_argument("--industry", action="append", help="repeatable")
    p.add_argument("--expires", type=when)

    # reports
    s = group("reports", "the bank asset manager's disposal report", ["report"])
    p = cmd(s, "disposals", c_reports_disposals,
            "per case and by bank, region, industry, month: claim, hammer, net to bank, recovery, "
            "discount, rounds, days; --csv for spreadsheets (raw values: money in fen)",
            "ipxctl reports disposals\nipxctl reports disposals --csv > cases.csv\n"
            "ipxctl reports disposals --by region --csv",
            who="an operator; a bank (its own cases)")
    p.add_argument("--from", dest="since", type=when, help="cases opened from (time)")
    p.add_argument("--to", dest="until", type=when, help="cases opened before (time)")
    p.add_argument("--region")
    p.add_argument("--bank", help="one bank's cases (operator)")
    p.add_argument("--by", choices=["bank", "region", "industry", "month"],
                   help="only the aggregate by this dimension")
    p.add_argument("--csv", action="store_true", help="CSV (money in fen, as in --json)")

    # time
    s = group("time", "engine time: now, advance (manual clock)")
    cmd(s, "now", c_time_now, "the engine's time and the server's wall clock (no login needed)",
        "ipxctl time now")
    p = cmd(s, "advance", c_time_advance,
            "move a manual engine clock forward; every timer due fires first",
            "ipxctl time advance 30d\nipxctl time advance 1d2h", who="the admin, manual clock")
    p.add_argument("by", type=duration, metavar="DURATION", help="30d, 2h, 5m, or ms")

    # watch
    p = groups.add_parser("watch", help="a live stream of pushes, one line each",
                          formatter_class=Fmt,
                          description="subscribe to channels and print each push on one line "
                          "until Ctrl-C (or --count pushes, or --for a time).\n\nchannels: "
                          "auction.<id>, disposal.<case_id>, book.<market>, trades.<market>, "
                          "private",
                          epilog="example:\n  ipxctl watch auction.A-1 private\n"
                          "  ipxctl watch disposal.C-1 --count 5 --json")
    p.set_defaults(fn=c_watch)
    common(p, False)
    p.add_argument("channels", nargs="+", metavar="CHANNEL")
    p.add_argument("--count", type=pos_int, metavar="N", help="stop after N pushes")
    p.add_argument("--for", dest="for_", type=duration, metavar="DUR",
                   help="stop after this long (wall clock)")

    # journal / ledger
    for name, sub_name, tool, text in (
            ("journal", "verify", "ipx-journal", "verify the journal's hash chain"),
            ("ledger", "reconcile", "ipx-ledger",
             "reconcile the ledger in the database with a replay of the journal")):
        s = group(name, text)
        p = cmd(s, sub_name, None, text + f" (runs build/release/tools/{tool} {sub_name} --pg ...)",
                f"ipxctl {name} {sub_name} --pg \"$IPX_PG\"")
        p.set_defaults(tool=(tool, sub_name))
        p.add_argument("--pg", help="PostgreSQL conninfo (env IPX_PG)")
        p.add_argument("extra", nargs=argparse.REMAINDER, help=f"more arguments for {tool}")
    return top


# --------------------------------------------------------------------------------- running
def say_error(a, code, message, advice, method=None):
    if getattr(a, "json", False):
        print(json.dumps({"error": {"code": code, "message": message, "method": method}},
                         ensure_ascii=False))
    line = f"ipxctl: {code}: {message}" if message else f"ipxctl: {code}"
    print(line, file=sys.stderr)
    if advice:
        print(f"  what to do: {advice}", file=sys.stderr)


async def run(a):
    ctx = Ctx(a)
    try:
        result, text = await a.fn(ctx, a)
    finally:
        await ctx.close()
    if a.fn is c_watch:
        return EXIT_OK
    if a.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    elif text is not None:
        print(text)
    return EXIT_OK


def main(argv):
    parser = build_parser()
    a = parser.parse_args(argv)
    if getattr(a, "tool", None):
        try:
            return run_tool(a.tool[0], a.tool[1], a)
        except UsageError as e:
            print(f"ipxctl: {e}", file=sys.stderr)
            return EXIT_USAGE
    try:
        return asyncio.run(run(a))
    except BrokenPipeError:  # `ipxctl ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_OK if a.fn is c_watch else 130
    except ProtocolError as e:
        say_error(a, e.code, e.message, hint(e.method, e.code), e.method)
        return EXIT_PROTOCOL
    except UsageError as e:
        say_error(a, "USAGE", str(e), None)
        return EXIT_USAGE
    except ConnectError as e:
        say_error(a, "CONNECTION", str(e),
                  "is the server running? Start one with `tools/ipx serve` (it prints its URL), "
                  "or point ipxctl at yours with --url or IPX_URL")
        return EXIT_CONNECT
