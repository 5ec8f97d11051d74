# auction.<id> pushes: "updates for each bid, extension, open and close, each carrying the fields that changed";
# sealed formats hide amounts, price, leader and min_next_bid until close on the channel too; push ts = engine time;
# seq gap-free; the private channel shows the winner's settlement.
from common import *
def bad_keys(d, keys):
    """keys present with a non-null value anywhere in d (nested)"""
    out = []
    def walk(x, path=''):
        if isinstance(x, dict):
            for k, v in x.items():
                if k in keys and v is not None: out.append(path + k)
                walk(v, path + k + '.')
        elif isinstance(x, list):
            for v in x: walk(v, path)
    walk(d); return out
async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('individual', fund=50_000_000)
    W = await ctx.mk('individual')   # a watcher, not registered
    now = await ctx.now()
    _, A = await new_auction(ctx, own, opens=now + HOUR, closes=now + HOUR + DAY, extend_window_ms=5 * MIN, extend_by_ms=5 * MIN)
    await W.call('subscribe', channels=[f'auction.{A}'])
    snap = (await W.drain())[0]
    check('snapshot first; data = auction.get (scheduled)', snap['type'] == 'snapshot' and snap['data']['state'] == 'scheduled', snap)
    xc = (await X.call('auction.register', auction_id=A))['bidder_code']
    yc = (await Y.call('auction.register', auction_id=A))['bidder_code']
    await ctx.adv(HOUR)
    p = await W.drain()
    op = [m for m in p if m['data'].get('state') == 'open']
    check('open push carries state open', len(op) == 1, p)
    check('open push ts = opens_at (engine time)', op and op[0]['ts'] == now + HOUR, op)
    b1 = await X.call('auction.bid', auction_id=A, amount=1_000_000)
    p = await W.drain()
    bp = [m for m in p if m['type'] == 'bid']
    check('one push of type "bid" per bid', len(bp) == 1, p)
    d = bp[0]['data'] if bp else {}
    check('bid push carries the changed fields: price, bids, leader, min_next_bid',
          d.get('price') == 1_000_000 and d.get('bids') == 1 and d.get('leader') == xc and d.get('min_next_bid') == 1_010_000, d)
    check('bid push ts = the bid ts', bp and bp[0]['ts'] == b1['ts'], (bp, b1))
    check('bid push names no participant', X.pid not in json.dumps(p), p)
    # extension inside the window
    g = await a.call('auction.get', auction_id=A)
    await ctx.adv_to(g['closes_at'] - MIN)
    b2 = await Y.call('auction.bid', auction_id=A, amount=1_010_000)
    p = await W.drain()
    ext = [m for m in p if m['data'].get('closes_at') == b2['ts'] + 5 * MIN]
    check('extension pushed with the new closes_at', len(ext) >= 1, p)
    await ctx.adv_to(b2['ts'] + 5 * MIN)
    p = await W.drain()
    cl = [m for m in p if m['data'].get('state') == 'sold']
    check('close push carries state sold, price and winner', cl and cl[0]['data'].get('winner', yc) == yc and cl[0]['data'].get('price', 1_010_000) == 1_010_000, p)
    check('close push ts = closes_at', cl and cl[0]['ts'] == b2['ts'] + 5 * MIN, cl)
    # sealed: nothing on the channel reveals amounts, price, leader, min_next_bid before close
    now = await ctx.now()
    _, S = await new_auction(ctx, own, fmt='sealed_first', opens=now, closes=now + DAY)
    for c in (X, Y): await c.call('auction.register', auction_id=S)
    await X.call('subscribe', channels=[f'auction.{S}', 'private']); await W.call('subscribe', channels=[f'auction.{S}'])
    await a.call('subscribe', channels=[f'auction.{S}'])
    await X.drain(); await W.drain(); await a.drain()
    await X.call('auction.bid', auction_id=S, amount=1_300_000)
    await Y.call('auction.bid', auction_id=S, amount=1_200_000)
    for who, c in (('watcher', W), ('operator', a), ('bidder X', X)):
        p = [m for m in await c.drain() if m['channel'] == f'auction.{S}']
        leak = bad_keys([m['data'] for m in p], {'amount', 'price', 'leader', 'min_next_bid'})
        check(f'sealed: pushes to {who} before close reveal no amount/price/leader/min_next_bid', p and not leak, (leak, p))
        check(f'sealed: pushes to {who} show the bid count', any(m['data'].get('bids') == 2 for m in p), p)
    await ctx.adv(DAY)
    p = await W.drain()
    cl = [m for m in p if m['data'].get('state') == 'sold']
    check('sealed close push: sold at the high bid', cl and cl[0]['data'].get('price', 1_300_000) == 1_300_000, p)
    g = await a.call('auction.get', auction_id=S)
    pp = [m for m in await X.drain() if m['channel'] == 'private']
    check("winner's private channel shows the settlement", any(g['settlement_id'] in json.dumps(m['data']) for m in pp), pp)
    seqs = [m['seq'] for m in pp]
    check('private seq gap-free', seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else False, seqs)
run('t08', sc)
