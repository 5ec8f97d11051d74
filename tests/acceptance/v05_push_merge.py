# PROTOCOL Channels: "auction.<id>: snapshot data = auction.get's result; updates for each bid, extension, open and
# close, each carrying the fields that changed". A client that applies each update's fields onto the snapshot must
# hold what auction.get returns (the contract's fields) after every bid, extension, open and close, in every format.
from common import *

FIELDS = ['auction_id', 'lot', 'purpose', 'format', 'state', 'start_price', 'increment', 'deposit', 'reserve', 'opens_at',
          'closes_at', 'price', 'bids', 'leader', 'min_next_bid', 'winner', 'settlement_id']

class View:
    def __init__(self, c, A): self.c, self.A, self.ch, self.st, self.seq, self.last = c, A, f'auction.{A}', None, None, []

async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('individual', fund=50_000_000)
    W = await ctx.mk('individual')
    now = await ctx.now()
    # english, scheduled, soft close
    _, E = await new_auction(ctx, own, opens=now + HOUR, closes=now + HOUR + DAY, extend_window_ms=5 * MIN, extend_by_ms=5 * MIN)
    # sealed_second (the price appears at close), fixed_price x2 (one buyer / two buyers), dutch (unsold at the floor),
    # english with a reserve not met, a cancelled one
    _, S = await new_auction(ctx, own, fmt='sealed_second', opens=now, closes=now + DAY)
    _, F1 = await new_auction(ctx, own, fmt='fixed_price', opens=now, closes=now + 2 * DAY)
    _, F2 = await new_auction(ctx, own, fmt='fixed_price', opens=now, closes=now + 2 * DAY)
    _, D = await new_auction(ctx, own, fmt='dutch', opens=now + HOUR, closes=now + 5 * DAY,
                             dutch={'decrement': 100_000, 'interval_ms': 10 * MIN, 'floor': 800_000})
    _, R = await new_auction(ctx, own, opens=now, closes=now + DAY, reserve=1_200_000)
    _, K = await new_auction(ctx, own, opens=now + HOUR, closes=now + DAY)
    views = {}
    for n, A in (('english', E), ('sealed_second', S), ('fixed one buyer', F1), ('fixed two buyers', F2), ('dutch', D), ('reserve', R), ('cancel', K)):
        await W.call('subscribe', channels=[f'auction.{A}'])
        views[n] = View(W, A)
    # one drain feeds every view: pump all from the same list
    async def pump_all():
        ps = await W.drain(0.3)
        for v in views.values():
            W.pushes = [m for m in ps if m['channel'] == v.ch]
            await v.pump_list(W.pushes)
    async def pump_list(self, ps):
        self.last += [(m['type'], m['data']) for m in ps]
        for m in ps:
            if m['type'] == 'snapshot': self.st = dict(m['data']); self.seq = m['seq']; continue
            self.seq = m['seq']
            for k, v in m['data'].items():
                if k in FIELDS: self.st[k] = v
    View.pump_list = pump_list
    async def same_all(label, names, ignore=()):
        await pump_all()
        for n in names:
            v = views[n]
            g = await W.call('auction.get', auction_id=v.A)
            diff = {k: (v.st.get(k, '<absent>') if v.st else None, g.get(k, '<absent>')) for k in FIELDS if k not in ignore and (v.st or {}).get(k) != g.get(k)}
            check(f'{n} {label}: snapshot + pushes = auction.get', v.st is not None and not diff, f'differs (pushed, auction.get): {diff}; pushes since the last check: {v.last}')
            v.last = []
    await same_all('at subscribe', list(views), ignore=('price',))
    for c in (X, Y):
        for A in (E, S, F1, D, R): await c.call('auction.register', auction_id=A) if (A != F1 or c is X) else None
        await c.call('auction.register', auction_id=F2)
    await a.call('auction.cancel', auction_id=K, reason='withdrawn')
    await X.call('auction.bid', auction_id=S, amount=1_300_000); await Y.call('auction.bid', auction_id=S, amount=1_100_000)
    await X.call('auction.bid', auction_id=R, amount=1_000_000)
    await same_all('after registrations, sealed bids, a cancel', ['sealed_second', 'reserve', 'cancel', 'fixed one buyer', 'fixed two buyers'])
    await ctx.adv(HOUR)
    await X.call('auction.bid', auction_id=E, amount=1_000_000); await Y.call('auction.bid', auction_id=E, amount=1_020_000)
    await same_all('after the open and two bids', ['english'])
    await same_all('after the open (price aside: the clock moves without pushes)', ['dutch'], ignore=('price',))
    await ctx.adv(DAY - 2 * MIN)
    await X.call('auction.bid', auction_id=E, amount=1_030_000)
    await same_all('after an extension', ['english'])
    await ctx.adv(10 * MIN)
    await same_all('after the close', ['english', 'sealed_second', 'reserve'])
    await ctx.adv(DAY)
    await same_all('after closes_at', ['fixed one buyer', 'fixed two buyers', 'dutch'])
run('v05', sc)
