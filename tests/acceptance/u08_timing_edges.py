# Timing at the exact millisecond: a disposal round's default 5 min / 5 min soft close (bid 5 min + 1 ms before close,
# exactly 5 min before, 1 ms before), AUCTION_NOT_OPEN 1 ms before opens_at, AUCTION_CLOSED at the extended close; the
# sell-off's first-bid close and its soft close; pushes stamped with the timer's own due time when time.advance jumps
# past it (open, close, GTD expiry); the round-2 notice counted from the unsold close after a long jump.
from common import *
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('individual', fund=50_000_000); W = await ctx.mk('individual')
    V = 10_000_000
    _, c1, a1 = await new_case(ctx, bank, own, V)
    _, c2, a2 = await new_case(ctx, bank, own, V)          # unsold -> round 2 -> sell-off
    g = await a.call('auction.get', auction_id=a1)
    O, C = g['opens_at'], g['closes_at']
    await W.call('subscribe', channels=[f'auction.{a1}', f'auction.{a2}']); await W.drain(0.3)
    for c in (X, Y): await c.call('auction.register', auction_id=a1)
    await ctx.adv_to(O - HOUR); await ctx.adv(2 * HOUR)     # jump over opens_at
    p = await W.drain(0.4)
    op = [q for q in p if q['channel'] == f'auction.{a1}' and q['type'] != 'bid']
    print('  info: pushes over the open', [(q['type'], q['ts'] - O, q['data']) for q in op])
    check('open push stamped opens_at (not the time advanced to)', any(q['ts'] == O for q in op) and op, [(q['type'], q['ts'] - O) for q in op])
    e = await X.errm('auction.bid', auction_id=a1, amount=7_000_000)
    check('bid after the open accepted', e[0] == 'OK', e)
    await ctx.adv_to(C - 5 * MIN - 1)
    r = await Y.call('auction.bid', auction_id=a1, amount=7_140_000)
    check('disposal default soft close: bid at close - 5 min - 1 ms -> close unchanged', r['closes_at'] == C, r['closes_at'] - C)
    await ctx.adv(1)
    r = await X.call('auction.bid', auction_id=a1, amount=7_280_000)
    check('bid at exactly close - 5 min (in the window) -> close = ts + 5 min = unchanged', r['closes_at'] == r['ts'] + 5 * MIN == C, (r['closes_at'] - C, r['ts'] - C))
    await ctx.adv_to(C - 1)
    r = await Y.call('auction.bid', auction_id=a1, amount=7_420_000)
    C2 = r['closes_at']
    check('bid 1 ms before close -> close = ts + 5 min', C2 == C - 1 + 5 * MIN, C2 - C)
    await ctx.adv_to(C2 - 1)
    g = await a.call('auction.get', auction_id=a1)
    check('still open 1 ms before the extended close', g['state'] == 'open' and g['closes_at'] == C2, (g['state'], g['closes_at'] - C2))
    await ctx.adv(1)
    e = await X.err('auction.bid', auction_id=a1, amount=7_560_000)
    check('bid at the extended close -> AUCTION_CLOSED', e == 'AUCTION_CLOSED', e)
    g = await a.call('auction.get', auction_id=a1)
    check('sold to Y at 7,420,000 at the extended close', g['state'] == 'sold' and g['price'] == 7_420_000, (g['state'], g['price']))
    s = await a.call('settlement.get', settlement_id=g['settlement_id'])
    check('due_at = extended close + 10 d', s['due_at'] == C2 + 10 * DAY, s['due_at'] - C2)
    # case 2: round 1 closed unsold at C (no bids); one big jump to the middle of round 2's notice
    await ctx.adv(10 * DAY)
    p = await W.drain(0.4)
    cl = [q for q in p if q['channel'] == f'auction.{a2}' and q['type'] not in ('snapshot',)]
    print('  info: case-2 round-1 pushes', [(q['type'], q['ts'] - C) for q in cl])
    check('case 2 round 1 close push stamped closes_at', any(q['ts'] == C for q in cl), [(q['type'], q['ts'] - C) for q in cl])
    cl1 = [q for q in p if q['channel'] == f'auction.{a1}' and q['type'] not in ('bid',)]
    check('case 1 close push stamped the extended close', any(q['ts'] == C2 for q in cl1), [(q['type'], q['ts'] - C2) for q in cl1])
    d = await bank.call('disposal.get', case_id=c2)
    r2 = await a.call('auction.get', auction_id=d['rounds'][-1]['auction_id'])
    check('round 2 opens exactly 15 d after the unsold close', r2['opens_at'] == C + 15 * DAY and r2['state'] == 'scheduled', ((r2['opens_at'] - C) / DAY, r2['state']))
    await X.call('auction.register', auction_id=r2['auction_id'])
    await ctx.adv_to(r2['opens_at'] - 1)
    e = await X.err('auction.bid', auction_id=r2['auction_id'], amount=5_600_000)
    check('bid 1 ms before opens_at -> AUCTION_NOT_OPEN', e == 'AUCTION_NOT_OPEN', e)
    await ctx.adv_to(r2['closes_at'])          # unsold (X did not bid)
    d = await bank.call('disposal.get', case_id=c2)
    so = await a.call('auction.get', auction_id=d['rounds'][-1]['auction_id'])
    S0 = r2['closes_at']
    check('sell-off opens at the round-2 close, closes 60 d later', so['opens_at'] == S0 and so['closes_at'] == S0 + 60 * DAY, (so['opens_at'] - S0, (so['closes_at'] - S0) / DAY))
    for c in (X, Y): await c.call('auction.register', auction_id=so['auction_id'])
    await ctx.adv_to(S0 + 59 * DAY + 23 * HOUR + 59 * MIN + 59_999)      # 1 ms before the 60-day close
    r = await X.call('auction.bid', auction_id=so['auction_id'], amount=5_600_000)
    F1 = r['closes_at']
    check('sell-off first bid 1 ms before its close -> close = ts + 24 h', F1 == r['ts'] + DAY, (F1 - r['ts']) / HOUR)
    await ctx.adv_to(F1 - 5 * MIN - 1)
    r = await Y.call('auction.bid', auction_id=so['auction_id'], amount=5_712_000)
    check('then bid 5 min + 1 ms before close: no extension', r['closes_at'] == F1, r['closes_at'] - F1)
    await ctx.adv_to(F1 - 1)
    r = await X.call('auction.bid', auction_id=so['auction_id'], amount=5_824_000)
    check('bid 1 ms before close: close = ts + 5 min', r['closes_at'] == F1 - 1 + 5 * MIN, r['closes_at'] - F1)
    F2 = r['closes_at']
    await ctx.adv(DAY)
    g = await a.call('auction.get', auction_id=so['auction_id'])
    check('sell-off sold to X at 5,824,000 at F2', g['state'] == 'sold' and g['price'] == 5_824_000 and g['closes_at'] == F2, (g['state'], g['price'], g['closes_at'] - F2))
    s = await a.call('settlement.get', settlement_id=g['settlement_id'])
    check('sell-off due_at = F2 + 10 d despite the jump', s['due_at'] == F2 + 10 * DAY, s['due_at'] - F2)
    # GTD expiry push stamped expire_at after a jump
    asset = await new_asset(ctx, own)
    await own.call('market.create', market_id='T', asset_id=asset, licence=LIC, tick=100, min_qty=10)
    now = await ctx.now()
    await X.call('subscribe', channels=['private']); await X.drain(0.2)
    await X.call('order.place', market_id='T', side='buy', type='limit', price=100, qty=10, tif='gtd', expire_at=now + MIN + 5, client_order_id='g')
    await X.drain(0.2)
    await ctx.adv(HOUR)
    p = await X.drain(0.4)
    ex = [q for q in p if 'expired' in json.dumps(q['data'])]
    check('private expiry push stamped expire_at', ex and ex[0]['ts'] == now + MIN + 5, [(q['type'], q['ts'] - now) for q in p])
run('u08', sc)
