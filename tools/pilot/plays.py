"""Bidders at work in one auction: when each arrives, what it is willing to pay, how it bids.

A Play is one auction (a disposal round, a sell-off, a transfer listing) and the bidders
interested in it. Bidders register when they arrive (the deposit is held), then bid by their
style: `proxy` (a proxy bid at their valuation, the engine bids for them), `steady` (the
minimum next bid now and then, always near the close), `jumper` (jump bids early), `sniper`
(only in the last five minutes, which extends the close), `priority` (a co-owner with rule 6
priority: it matches the standing high bid, which wins the tie), `passive` (registers, never
bids: its valuation is below the start), `barred` (a defaulter trying to come back).
"""
from ipxclient import ProtocolError
from world import HOUR, MINUTE

EARLY, LATE, SNIPE = "early", "late", "snipe"
RETRYABLE = {"BID_TOO_LOW", "ALREADY_LEADING", "BAD_PRICE"}


class Entry:
    def __init__(self, actor, value, style, arrive):
        self.actor = actor
        self.value = value
        self.style = style
        self.arrive = arrive
        self.code = None
        self.out = False
        self.proxy_set = False
        self.refused = None  # the error code a registration got (barred bidders)


class Play:
    def __init__(self, pilot, auction, kind, rng, case=None, label=""):
        self.pilot = pilot
        self.kind = kind  # auction | sell_off | listing
        self.rng = rng
        self.case = case
        self.label = label
        self.entries = []
        self.id = auction["auction_id"]
        self.finished = False
        self.ties = []  # (bidder code, amount) of priority matches that took the lead
        self.extensions = 0
        self.load(auction)

    def load(self, a):
        self.state = a["state"]
        self.format = a["format"]
        self.start = a["start_price"]
        self.increment = a["increment"]
        self.opens_at = a["opens_at"]
        self.closes_at = a["closes_at"]
        self.price = a["price"]
        self.leader = a["leader"]
        self.min_next = a["min_next_bid"]
        self.bids = a["bids"]
        self.winner = a.get("winner")
        self.settlement_id = a.get("settlement_id")

    def grid_floor(self, amount):
        if amount < self.start:
            return None
        return self.start + (amount - self.start) // self.increment * self.increment

    def add(self, actor, value, style, arrive):
        e = Entry(actor, value, style, arrive)
        self.entries.append(e)
        return e

    async def refresh(self):
        self.load(await self.pilot.call(self.pilot.operator, "auction.get", auction_id=self.id))

    def next_points(self, now):
        if self.finished or self.state in ("sold", "unsold", "cancelled"):
            return []
        if self.state == "scheduled":
            return [self.opens_at]
        pts = [e.arrive for e in self.entries if not e.out and e.arrive > now]
        bidding = self.format == "english" and any(not e.out and e.style not in ("passive", "barred") for e in self.entries)
        if bidding and (self.kind != "sell_off" or self.bids > 0):
            span = self.closes_at - self.opens_at
            if span <= 2 * 24 * HOUR:
                pts += [self.opens_at + k * 4 * HOUR for k in range(1, 6)]
            pts += [self.closes_at - 30 * MINUTE, self.closes_at - 4 * MINUTE]
        pts.append(self.closes_at)
        return [p for p in pts if now < p <= self.closes_at]

    def phase(self, now):
        left = self.closes_at - now
        if left <= 5 * MINUTE:
            return SNIPE
        if left <= 30 * MINUTE:
            return LATE
        return EARLY

    def decide(self, e, phase):
        rng = self.rng
        if e.style == "priority":
            if phase == EARLY and rng.random() > 0.3:
                return None
            if self.price is None:
                return self.start if self.start <= e.value else None
            return self.price if self.price <= e.value else None
        mn = self.min_next
        if mn is None or mn > e.value:
            return None
        if e.style == "proxy":
            return None if e.proxy_set else self.grid_floor(e.value)
        if e.style == "steady":
            return mn if phase != EARLY or rng.random() < 0.5 else None
        if e.style == "jumper":
            if phase == EARLY:
                if rng.random() >= 0.4:
                    return None
                return min(mn + rng.randint(1, 4) * self.increment, self.grid_floor(e.value))
            return mn
        if e.style == "sniper":
            return mn if phase == SNIPE or (phase == LATE and rng.random() < 0.2) else None
        return None

    async def register(self, e):
        try:
            r = await self.pilot.call(e.actor, "auction.register", auction_id=self.id,
                                      expect={"NOT_QUALIFIED"} if e.style == "barred" else None)
            e.code = r["bidder_code"]
            self.pilot.codes[(self.id, e.code)] = e.actor
        except ProtocolError as err:
            e.refused = err.code
            e.out = True
            if e.style != "barred":
                self.pilot.fail(f"{self.id}: {e.actor.name} could not register: {err}")

    async def act(self, now):
        """Everyone who has arrived does what its style says at this moment."""
        if self.finished or self.state != "open" or now >= self.closes_at:
            return
        arrived = [e for e in self.entries if not e.out and e.arrive <= now]
        for e in arrived:
            if e.code is None:
                await self.register(e)
        if self.format != "english":
            return  # a fixed-price listing: registering is the intent to buy
        phase = self.phase(now)
        passes = 3 if phase == LATE else 1
        for _ in range(passes):
            acted = False
            order = [e for e in arrived if not e.out and e.code and e.style not in ("passive", "barred")]
            self.rng.shuffle(order)
            for e in order:
                if self.leader == e.code:
                    continue
                amount = self.decide(e, phase)
                if amount is None:
                    continue
                if await self.bid(e, amount, now):
                    acted = True
                if self.state != "open":
                    return
            if not acted:
                break

    async def bid(self, e, amount, now):
        tie = e.style == "priority" and self.price is not None and amount == self.price
        method = "auction.proxy" if e.style == "proxy" else "auction.bid"
        params = {"max_amount": amount} if e.style == "proxy" else {"amount": amount}
        try:
            r = await self.pilot.call(e.actor, method, auction_id=self.id, expect=RETRYABLE | {"AUCTION_CLOSED"}, **params)
        except ProtocolError as err:
            if err.code == "AUCTION_CLOSED":
                await self.refresh()
            elif err.code in RETRYABLE:
                await self.refresh()
            return False
        if e.style == "proxy":
            e.proxy_set = True
        if r["closes_at"] > self.closes_at:
            self.extensions += 1
        self.closes_at = r["closes_at"]
        self.leader = r["leader"]
        self.min_next = r["min_next_bid"]
        self.price = None if self.min_next is None else self.min_next - self.increment
        if self.leader == e.code and e.style != "proxy":
            self.price = amount
        if tie and self.leader == e.code:
            self.ties.append((e.code, amount))
        return True
