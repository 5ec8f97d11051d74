# Rule 5 soft-close arithmetic: window inclusive (closes_at - t <= window), close -> t + extend_by, repeats; custom 2min/5min; no soft close by default
from common import *
async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise')
    X = await ctx.mk('enterprise', fund=10_000_000); Y = await ctx.mk('individual', fund=10_000_000)
    sub = await ctx.mk('individual')
    now = await ctx.now()
    _, A1 = await new_auction(ctx, own, closes=now + HOUR, extend_window_ms=5 * MIN, extend_by_ms=5 * MIN)
    _, A2 = await new_auction(ctx, own, closes=now + HOUR, extend_window_ms=2 * MIN, extend_by_ms=5 * MIN)
    _, A3 = await new_auction(ctx, own, closes=now + HOUR)   # no soft close
    await sub.call('subscribe', channels=[f'auction.{A1}'])
    snap = await sub.drain()
    check('auction channel snapshot first', snap and snap[0]['type'] == 'snapshot' and snap[0]['data']['auction_id'] == A1, snap)
    seq0 = snap[0]['seq'] if snap else 0
    for aid in (A1, A2, A3):
        await X.call('auction.register', auction_id=aid); await Y.call('auction.register', auction_id=aid)
    close = now + HOUR
    # A1: bid at exactly closes_at - 5min - 1 : no extension
    await ctx.adv_to(close - 5 * MIN - 1)
    r = await X.call('auction.bid', auction_id=A1, amount=1_000_000)
    check('A1 bid just outside window: no extension', r['closes_at'] == close, r['closes_at'] - close)
    await ctx.adv(1)  # closes_at - t == 5min exactly: in window, close -> t+5min == close
    r = await Y.call('auction.bid', auction_id=A1, amount=1_010_000)
    check('A1 bid at window edge: close = t + 5min', r['closes_at'] == r['ts'] + 5 * MIN, r['closes_at'] - r['ts'])
    await ctx.adv(4 * MIN + 59_999)  # 1ms before close
    r = await X.call('auction.bid', auction_id=A1, amount=1_020_000)
    check('A1 bid 1ms before close: close = t + 5min', r['closes_at'] == r['ts'] + 5 * MIN, (r['closes_at'] - r['ts'], r['ts'] - close))
    c1 = r['closes_at']
    await ctx.adv(2 * MIN)
    r = await Y.call('auction.bid', auction_id=A1, amount=1_030_000)
    check('A1 repeats: close = t + 5min', r['closes_at'] == r['ts'] + 5 * MIN, r['closes_at'] - r['ts'])
    c1 = r['closes_at']
    # A2 window 2min extend 5min
    n = await ctx.now()
    await ctx.adv_to(close - 2 * MIN - 1) if n < close - 2 * MIN - 1 else None
    g2 = await a.call('auction.get', auction_id=A2)
    print('A2 closes_at', g2['closes_at'] - close, 'now-close', await ctx.now() - close)
    # A3 no soft close: bid 1 min before close
    g3 = await a.call('auction.get', auction_id=A3)
    print('A3 state', g3['state'])
    await ctx.adv_to(c1 - 1)
    r = await X.call('auction.bid', auction_id=A1, amount=1_040_000)
    c1 = r['closes_at']
    await ctx.adv_to(c1)
    g = await a.call('auction.get', auction_id=A1)
    check('A1 closed at final extended close', g['state'] == 'sold' and g['closes_at'] == c1 and g['price'] == 1_040_000, g)
    pushes = await sub.drain(0.5)
    seqs = [p['seq'] for p in pushes]
    check('auction channel seq gap-free from snapshot', len(seqs) > 0 and seqs == list(range(seq0 + 1, seq0 + 1 + len(seqs))), (seq0, seqs))
    types = [p['type'] for p in pushes]
    print('push types', types)
    check('bid pushes present (5 bids)', types.count('bid') == 5, types)
    check('extension pushes or closes_at in bid pushes', any('closes_at' in p['data'] for p in pushes), pushes[:3])
    check('close push present', any(t in ('close', 'closed', 'sold') for t in types), types)
run('r05', sc)
