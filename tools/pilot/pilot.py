#!/usr/bin/python3
"""The pilot demo (tools/run.sh runs it against a fresh ipxd on a manual clock).

Sets up the pilot's participants, collateral and loans, opens the disposal cases, lets the
bidders bid, pays and confirms what sells, runs a cross-region transfer listing and a
licence-unit market, moving the engine clock with time.advance from one moment that
matters to the next. Then prints the bank report (from report.disposals) and the
reconciliation, checks the scenario did what it should, and exits non-zero if not.

    pilot.py --url ws://127.0.0.1:8080/v1/ws --admin-key admin --admin-secret S [--seed N]
             [--pg CONNINFO] [--ledger-tool PATH] [--quiet]
"""
import argparse
import asyncio
import heapq
import itertools
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))

from ipxclient import Client, ProtocolError  # noqa: E402
from plays import Play  # noqa: E402
from progress import Progress, sim_date  # noqa: E402
import report  # noqa: E402
from world import DAY, HOUR, MINUTE, YUAN, INDUSTRIES, REGIONS, World  # noqa: E402

MAX_SIM_DAYS = 400
MARKET_ID = "LU-XINHE-RF-CN"


class Actor:
    def __init__(self, spec, pid, key=None, secret=None):
        self.spec = spec
        self.name = spec["name"]
        self.region = spec["region"]
        self.kind = spec["kind"]
        self.id = pid
        self.key = key
        self.secret = secret
        self.conn = None

    def __repr__(self):
        return f"{self.id} {self.name}"


class Case:
    def __init__(self, patent, bank, pledgor, co_owner):
        self.patent = patent
        self.fate = patent["fate"]
        self.bank = bank
        self.pledgor = pledgor
        self.co_owner = co_owner
        self.id = None
        self.state = "pending"
        self.info = None
        self.flaky = None  # the winner who will not pay (the default case)
        self.attempts = {}


