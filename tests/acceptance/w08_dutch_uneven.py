# PROTOCOL Defaults, Dutch: "price(t) = max(floor, start - floor((t - opens_at) / interval_ms) x decrement); unsold when
# the floor has stood for one interval unaccepted, or at closes_at" -- with a decrement that does not divide start - floor
# (1,000,000 / 300,000 / floor 500,000 / 10 min: 1,000,000, 700,000, then the floor from minute 20, unsold at minute 30),
# a decrement larger than start - floor, and a Dutch auction scheduled to open later (the clock counts from opens_at).
from common import *
async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=10_000_000); Y = await ctx.mk('individual', fund=10_000_000)
    t0 = await ctx.now()
    dp = {'decrement': 300_000, 'interval_ms': 10 * MIN, 'floor': 500_000}
    _, D1 = await new_auction(ctx, own, fmt='dutch', dutch=dp, closes=t0 + DAY)
    _, D2 = await new_auction(ctx, own, fmt='dutch', dutch=dp, closes=t0 + DAY)
    _, D3 = await new_auction(ctx, own, fmt='dutch', dutch={'decrement': 700_000, 'interval_ms': 10 * MIN, 'floor': 500_000}, closes=t0 + DAY)
    _, D4 = await new_auction(ctx, own, fmt='dutch', dutch=dp, opens=t0 + HOUR, closes=t0 + DAY)
    for d in (D2, D4): await X.call('auction.register', auction_id=d)
    await Y.call('auction.register', auction_id=D3)
    async def price(aid): return await a.call('auction.get', auction_id=aid)
    exp = [(0, 1_000_000), (10 * MIN - 1, 1_000_000), (10 * MIN, 700_000), (20 * MIN - 1, 700_000), (20 * MIN, 500_000), (30 * MIN - 1, 500_000)]
    for off, p in exp:
        await ctx.adv_to(t0 + off)
        g = await price(D1)
        check(f'D1 at +{off} ms: open, price {p}', g['state'] == 'open' and g['price'] == p, (g['state'], g['price']))
        if off == 10 * MIN:
            g3 = await price(D3)
            check('D3 (decrement 700,000 > start - floor) at +10 min: price = floor 500,000, open', g3['state'] == 'open' and g3['price'] == 500_000,
                  (g3['state'], g3['price']))
        if off == 20 * MIN - 1:
            g3 = await price(D3)
            check('D3 at +20 min - 1 ms: still open at the floor (stood less than one interval)', g3['state'] == 'open', g3['state'])
    g3 = await price(D3)
    check('D3 unsold once the floor stood one interval (+20 min)', g3['state'] == 'unsold', g3['state'])
    r = await X.errm('auction.accept', auction_id=D2)
    check('D2 accepted at +30 min - 1 ms at the floor 500,000', r[0] == 'OK' and r[1]['price'] == 500_000, r)
    await ctx.adv(1)
    g = await price(D1)
    check('D1 unsold at +30 min (floor reached at +20 min stood one interval)', g['state'] == 'unsold', (g['state'], g['price']))
    # D4 opens at +1 h; price counts from opens_at
    await ctx.adv_to(t0 + HOUR - 1)
    e = await X.errm('auction.accept', auction_id=D4)
    check('D4 accept before opens_at -> AUCTION_NOT_OPEN', e[0] == 'AUCTION_NOT_OPEN', e)
    await ctx.adv_to(t0 + HOUR + 10 * MIN)
    g = await price(D4)
    check('D4 at opens_at + 10 min: 700,000 (clock counts from opens_at)', g['state'] == 'open' and g['price'] == 700_000, (g['state'], g['price']))
    r = await X.errm('auction.accept', auction_id=D4)
    check('D4 accepted at 700,000', r[0] == 'OK' and r[1]['price'] == 700_000, r)
    g = await price(D4)
    check('D4 sold at 700,000', g['state'] == 'sold' and g['price'] == 700_000, g)
run('w08', sc)
