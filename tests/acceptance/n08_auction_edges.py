# PROTOCOL "Defaults" / auction.get meanings (eleventh audit): "no soft close unless extend_window_ms is given" (an
# extend_by_ms alone does not extend); an English reserve above the start not met -> unsold, price and winner null,
# leader the highest bidder (docs), every deposit released at the close; price null and min_next_bid = start before the
# first bid; a closed auction has no min_next_bid (docs); an English auction with one bidder sells at the start (rule 2);
# a disposal round shows reserve = its start (rule 1, docs); an unsold close with no bids sells nothing.
from common import *

async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise'); bank = await ctx.mk('bank')
    X = await ctx.mk('enterprise', fund=10_000_000); Y = await ctx.mk('individual', fund=10_000_000)
    now = await ctx.now()
    _, A1 = await new_auction(ctx, own, start=1_000_000, inc=10_000, dep=200_000, closes=now + DAY, extend_by_ms=5 * MIN)
    g = await a.call('auction.get', auction_id=A1)
    check('before the first bid: price null, bids 0, leader null, min_next_bid = start', g['price'] is None and g['bids'] == 0
          and g['leader'] is None and g['min_next_bid'] == 1_000_000, g)
    cx = (await X.call('auction.register', auction_id=A1))['bidder_code']
    await ctx.adv(DAY - MIN)
    r = await X.call('auction.bid', auction_id=A1, amount=1_000_000)
    check('extend_by_ms without extend_window_ms: a bid 1 min before the close does not extend', r['closes_at'] == now + DAY, r['closes_at'] - now)
    await ctx.adv(MIN)
    g = await a.call('auction.get', auction_id=A1)
    check('rule 2: one qualified bidder is enough -> sold at the start', g['state'] == 'sold' and g['price'] == 1_000_000 and g['winner'] == cx, g)
    check('a closed auction has no min_next_bid (docs)', g['min_next_bid'] is None, g['min_next_bid'])
    # reserve not met
    now = await ctx.now()
    _, A2 = await new_auction(ctx, own, start=1_000_000, inc=10_000, dep=200_000, closes=now + DAY, reserve=1_050_000)
    cx = (await X.call('auction.register', auction_id=A2))['bidder_code']; cy = (await Y.call('auction.register', auction_id=A2))['bidder_code']
    await X.call('auction.bid', auction_id=A2, amount=1_000_000)
    await Y.call('auction.bid', auction_id=A2, amount=1_040_000)
    accY0 = await Y.call('account.get')
    await ctx.adv(DAY)
    g = await a.call('auction.get', auction_id=A2)
    check('reserve 1,050,000 not met by 1,040,000 -> unsold', g['state'] == 'unsold', g['state'])
    check('unsold: price null, winner null, settlement null, leader = the highest bidder (docs)', g['price'] is None and g.get('winner') is None
          and g.get('settlement_id') is None and g['leader'] == cy, g)
    ax, ay = await X.call('account.get'), await Y.call('account.get')
    check('unsold: every deposit released at the close', ax['cash_held'] == 200_000 and ay['cash_held'] == 0 and ay['cash_available'] == accY0['cash_available'] + 200_000,
          (ax, ay))   # X still holds A1's winning deposit (unpaid settlement)
    # reserve met exactly
    now = await ctx.now()
    _, A3 = await new_auction(ctx, own, start=1_000_000, inc=10_000, dep=0, closes=now + DAY, reserve=1_050_000)
    await X.call('auction.register', auction_id=A3); await Y.call('auction.register', auction_id=A3)
    await X.call('auction.bid', auction_id=A3, amount=1_000_000); await Y.call('auction.bid', auction_id=A3, amount=1_050_000)
    await ctx.adv(DAY)
    g = await a.call('auction.get', auction_id=A3)
    check('reserve met exactly (1,050,000) -> sold at 1,050,000', g['state'] == 'sold' and g['price'] == 1_050_000, g)
    # disposal round: reserve = start
    _, cid, aid = await new_case(ctx, bank, own, 12_345_678)
    g = await a.call('auction.get', auction_id=aid)
    check('disposal round: reserve = start_price (rule 1)', g.get('reserve') == g['start_price'] == 8_641_900, (g.get('reserve'), g['start_price']))
run('n08', sc)
