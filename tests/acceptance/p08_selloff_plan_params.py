# DOMAIN rules 3, 5, 10 with plan overrides carried into the sell-off: deposit_bp 2000 -> the sell-off deposit is 20 % of
# its price; bidding_ms 2 d does not change rule 10's "the first bid at that price moves the close to 24 h after it";
# the plan's soft close (2 min window, 3 min extension) applies from then on: a bid 2 min + 1 ms before the close does
# not extend, one exactly 2 min before moves the close to ts + 3 min (PROTOCOL "in the soft-close window when
# closes_at - t <= extend_window_ms"); a first bid above the fixed price is refused and changes nothing.
from common import *
PLAN = {'notice_ms': DAY, 'bidding_ms': 2 * DAY, 'renotice_ms': DAY, 'sell_off_ms': 10 * DAY, 'deposit_bp': 2000,
        'extend_window_ms': 2 * MIN, 'extend_by_ms': 3 * MIN}
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    F = 20_000_000
    X = await ctx.mk('individual', fund=F); Y = await ctx.mk('individual', fund=F)
    V = 10_000_000
    _, cid, aid = await new_case(ctx, bank, own, V, plan=PLAN)
    g = await a.call('auction.get', auction_id=aid)
    check('r1: deposit 20 % = 1,400,000, bidding 2 d', g['deposit'] == 1_400_000 and g['closes_at'] - g['opens_at'] == 2 * DAY, (g['deposit'], g['closes_at'] - g['opens_at']))
    # r1 T0+1d..T0+3d, r2 T0+4d..T0+6d, sell-off T0+6d..T0+16d
    await ctx.adv_to(T0 + 6 * DAY)
    d = await bank.call('disposal.get', case_id=cid)
    so = d['rounds'][-1]
    g = await a.call('auction.get', auction_id=so['auction_id'])
    check('sell-off: 5,600,000, deposit 20 % = 1,120,000, T0+6d..T0+16d', (so['kind'], g['start_price'], g['deposit'], g['opens_at'], g['closes_at'])
          == ('sell_off', 5_600_000, 1_120_000, T0 + 6 * DAY, T0 + 16 * DAY), (so, g['deposit'], g['opens_at'] - T0, g['closes_at'] - T0))
    await X.call('auction.register', auction_id=so['auction_id']); await Y.call('auction.register', auction_id=so['auction_id'])
    check('sell-off deposit held 1,120,000', (await X.call('account.get'))['cash_held'] == 1_120_000, None)
    await ctx.adv_to(T0 + 7 * DAY)
    e = await X.errm('auction.bid', auction_id=so['auction_id'], amount=5_600_000 + 112_000)
    g2 = await a.call('auction.get', auction_id=so['auction_id'])
    check('first bid above the fixed price refused, nothing changed', e[0] != 'OK' and g2['bids'] == 0 and g2['closes_at'] == T0 + 16 * DAY, (e, g2['bids']))
    r = await X.call('auction.bid', auction_id=so['auction_id'], amount=5_600_000)
    check('first bid at the price: close = ts + 24 h (not bidding_ms)', r['closes_at'] == T0 + 8 * DAY, (r['closes_at'] - r['ts']) / HOUR)
    c = r['closes_at']
    await ctx.adv_to(c - 2 * MIN - 1)
    r = await Y.call('auction.bid', auction_id=so['auction_id'], amount=5_712_000)
    check('bid 2 min + 1 ms before the close: no extension', r['closes_at'] == c, r['closes_at'] - c)
    await ctx.adv_to(c - 2 * MIN)
    r = await X.call('auction.bid', auction_id=so['auction_id'], amount=5_824_000)
    check('bid exactly 2 min before the close: close = ts + 3 min', r['closes_at'] == c - 2 * MIN + 3 * MIN, r['closes_at'] - c)
    await ctx.adv_to(r['closes_at'])
    g = await a.call('auction.get', auction_id=so['auction_id'])
    check('sold to X at 5,824,000 at the extended close', g['state'] == 'sold' and g['price'] == 5_824_000 and g['closes_at'] == c + MIN, (g['state'], g['price'], g['closes_at'] - c))
    s = await X.call('settlement.get', settlement_id=g['settlement_id'])
    check('amount_due = 5,824,000 - 1,120,000', s['amount_due'] == 5_824_000 - 1_120_000 and s['deposit'] == 1_120_000, s)
run('p08', sc)
