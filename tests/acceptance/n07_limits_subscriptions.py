# PROTOCOL "Limits" and docs/protocol.md's limits (eleventh audit): 256 channels per subscribe, 1,024 subscriptions per
# session, channel names of 128 bytes, text fields of 256 characters, arrays of 1,024 elements (over: BAD_REQUEST, nothing
# applied); the rate limit refills at 1,000 per second (a full burst again after a second's pause).
import json
from common import *

async def burst(c, n, base):
    loop = asyncio.get_running_loop(); futs = []
    for i in range(n):
        f = loop.create_future(); c.pending[base + i] = f; futs.append(f)
    for i in range(n): await c.ws.send(json.dumps({'id': base + i, 'method': 'time.now'}))
    res = await asyncio.gather(*futs)
    return sum(1 for m in res if 'result' in m), sum(1 for m in res if m.get('error', {}).get('code') == 'RATE_LIMITED')

async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise'); X = await ctx.mk('individual')
    asset = await new_asset(ctx, own)
    await own.call('market.create', market_id='K', asset_id=asset, licence=LIC, tick=10, min_qty=1)
    # --- text fields and arrays
    base = dict(kind='trademark', owner=own.pid, region='chengdu', industry='other', valuation=100, expires_at=T0 + 400 * DAY)
    e = await a.errm('asset.register', asset_id='T256', title='t' * 256, **base)
    check('title of 256 characters accepted', e[0] == 'OK', e)
    e = await a.errm('asset.register', asset_id='T257', title='t' * 257, **base)
    check('title of 257 characters -> BAD_REQUEST naming title', e[0] == 'BAD_REQUEST' and 'title' in e[1], e)
    check('...nothing registered', (await a.errm('asset.get', asset_id='T257'))[0] == 'NOT_FOUND')
    now = await ctx.now()
    e = await a.errm('auction.create', lot=['L%d' % i for i in range(1025)], purpose='transfer', format='english', start_price=100,
                     increment=10, deposit=0, opens_at=now, closes_at=now + DAY)
    check('auction.create lot of 1,025 elements -> BAD_REQUEST naming lot', e[0] == 'BAD_REQUEST' and 'lot' in e[1], e)
    # --- channel names and subscription counts: 1,025 auctions
    ids = []
    for i in range(1025):
        if i % 200 == 199: await asyncio.sleep(0.5)   # the admin connection's own rate limit
        _, A = await new_auction(ctx, own, start=100, inc=10, dep=0)
        ids.append(A)
    chans = [f'auction.{A}' for A in ids]
    e = await X.errm('subscribe', channels=chans[:257])
    check('subscribe with 257 channels -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    check('...and no snapshot sent', not (await X.drain(0.2)))
    e = await X.errm('subscribe', channels=['book.' + 'k' * 124])   # 129 bytes
    check('a channel name of 129 bytes -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    for i in range(4):
        e = await X.errm('subscribe', channels=chans[256 * i:256 * (i + 1)])
        check(f'subscribe with 256 channels ({i + 1}/4) accepted', e[0] == 'OK' and len(e[1]['channels']) == 256, e[0])
    ps = await X.drain(0.5)
    check('1,024 snapshots received', sum(1 for p in ps if p['type'] == 'snapshot') == 1024, len(ps))
    e = await X.errm('subscribe', channels=[chans[1024]])
    check('the 1,025th subscription of a session is refused with a documented code', e[0] in ('BAD_REQUEST', 'TOO_LARGE', 'INVALID_STATE'), e)
    check('...and sends no snapshot', not [p for p in await X.drain(0.2) if p['channel'] == chans[1024]])
    await X.call('unsubscribe', channels=[chans[0]])
    e = await X.errm('subscribe', channels=[chans[1024]])
    check('after one unsubscribe the 1,024th slot is free again', e[0] == 'OK', e)
    # --- rate limit refill
    Z = await ctx.mk('individual')
    ok1, rl1 = await burst(Z, 1100, 10_000)
    check(f'burst: about 1,000 of 1,100 answered ({ok1}), the rest RATE_LIMITED ({rl1})', 1000 <= ok1 < 1100 and rl1 > 0, (ok1, rl1))
    await asyncio.sleep(1.2)
    ok2, rl2 = await burst(Z, 1000, 20_000)
    check(f'after 1.2 s the bucket is full again: 1,000 answered ({ok2})', ok2 == 1000 and rl2 == 0, (ok2, rl2))
run('n07', sc)
