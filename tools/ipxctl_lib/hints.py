"""What to do about an error: the protocol code plus advice, by method where it matters."""

WHO = {
    "time.advance": "the admin (and the server must run with --manual-clock)",
    "participant.create": "the admin", "account.fund": "the admin",
    "asset.register": "an operator (or a trader for its own assets)",
    "pledge.register": "an operator or a bank", "pledge.consent": "the pledgee bank",
    "disposal.open": "an operator or the pledgee bank", "disposal.get": "an operator or the case's bank",
    "disposal.list": "an operator or a bank", "auction.create": "an operator (or a trader for its own assets)",
    "auction.cancel": "an operator", "auction.register": "a trader (enterprise, individual) or a backstop buyer",
    "auction.bid": "a registered bidder", "auction.proxy": "a registered bidder",
    "auction.accept": "a registered bidder", "backstop.offer": "a backstop buyer",
    "market.create": "an operator or the asset's owner", "units.issue": "the licensor (the asset's owner)",
    "order.place": "a trader", "order.cancel": "the order's owner",
    "settlement.pay": "the buyer", "settlement.confirm": "an operator", "settlement.fail": "an operator",
    "report.disposals": "an operator or a bank",
}

GENERIC = {
    "BAD_REQUEST": "the server refused the parameters (see the message) — check the command with --help",
    "UNAUTHENTICATED": "log in: set --key/--secret or IPX_KEY/IPX_SECRET",
    "FORBIDDEN": "your role may not do this",
    "NOT_FOUND": "no such object, or it is not yours to see — check the id",
    "DUPLICATE": "it already exists, or this --request-id was used with other parameters — use a new id",
    "INSUFFICIENT_FUNDS": "cash available does not cover it — fund the account (as admin: ipxctl account fund PARTICIPANT AMOUNT)",
    "NOT_QUALIFIED": "register for the auction first (ipxctl auctions register AUCTION); a bidder who defaulted on this case is barred",
    "AUCTION_NOT_OPEN": "the auction has not opened yet — see opens_at in `ipxctl auctions show AUCTION` (with a manual clock, the admin can `ipxctl time advance 30d`)",
    "AUCTION_CLOSED": "bidding has ended — see the result with `ipxctl auctions show AUCTION`",
    "BID_TOO_LOW": "bid at least the minimum next bid (`ipxctl auctions show AUCTION`), or bid it directly: `ipxctl auctions bid AUCTION min`",
    "BAD_PRICE": "not on the grid: auction bids are start + k × increment, order prices a multiple of the market's tick",
    "ALREADY_LEADING": "you already lead; wait to be outbid, or leave a proxy: ipxctl auctions proxy AUCTION MAX",
    "WOULD_CROSS": "a post-only order would trade at once — change the price or drop --post-only",
    "SELF_TRADE": "the order would trade with your own resting order — cancel that first or choose another --stp",
    "INVALID_STATE": "the object is not in a state that allows this — look at it first (ipxctl ... show ID)",
    "RATE_LIMITED": "too many requests — wait a moment and retry",
    "TOO_LARGE": "the request is too large — send less at once",
    "UNAVAILABLE": "the server cannot reach its journal; nothing was applied — retry later (the same --request-id makes a retry safe)",
    "INTERNAL": "a server fault — report it with the server's log; nothing was applied",
}

BY_METHOD = {
    ("auth.login", "UNAUTHENTICATED"): "the key or secret was refused, or this machine's clock is more than 30 s off the server's — check --key/--secret (IPX_KEY/IPX_SECRET); the admin's are the server's IPX_ADMIN_KEY/IPX_ADMIN_SECRET, a participant's come from `ipxctl participants create`",
    ("auction.register", "INSUFFICIENT_FUNDS"): "cash available does not cover the deposit — fund the account (as admin: ipxctl account fund PARTICIPANT AMOUNT)",
    ("auction.register", "DUPLICATE"): "you are already registered for this auction — go ahead and bid (ipxctl auctions bid AUCTION min)",
    ("auction.register", "NOT_QUALIFIED"): "you may not register: barred from this case after a default, or not whitelisted",
    ("auction.register", "AUCTION_CLOSED"): "registration has ended for this auction",
    ("settlement.pay", "INSUFFICIENT_FUNDS"): "cash available does not cover price + buyer's premium − deposit — fund the account (as admin: ipxctl account fund PARTICIPANT AMOUNT)",
    ("settlement.pay", "INVALID_STATE"): "the settlement is not awaiting payment (already paid, confirmed, failed or defaulted) — ipxctl settlements show SETTLEMENT",
    ("settlement.confirm", "INVALID_STATE"): "only a paid settlement can be confirmed — the buyer pays first (ipxctl settlements pay SETTLEMENT)",
    ("order.place", "INSUFFICIENT_FUNDS"): "cash available does not cover price × qty (or the units to sell are not there) — fund the account or reduce the order",
    ("disposal.open", "INVALID_STATE"): "the assets must be pledged to this pledgee and not already in a case — register the pledge first (ipxctl pledges register ...)",
    ("disposal.open", "NOT_FOUND"): "an asset, the pledgee or the pledgor does not exist (or the pledge is another bank's) — check the ids",
    ("time.advance", "FORBIDDEN"): "only the admin may move the clock, and only when the server runs with --manual-clock",
    ("time.advance", "INVALID_STATE"): "the server runs on the real clock; start it with --manual-clock to move time",
    ("auction.cancel", "INVALID_STATE"): "an auction can be cancelled only before any bid and before it closes",
    ("auction.accept", "INVALID_STATE"): "accept is for an open Dutch auction; in English auctions bid instead",
    ("pledge.register", "DUPLICATE"): "this pledge is already registered",
    ("units.issue", "NOT_FOUND"): "no such market, or you are not its licensor",
}


def hint(method, code):
    h = BY_METHOD.get((method, code)) or GENERIC.get(code, "")
    if code == "FORBIDDEN" and method in WHO:
        h = f"{h} — this needs {WHO[method]}; log in with that key (--key/--secret, IPX_KEY/IPX_SECRET)"
    return h
