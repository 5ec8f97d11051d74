# Soft close with a 2-minute window and 5-minute extension; A3 without extend_window_ms has no soft close
from common import *
async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise')
    X = await ctx.mk('enterprise', fund=10_000_000); Y = await ctx.mk('individual', fund=10_000_000)
    now = await ctx.now(); close = now + HOUR
    _, A2 = await new_auction(ctx, own, closes=close, extend_window_ms=2 * MIN, extend_by_ms=5 * MIN)
    _, A3 = await new_auction(ctx, own, closes=close)
    for aid in (A2, A3):
        await X.call('auction.register', auction_id=aid); await Y.call('auction.register', auction_id=aid)
    await ctx.adv_to(close - 2 * MIN - 1)
    r = await X.call('auction.bid', auction_id=A2, amount=1_000_000)
    check('2min window: bid at close-2min-1ms not extended', r['closes_at'] == close, r['closes_at'] - close)
    await ctx.adv(1)
    r = await Y.call('auction.bid', auction_id=A2, amount=1_010_000)
    check('2min window: bid at close-2min extends to t+5min', r['closes_at'] == r['ts'] + 5 * MIN, r['closes_at'] - r['ts'])
    await ctx.adv_to(close - 1)
    r = await X.call('auction.bid', auction_id=A3, amount=1_000_000)
    check('no soft close by default', r['closes_at'] == close, r['closes_at'] - close)
    await ctx.adv(1)
    g = await a.call('auction.get', auction_id=A3)
    check('A3 closed at closes_at', g['state'] == 'sold', g['state'])
    e = await Y.err('auction.bid', auction_id=A3, amount=1_010_000)
    check('bid after close -> AUCTION_CLOSED', e == 'AUCTION_CLOSED', e)
run('r05b', sc)