class Pilot:
    def __init__(self, args):
        self.args = args
        self.url = args.url
        self.world = World(args.seed)
        self.rng = random.Random(f"pilot:{args.seed}")
        self.failures = []
        self.unexpected = []
        self.events = []
        self.event_seq = itertools.count()
        self.plays = {}
        self.codes = {}
        self.cases = []
        self.case_by_id = {}
        self.actors = {}
        self.settlements = {}  # id -> what we did: pay/confirm/default
        self.total_funded = 0
        self.requests = 0
        self.trades = 0
        self.trade_units = 0
        self.trade_value = 0
        self.orders = 0
        self.open_orders = {}
        self.order_n = itertools.count(1)
        self.listing = None
        self.market_mid = 8_300 * YUAN
        self.barred_refusals = []
        self.now = 0
        self.started = time.monotonic()
        self.progress = None
        self.steps = 0
        self.profile = {}

    # ---- plumbing -------------------------------------------------------------------------
    def fail(self, msg):
        self.failures.append(msg)
        if self.progress:
            self.progress.message(f"pilot: FAILED: {msg}")

    def say(self, msg):
        if self.progress:
            self.progress.message(f"  {sim_date(self.now)}  {msg}")

    async def call(self, actor, method, expect=None, **params):
        """A request as `actor`; errors it does not expect are recorded as failures."""
        for attempt in range(20):
            self.requests += 1
            t = time.monotonic()
            try:
                return await actor.conn.call(method, **params)
            except ProtocolError as e:
                if e.code in ("UNAVAILABLE", "RATE_LIMITED") and attempt < 19:
                    await asyncio.sleep(0.05 * (attempt + 1))
                    continue
                if not expect or e.code not in expect:
                    self.unexpected.append(f"{method} {params} as {actor.name}: {e.code} {e.message}")
                    if self.progress:
                        self.progress.message(f"pilot: unexpected {e.code} from {method} as {actor.name}: {e.message}")
                raise
            finally:
                prof = self.profile.setdefault(method, [0, 0.0])
                prof[0] += 1
                prof[1] += time.monotonic() - t
        raise AssertionError("unreachable")

    async def connect(self, actor):
        actor.conn = await Client.connect(self.url)
        await actor.conn.login(actor.key, actor.secret)

    def at(self, t, fn, *args):
        heapq.heappush(self.events, (t, next(self.event_seq), fn, args))

    def business_time(self, day_ms, rng=None):
        """A moment on that day between 09:00 and 17:00 Beijing time."""
        rng = rng or self.rng
        base = day_ms - (day_ms + 8 * HOUR) % DAY  # local midnight
        return base + 9 * HOUR + rng.randrange(0, 8 * 60) * MINUTE

    # ---- setup ----------------------------------------------------------------------------
    async def create(self, spec, fund=0):
        r = await self.call(self.admin, "participant.create", name=spec["name"], kind=spec["kind"],
                            region=spec["region"], whitelisted=True)
        a = Actor(spec, r["participant_id"], r["api_key"], r["api_secret"])
        self.actors[a.id] = a
        if fund:
            await self.call(self.admin, "account.fund", participant_id=a.id, amount=fund)
            self.total_funded += fund
        return a

    async def setup(self):
        w = self.world
        self.admin = Actor({"name": "admin", "region": "chengdu", "kind": "admin"}, None,
                           self.args.admin_key, self.args.admin_secret)
        await self.connect(self.admin)
        self.now = (await self.admin.conn.call("time.now"))["now"]
        self.t0 = self.now
        self.operator = await self.create(w.operator)
        self.banks = [await self.create(b) for b in w.banks]
        self.backstop = await self.create(w.backstop, w.backstop["funding"])
        self.fund = await self.create(w.risk_fund, w.risk_fund["funding"])
        self.pledgors = [await self.create(p) for p in w.pledgors]
        self.co_owners = [await self.create(c, c["funding"]) for c in w.co_owners]
        self.bidders = [await self.create(b, b["funding"]) for b in w.bidders]
        self.licensor = await self.create(w.licensor, w.licensor["funding"])
        self.lister = await self.create(w.lister, w.lister["funding"])
        for a in [self.operator, *self.banks, self.backstop, self.fund, *self.co_owners, *self.bidders,
                  self.licensor, self.lister]:
            await self.connect(a)
        self.say(f"{len(self.actors)} participants: {len(self.banks)} banks, a backstop buyer, a risk fund, "
                 f"{len(self.pledgors)} pledgors, {len(self.co_owners)} co-owners, {len(self.bidders)} bidders")

        # Collateral: the operator registers the patents, the banks their pledges.
        for p in w.patents:
            bank = self.banks[p["bank"]]
            pledgor = self.pledgors[p["pledgor"]]
            co = self.co_owners[p["co_owner"]] if p["co_owner"] is not None else None
            params = dict(asset_id=p["asset_id"], kind=p["kind"], title=p["title"], owner=pledgor.id,
                          region=p["region"], industry=p["industry"], valuation=p["valuation"],
                          expires_at=p["expires_at"])
            if co:
                params["co_owners"] = [co.id]
            await self.call(self.operator, "asset.register", **params)
            await self.call(bank, "pledge.register", asset_id=p["asset_id"], pledgee=bank.id,
                            loan_outstanding=p["loan"], interest=p["interest"], penalties=p["penalties"],
                            costs=p["costs"], registration_no=f"Y{2021 + len(self.cases) % 4}5100{10000 + len(self.cases) * 37}")
            case = Case(p, bank, pledgor, co)
            self.cases.append(case)
            self.at(self.business_time(self.t0 + int(p["open_day"]) * DAY, random.Random(p["asset_id"])),
                    self.open_case, case)
        self.say(f"{len(w.patents)} pledged patents registered, valued "
                 f"{sum(p['valuation'] for p in w.patents) / YUAN / 1e6:.1f}M CNY, loans "
                 f"{sum(p['loan'] for p in w.patents) / YUAN / 1e6:.1f}M CNY")

        # The backstop buyer's standing offers (rule 11).
        o1 = await self.call(self.backstop, "backstop.offer", price_bp=3000, max_amount=12_000_000 * YUAN,
                             industries=["advanced_materials", "equipment_manufacturing"], regions=REGIONS)
        o2 = await self.call(self.backstop, "backstop.offer", price_bp=2500, max_amount=6_000_000 * YUAN,
                             industries=["electronic_information", "medicine_health"], regions=["chengdu", "mianyang"])
        self.say(f"backstop offers {o1['offer_id']} (30% of valuation, advanced materials and equipment) and "
                 f"{o2['offer_id']} (25%, electronics and medicine in chengdu and mianyang)")
        self.at(self.t0 + DAY + 2 * HOUR, self.open_market)
        self.at(self.t0 + 3 * DAY + 3 * HOUR, self.open_listing)

    # ---- disposal cases -------------------------------------------------------------------
    async def open_case(self, case):
        plan = {"risk_fund": {"participant_id": self.fund.id, "share_bp": self.world.banks[case.patent["bank"]]["share_bp"]}}
        r = await self.call(case.bank, "disposal.open", assets=[case.patent["asset_id"]], pledgee=case.bank.id,
                            pledgor=case.pledgor.id, valuation=case.patent["valuation"], plan=plan)
        case.id = r["case_id"]
        case.state = r["state"]
        self.case_by_id[case.id] = case
        await self.track_rounds(case, r)

    async def track_rounds(self, case, info):
        was = case.state
        case.info = info
        case.state = info["state"]
        if case.state == "closed" and was != "closed":
            rec = info["recovery"]
            fund = f", risk fund pays {rec['fund_share'] / YUAN:,.0f} CNY" if rec["fund_share"] else ""
            self.say(f"{case.id} closed ({info['outcome']}): claim {info['claim'] / YUAN:,.0f} CNY, "
                     f"bank recovers {rec['recovery_rate'] * 100:.1f}%{fund}")
        for i, rd in enumerate(info["rounds"]):
            if rd["auction_id"] in self.plays:
                continue
            key = (rd["round"], rd["kind"])
            attempt = case.attempts.get(key, 0)
            case.attempts[key] = attempt + 1
            a = await self.call(self.operator, "auction.get", auction_id=rd["auction_id"])
            rng = random.Random(f"{self.args.seed}:{case.patent['asset_id']}:{rd['round']}:{rd['kind']}:{attempt}")
            label = f"{case.id} sell-off" if rd["kind"] == "sell_off" else f"{case.id} round {rd['round']}"
            if attempt:
                label += " (re-run)"
            play = Play(self, a, rd["kind"], rng, case, label)
            self.cast(case, play, rd, attempt, rng)
            self.plays[play.id] = play
        sid = info.get("settlement_id")
        if info["state"] == "settlement" and sid and sid not in self.settlements:
            await self.handle_settlement(sid)

    def pool(self, industry, exclude=()):
        keen = [b for b in self.bidders if industry in b.spec["interests"] and b not in exclude]
        rest = [b for b in self.bidders if b not in keen and b not in exclude]
        return keen, rest

    def pick(self, rng, industry, n, exclude=()):
        keen, rest = self.pool(industry, exclude)
        rng.shuffle(keen)
        rng.shuffle(rest)
        return (keen + rest)[:n]

    def cast(self, case, play, rd, attempt, rng):
        """Who comes to this round and what each would pay: the case's fate, made by its bidders."""
        V = case.patent["valuation"]
        ind = case.patent["industry"]
        fate = case.fate
        start = play.start
        opens = play.opens_at
        def arrive():
            return opens + rng.randrange(0, 18 * 60) * MINUTE
        def passive(n):
            taken = [case.flaky] + [e.actor for e in play.entries]
            for b in self.pick(rng, ind, n, exclude=taken):
                play.add(b, rng.uniform(0.5, 0.99) * start, "passive", arrive())
        if rd["kind"] == "auction" and rd["round"] == 1:
            if fate in ("r1", "r1_co", "co_tie", "default"):
                exclude = [case.flaky] if case.flaky else []
                chosen = self.pick(rng, ind, rng.randint(3, 7), exclude)
                hi = {"co_tie": 0.86, "r1_co": 1.0}.get(fate, 1.02)
                lo = {"r1_co": 0.8}.get(fate, 0.72)
                vals = []
                for b in chosen:
                    v = int(rng.uniform(lo, hi) * V)
                    vals.append(v)
                    play.add(b, v, b.spec["style"], arrive())
                if fate == "default" and attempt == 0:
                    flaky = self.pick(rng, ind, 1, exclude=chosen)[0]
                    case.flaky = flaky
                    play.add(flaky, int(rng.uniform(1.04, 1.1) * V), "proxy", arrive())
                if fate == "default" and attempt > 0 and case.flaky:
                    play.add(case.flaky, int(1.1 * V), "barred", arrive())
                if fate == "co_tie":
                    play.add(case.co_owner, max(vals) + int(0.03 * V), "priority", arrive())
                if fate == "r1_co":
                    play.add(case.co_owner, int(rng.uniform(0.72, 0.78) * V), "priority", arrive())
                passive(rng.randint(0, 1))
            elif fate in ("r2", "sell_off"):
                passive(rng.randint(0, 2))
        elif rd["kind"] == "auction" and rd["round"] == 2:
            if fate == "r2":
                for b in self.pick(rng, ind, rng.randint(2, 5)):
                    play.add(b, int(rng.uniform(0.575, 0.69) * V), b.spec["style"], arrive())
            elif fate == "sell_off":
                passive(rng.randint(0, 1))
        elif rd["kind"] == "sell_off" and fate == "sell_off":
            first = opens + rng.randint(3, 45) * DAY + rng.randrange(9 * 60, 17 * 60) * MINUTE
            for i, b in enumerate(self.pick(rng, ind, rng.randint(1, 3))):
                t = first if i == 0 else first + rng.randrange(2 * 60, 20 * 60) * MINUTE
                style = b.spec["style"] if i else "steady"
                play.add(b, int(start * rng.uniform(1.0, 1.12)), style, t)

    async def handle_settlement(self, sid):
        s = await self.call(self.operator, "settlement.get", settlement_id=sid)
        case = self.case_by_id.get(s.get("case_id")) if s.get("case_id") else None
        buyer = self.actors[s["buyer"]]
        if s["state"] == "awaiting_payment":
            if case and case.flaky is buyer and "default" not in self.settlements.values():
                self.settlements[sid] = "default"
                self.say(f"{case.id}: {buyer.name} won at {s['price'] / YUAN:,.0f} CNY and will not pay "
                         f"(due {sim_date(s['due_at'])})")
                self.at(s["due_at"], self.nothing)
                return
            self.settlements[sid] = "pay"
            pay_at = self.business_time(self.now + self.rng.randint(1, 7) * DAY)
            pay_at = min(max(pay_at, self.now + HOUR), s["due_at"] - HOUR)
            self.at(pay_at, self.pay, sid, buyer)
        elif s["state"] == "paid":
            self.settlements[sid] = "confirm"
            if case:
                self.say(f"{case.id}: sell-off unsold; {buyer.name} buys at {s['price'] / YUAN:,.0f} CNY "
                         f"under its standing offer")
            self.at(self.business_time(self.now + self.rng.randint(5, 20) * DAY), self.confirm, sid)
        else:
            self.settlements[sid] = s["state"]

    async def nothing(self):
        pass

    async def pay(self, sid, buyer):
        await self.call(buyer, "settlement.pay", settlement_id=sid)
        self.at(self.business_time(self.now + self.rng.randint(5, 20) * DAY), self.confirm, sid)

    async def confirm(self, sid):
        n = 100000 + self.rng.randrange(900000)
        await self.call(self.operator, "settlement.confirm", settlement_id=sid,
                        registration_no=f"CNIPA-ZR-{sim_date(self.now)[:4]}-{n}")
        self.settlements[sid] = "confirmed"

    # ---- the cross-region transfer listing (rule 16) --------------------------------------
    async def open_listing(self):
        asset_id = "ZL201810567329.4"
        await self.call(self.lister, "asset.register", asset_id=asset_id, kind="invention_patent",
                        title="Ku-band solid-state weather radar transmitter", owner=self.lister.id,
                        region="mianyang", industry="electronic_information", valuation=2_600_000 * YUAN,
                        expires_at=2_161_000_000_000)
        start = 1_980_000 * YUAN
        r = await self.call(self.lister, "auction.create", lot=[asset_id], purpose="transfer", format="fixed_price",
                            start_price=start, increment=10_000 * YUAN, deposit=100_000 * YUAN,
                            opens_at=self.now, closes_at=self.now + 28 * DAY)
        a = await self.call(self.operator, "auction.get", auction_id=r["auction_id"])
        rng = random.Random(f"{self.args.seed}:listing")
        play = Play(self, a, "listing", rng, None, "transfer listing")
        buyers = []  # one keen buyer from each of three other regions: a cross-region transfer
        for region in ("chengdu", "leshan", "chongqing"):
            local = [b for b in self.bidders if b.region == region]
            local.sort(key=lambda b: "electronic_information" not in b.spec["interests"])
            buyers.append(local[0])
        for b in buyers[:3]:
            play.add(b, int(start * rng.uniform(1.06, 1.3)), "steady" if b.spec["style"] != "sniper" else "sniper",
                     self.now + rng.randint(2, 20) * DAY)
        self.plays[play.id] = play
        self.listing = play
        self.say(f"{self.lister.name} lists {asset_id} for transfer at {start / YUAN:,.0f} CNY (fixed price, 28 days)")

    # ---- the licence-unit market ----------------------------------------------------------
    async def open_market(self):
        asset_id = "ZL202120345871.2"
        await self.call(self.licensor, "asset.register", asset_id=asset_id, kind="utility_model",
                        title="Sub-6 GHz RF front-end module for IoT terminals", owner=self.licensor.id,
                        region="chengdu", industry="electronic_information", valuation=1_200_000 * YUAN,
                        expires_at=1_940_000_000_000)
        await self.call(self.licensor, "market.create", market_id=MARKET_ID, asset_id=asset_id,
                        licence={"kind": "non_exclusive", "territory": ["cn"], "field": "IoT terminals",
                                 "term_months": 36, "royalty_bp": 150},
                        tick=100 * YUAN, min_qty=1)
        await self.call(self.licensor, "units.issue", market_id=MARKET_ID, qty=600)
        self.market_traders = [b for b in self.bidders if "electronic_information" in b.spec["interests"]][:8]
        self.market_traders += [b for b in self.bidders if b not in self.market_traders][: 10 - len(self.market_traders)]
        self.market_rng = random.Random(f"{self.args.seed}:market")
        await self.quote()
        self.say(f"{self.licensor.name} opens licence-unit market {MARKET_ID} (non-exclusive, all China, 36 months), "
                 f"600 units issued")
        self.at(self.now + 36 * HOUR, self.market_session)

    def tick_price(self, p):
        return max(100 * YUAN, int(p) // (100 * YUAN) * (100 * YUAN))

    async def order(self, actor, **params):
        cid = f"{actor.id}-{next(self.order_n)}"
        r = await self.call(actor, "order.place", market_id=MARKET_ID, client_order_id=cid,
                            expect={"INSUFFICIENT_FUNDS"}, **params)
        self.orders += 1
        for f in r["fills"]:
            self.trades += 1
            self.trade_units += f["qty"]
            self.trade_value += f["qty"] * f["price"]
        if r["status"] in ("open", "partially_filled"):
            self.open_orders.setdefault(actor.id, []).append(r["order_id"])
        return r

    async def quote(self):
        rng = self.market_rng
        acct = await self.call(self.licensor, "account.get")
        free = sum(x["units"] - x["units_held"] for x in acct["positions"] if x.get("market_id") == MARKET_ID)
        if free < 100:
            await self.call(self.licensor, "units.issue", market_id=MARKET_ID, qty=300)
        for i in range(4):
            price = self.tick_price(self.market_mid * (1.01 + 0.012 * i))
            await self.order(self.licensor, side="sell", type="limit", price=price, qty=rng.randint(10, 25), tif="gtc")

    async def market_session(self):
        rng = self.market_rng
        self.market_mid = int(self.market_mid * rng.uniform(0.995, 1.012))
        for trader in rng.sample(self.market_traders, rng.randint(3, 6)):
            roll = rng.random()
            try:
                if roll < 0.45:
                    price = self.tick_price(self.market_mid * rng.uniform(0.97, 1.035))
                    await self.order(trader, side="buy", type="limit", price=price, qty=rng.randint(1, 8), tif="gtc")
                elif roll < 0.65:
                    await self.order(trader, side="buy", type="market", qty=rng.randint(1, 4), tif="ioc")
                elif roll < 0.85:
                    acct = await self.call(trader, "account.get")
                    units = sum(p["units"] - p["units_held"] for p in acct["positions"] if p.get("market_id") == MARKET_ID)
                    if units > 0:
                        price = self.tick_price(self.market_mid * rng.uniform(1.0, 1.05))
                        await self.order(trader, side="sell", type="limit", price=price, qty=rng.randint(1, units), tif="gtc")
                elif self.open_orders.get(trader.id):
                    oid = self.open_orders[trader.id].pop(0)
                    await self.call(trader, "order.cancel", market_id=MARKET_ID, order_id=oid, expect={"INVALID_STATE"})
            except ProtocolError:
                pass
        if rng.random() < 0.35:
            await self.quote()
        if not self.all_cases_closed() and self.now - self.t0 < 200 * DAY:
            self.at(self.now + rng.randint(24, 60) * HOUR, self.market_session)

    # ---- the clock loop -------------------------------------------------------------------
    def all_cases_closed(self):
        return all(c.state == "closed" for c in self.cases)

    def done(self):
        if not self.all_cases_closed():
            return False
        if self.listing is None or not self.listing.finished:
            return False
        return all(v not in ("pay", "confirm") for v in self.settlements.values())

    def case_states(self):
        states = {}
        for c in self.cases:
            if c.state != "pending":
                states[c.state] = states.get(c.state, 0) + 1
        return states

    async def refresh(self):
        # disposal.get per open case, not disposal.list: replies over ~4 KB take ~40 ms each
        # (see the report of this work: Nagle's algorithm and delayed ACKs on the gateway socket).
        live_cases = [c for c in self.cases if c.id and c.state != "closed"]
        # One at a time: pipelined requests on one connection wait ~40 ms for their replies (same cause).
        for case in live_cases:
            await self.track_rounds(case, await self.call(self.operator, "disposal.get", case_id=case.id))
        live = [p for p in self.plays.values() if not p.finished]
        for p in live:
            await p.refresh()
        for p in live:
            if p.state in ("sold", "unsold", "cancelled"):
                p.finished = True
                await self.closed(p)

    async def closed(self, p):
        if p.state == "sold":
            who = self.codes.get((p.id, p.winner))
            tie = " (co-owner's priority, on a tie)" if p.ties and p.ties[-1][0] == p.winner else ""
            self.say(f"{p.label} {p.id}: sold at {p.price / YUAN:,.0f} CNY to "
                     f"{f'{who.name} ({who.region})' if who else p.winner}{tie} "
                     f"after {p.bids} bids" + (f", {p.extensions} extensions" if p.extensions else ""))
            if p.case is None and p.settlement_id and p.settlement_id not in self.settlements:
                await self.handle_settlement(p.settlement_id)
        elif p.case is not None and p.state == "unsold":
            self.say(f"{p.label} {p.id}: unsold at {p.start / YUAN:,.0f} CNY")

    def next_time(self):
        pts = []
        if self.events:
            pts.append(self.events[0][0])
        for p in self.plays.values():
            pts += p.next_points(self.now)
        future = [t for t in pts if t > self.now]
        return min(future) if future else None

    def bids(self):
        return sum(p.bids for p in self.plays.values())

    async def loop(self):
        while True:
            while self.events and self.events[0][0] <= self.now:
                _, _, fn, args = heapq.heappop(self.events)
                await fn(*args)
            await self.refresh()
            await asyncio.gather(*(p.act(self.now) for p in self.plays.values() if p.state == "open" and not p.finished))
            self.progress.update(states=self.case_states(), bids=self.bids(), trades=self.trades, now=self.now)
            if self.done():
                break
            nxt = self.next_time()
            if nxt is None:
                # Nothing scheduled that we know of: cases wait on engine timers (payment due dates,
                # re-notices). Step a day at a time until something shows.
                nxt = self.now + DAY
            if nxt - self.t0 > MAX_SIM_DAYS * DAY:
                self.fail(f"the pilot did not finish within {MAX_SIM_DAYS} simulated days")
                break
            self.steps += 1
            r = await self.call(self.admin, "time.advance", ms=nxt - self.now)
            self.now = r["now"]
        self.progress.update(states=self.case_states(), bids=self.bids(), trades=self.trades, now=self.now)

    async def run(self):
        self.progress = Progress(len(self.world.patents), quiet=self.args.quiet)
        self.now = await self.peek_now()
        self.progress.now = self.now
        self.progress.message(f"ipx pilot: seed {self.args.seed}, engine clock from {sim_date(self.now)} (Beijing time), "
                              f"accelerated with time.advance")
        await self.setup()
        await self.loop()
        self.progress.finish()
        wall = time.monotonic() - self.started
        ok = await report.final(self, wall)
        if os.environ.get("IPX_PILOT_PROFILE"):
            for m, (n, secs) in sorted(self.profile.items(), key=lambda kv: -kv[1][1]):
                print(f"  {m:20s} {n:6d} calls {secs:7.2f} s {secs / n * 1000:7.2f} ms each")
        for a in self.actors.values():
            if a.conn:
                await a.conn.close()
        await self.admin.conn.close()
        return ok

    async def peek_now(self):
        c = await Client.connect(self.url)
        try:
            return (await c.call("time.now"))["now"]
        finally:
            await c.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--admin-key", default="admin")
    ap.add_argument("--admin-secret", required=True)
    ap.add_argument("--seed", type=int, default=20260105)
    ap.add_argument("--pg", default="")
    ap.add_argument("--ledger-tool", default="")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    try:
        ok = asyncio.run(Pilot(args).run())
    except KeyboardInterrupt:
        print("\npilot: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
