# DOMAIN rule 5 x rule 6: "A bid accepted within the last 5 minutes moves the close to that bid's engine time + 5 minutes"
# -- a priority holder's bid that matches the standing high bid is an accepted bid, so it extends too; the holder "takes
# the lead if nobody goes higher" and wins at the matched amount; rule 3 the loser's deposit is released at close.
# Also PROTOCOL roles: "backstop -> backstop (may bid ...)": a backstop registers, bids and wins an ordinary auction.
from common import *
async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=10_000_000); H = await ctx.mk('individual', fund=10_000_000)
    now = await ctx.now()
    _, A = await new_auction(ctx, own, start=1_000_000, inc=10_000, dep=100_000, opens=now, closes=now + DAY,
                             extend_window_ms=5 * MIN, extend_by_ms=5 * MIN,
                             priority_holders=[{'participant_id': H.pid, 'rank': 1}])
    cx = (await X.call('auction.register', auction_id=A))['bidder_code']
    ch = (await H.call('auction.register', auction_id=A))['bidder_code']
    r = await X.call('auction.bid', auction_id=A, amount=1_000_000)
    check('X first bid leads, no extension (not in window)', r['leader'] == cx and r['closes_at'] == now + DAY, r)
    await ctx.adv_to(now + DAY - 2 * MIN)
    e = await H.errm('auction.bid', auction_id=A, amount=1_000_000)
    t = await ctx.now()
    check('holder matching the standing bid 2 min before close is accepted and leads', e[0] == 'OK' and e[1]['leader'] == ch, e)
    check('holder matching bid in the window moves the close to its ts + 5 min', e[0] == 'OK' and e[1]['closes_at'] == e[1]['ts'] + 5 * MIN
          and e[1]['ts'] == t, e)
    g = await a.call('auction.get', auction_id=A)
    check('auction.get: closes_at moved, bids 2, price 1,000,000, leader holder', g['closes_at'] == t + 5 * MIN and g['bids'] == 2
          and g['price'] == 1_000_000 and g['leader'] == ch, g)
    check('min_next_bid for others = price + increment', g['min_next_bid'] == 1_010_000, g)
    # the original close passes: still open
    await ctx.adv_to(now + DAY)
    g = await a.call('auction.get', auction_id=A)
    check('still open at the original closes_at', g['state'] == 'open', g)
    e = await X.errm('auction.bid', auction_id=A, amount=1_010_000)
    check('X outbids in the extension (bid accepted)', e[0] == 'OK' and e[1]['leader'] == cx and e[1]['closes_at'] == e[1]['ts'] + 5 * MIN, e)
    await ctx.adv(4 * MIN)
    e = await H.errm('auction.bid', auction_id=A, amount=1_010_000)
    check('holder matches again 1 min before close -> leads, close = ts + 5 min', e[0] == 'OK' and e[1]['leader'] == ch
          and e[1]['closes_at'] == e[1]['ts'] + 5 * MIN, e)
    close = e[1]['closes_at'] if e[0] == 'OK' else None
    await ctx.adv_to(close - 1)
    g = await a.call('auction.get', auction_id=A)
    check('open 1 ms before the moved close', g['state'] == 'open', g)
    await ctx.adv(1)
    g = await a.call('auction.get', auction_id=A)
    check('sold to the holder at the matched amount at exactly the moved close', g['state'] == 'sold' and g['winner'] == ch
          and g['price'] == 1_010_000 and g['closes_at'] == close, g)
    s = await H.call('settlement.get', settlement_id=g['settlement_id'])
    check('settlement buyer = holder participant id, price 1,010,000', s['buyer'] == H.pid and s['price'] == 1_010_000, s)
    ax = await a.call('account.get', participant_id=X.pid)
    check("loser's deposit released at close", ax['cash_held'] == 0 and ax['cash_available'] == 10_000_000, ax)
    # a backstop bids like a trader in an ordinary auction
    B = await ctx.mk('backstop', fund=5_000_000)
    now = await ctx.now()
    asset, A2 = await new_auction(ctx, own, start=2_000_000, inc=20_000, dep=200_000, opens=now, closes=now + DAY)
    e = await B.errm('auction.register', auction_id=A2)
    check('backstop auction.register -> bidder_code', e[0] == 'OK' and isinstance(e[1].get('bidder_code'), str), e)
    acc = await B.call('account.get')
    check('backstop deposit held', acc['cash_held'] == 200_000 and acc['cash_available'] == 4_800_000, acc)
    e = await B.errm('auction.bid', auction_id=A2, amount=2_000_000)
    check('backstop auction.bid accepted', e[0] == 'OK', e)
    await ctx.adv(DAY)
    g = await a.call('auction.get', auction_id=A2)
    check('backstop wins', g['state'] == 'sold' and g['price'] == 2_000_000, g)
    s = await B.call('settlement.pay', settlement_id=g['settlement_id'])
    acc = await B.call('account.get')
    check('backstop pay: price - deposit moved into escrow', acc['cash_held'] == 2_000_000 and acc['cash_available'] == 3_000_000, acc)
    await a.call('settlement.confirm', settlement_id=g['settlement_id'], registration_no='REG-B')
    acc = await B.call('account.get')
    p = pos(acc, asset)
    check('backstop holds the title {asset_id, units: 1} after confirm', p is not None and p['units'] == 1, acc)
    check('seller no longer holds the title', pos(await own.call('account.get'), asset) is None)
run('w02', sc)
