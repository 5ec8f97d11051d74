# PROTOCOL "Channels": snapshot then gap-free updates on auction.<id> (english, sealed, dutch, fixed_price),
# several subscribers see the same sequence, unsubscribed / never-subscribed clients get nothing, a late snapshot
# reflects the activity, a refused subscribe changes nothing, private on two connections, empty book snapshot.
from common import *

def chan(ps, ch): return [m for m in ps if m.get('channel') == ch]
def gapfree(ps): s = [m['seq'] for m in ps]; return bool(s) and s == list(range(s[0], s[0] + len(s)))
def shape_ok(m): return all(k in m for k in ('channel', 'seq', 'type', 'ts', 'data')) and isinstance(m['seq'], int) and isinstance(m['ts'], int)

async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('individual', fund=50_000_000)
    W1 = await ctx.mk('individual'); W2 = await ctx.mk('enterprise'); U = await ctx.mk('individual'); V = await ctx.mk('individual')
    now = await ctx.now()
    _, A = await new_auction(ctx, own, opens=now + HOUR, closes=now + HOUR + DAY, extend_window_ms=5 * MIN, extend_by_ms=5 * MIN)
    ch = f'auction.{A}'
    for c in (W1, W2, V): await c.call('subscribe', channels=[ch])
    g0 = await W1.call('auction.get', auction_id=A)
    p1 = chan(await W1.drain(), ch); p2 = chan(await W2.drain(), ch); await V.drain()
    check('english: one snapshot each, data = auction.get (scheduled)', len(p1) == 1 and p1[0]['type'] == 'snapshot' and p1[0]['data'] == g0, p1)
    check('english: both subscribers get the same snapshot seq', len(p2) == 1 and p2[0]['seq'] == p1[0]['seq'], (p1, p2))
    check('snapshot has channel, seq, type, ts, data', p1 and shape_ok(p1[0]), p1)
    await V.call('unsubscribe', channels=[ch])
    for c in (X, Y): await c.call('auction.register', auction_id=A)
    await ctx.adv(HOUR)
    await X.call('auction.bid', auction_id=A, amount=1_000_000)
    await Y.call('auction.bid', auction_id=A, amount=1_010_000)
    await ctx.adv(DAY - 2 * MIN)
    await X.call('auction.bid', auction_id=A, amount=1_020_000)  # in the window: extension
    q1 = chan(await W1.drain(), ch); q2 = chan(await W2.drain(), ch)
    seq = lambda ps: [(m['seq'], m['type'], m['ts'], m['data']) for m in ps]
    check('two subscribers see the same pushes (seq, type, ts, data)', q1 and seq(q1) == seq(q2), (seq(q1), seq(q2)))
    check('updates continue from the snapshot seq, gap-free', p1 and q1 and q1[0]['seq'] == p1[0]['seq'] + 1 and gapfree(q1), [m['seq'] for m in q1])
    check('every update has channel, seq, type, ts, data', q1 and all(shape_ok(m) for m in q1), q1)
    check('no update is typed snapshot', all(m['type'] != 'snapshot' for m in q1), [m['type'] for m in q1])
    check('unsubscribed client receives nothing after unsubscribe', not chan(await V.drain(0.1), ch), 'got pushes')
    check('never-subscribed client receives nothing', not chan(await U.drain(0.1), ch) and not U.pushes, 'got pushes')
    # a late subscriber: snapshot = auction.get now, seq = the channel's current seq
    L = await ctx.mk('individual')
    await L.call('subscribe', channels=[ch]); g1 = await L.call('auction.get', auction_id=A)
    pl = chan(await L.drain(), ch)
    check('late snapshot data = auction.get after activity (price, bids 3, leader)', len(pl) == 1 and pl[0]['type'] == 'snapshot' and pl[0]['data'] == g1 and g1['bids'] == 3 and g1['price'] == 1_020_000, (pl, g1))
    check('late snapshot seq = last seq seen by the others', pl and q1 and pl[0]['seq'] == q1[-1]['seq'], (pl and pl[0]['seq'], q1 and q1[-1]['seq']))
    await ctx.adv_to(g1['closes_at'])
    c1 = chan(await W1.drain(), ch); cl = chan(await L.drain(), ch)
    check('close push: same seq for the old and the late subscriber', c1 and cl and seq(c1) == seq(cl) and c1[0]['seq'] == q1[-1]['seq'] + 1, (seq(c1), seq(cl)))
    check('close push carries state sold', any(m['data'].get('state') == 'sold' for m in c1), c1)
    # re-subscribe after unsubscribe: a fresh snapshot at the current seq
    await V.call('subscribe', channels=[ch]); pv = chan(await V.drain(), ch)
    check('re-subscribe: snapshot with seq = the channel seq now', len(pv) == 1 and pv[0]['type'] == 'snapshot' and c1 and pv[0]['seq'] == c1[-1]['seq'], (pv, c1))

    # --- a refused subscribe changes nothing: private + a forbidden disposal channel in one call
    bank = await ctx.mk('bank')
    aid, cid, rnd = await new_case(ctx, bank, own, 10_000_000)
    R = await ctx.mk('individual')
    e = await R.errm('subscribe', channels=['private', f'disposal.{cid}'])
    check('subscribe [private, disposal.<case>] by a trader -> FORBIDDEN', e[0] == 'FORBIDDEN', e)
    await a.call('account.fund', participant_id=R.pid, amount=1000)
    pr = await R.drain()
    check('refused subscribe subscribed nothing (no private snapshot or balance push)', not pr, pr)
    # another bank: refused (FORBIDDEN or NOT_FOUND), and no pushes
    bank2 = await ctx.mk('bank')
    e = await bank2.errm('subscribe', channels=[f'disposal.{cid}'])
    check("subscribe to another bank's disposal channel refused", e[0] in ('FORBIDDEN', 'NOT_FOUND'), e)
    print('  info: another bank subscribing disposal.<case> ->', e[0])
    # the case's bank: snapshot, then an update when round 1 opens (30 d)
    await bank.call('subscribe', channels=[f'disposal.{cid}']); await a.call('subscribe', channels=[f'disposal.{cid}'])
    pb = chan(await bank.drain(), f'disposal.{cid}'); pa = chan(await a.drain(), f'disposal.{cid}')
    check('disposal channel: snapshot first for the bank and the operator, same seq', len(pb) == 1 and pb[0]['type'] == 'snapshot' and pa and pa[0]['seq'] == pb[0]['seq'], (pb, pa))
    print('  info: disposal snapshot data keys:', sorted(pb[0]['data']) if pb else None)

    # --- private on two connections of one participant: same pushes, same seq
    X2 = await Client.connect(ctx.url); ctx.clients.append(X2); await X2.login(X.key, X.secret)
    await X.call('subscribe', channels=['private']); await X2.call('subscribe', channels=['private'])
    s1 = chan(await X.drain(), 'private'); s2 = chan(await X2.drain(), 'private')
    check('private snapshot on both connections, same seq', s1 and s2 and s1[0]['type'] == 'snapshot' and s1[0]['seq'] == s2[0]['seq'], (s1, s2))
    await a.call('account.fund', participant_id=X.pid, amount=777)
    u1 = chan(await X.drain(), 'private'); u2 = chan(await X2.drain(), 'private')
    check('private update reaches both connections with the same seq', u1 and seq(u1) == seq(u2) and s1 and u1[0]['seq'] == s1[0]['seq'] + 1, (seq(u1), seq(u2)))
    check("another participant's private channel gets none of X's pushes", not chan(await Y.drain(0.1), 'private'), 'leak')

    # --- sealed: late snapshot after bids hides amounts; dutch: snapshot price = clock price, accept -> close push
    now = await ctx.now()
    _, S = await new_auction(ctx, own, fmt='sealed_first', opens=now, closes=now + DAY)
    for c in (X, Y): await c.call('auction.register', auction_id=S)
    await X.call('auction.bid', auction_id=S, amount=1_300_000); await Y.call('auction.bid', auction_id=S, amount=1_200_000)
    await W1.call('subscribe', channels=[f'auction.{S}'])
    ps = chan(await W1.drain(), f'auction.{S}')
    d = ps[0]['data'] if ps else {}
    check('sealed late snapshot: bids 2, price/leader/min_next_bid null', ps and d.get('bids') == 2 and d.get('price') is None and d.get('leader') is None and d.get('min_next_bid') is None, d)
    now = await ctx.now()
    _, D = await new_auction(ctx, own, fmt='dutch', start=1_000_000, inc=10_000, dep=100_000, opens=now, closes=now + DAY,
                             dutch={'decrement': 50_000, 'interval_ms': 10 * MIN, 'floor': 500_000})
    await X.call('auction.register', auction_id=D)
    await ctx.adv(25 * MIN)
    await W2.call('subscribe', channels=[f'auction.{D}']); gd = await W2.call('auction.get', auction_id=D)
    pd = chan(await W2.drain(), f'auction.{D}')
    check('dutch snapshot: data = auction.get, price = clock price 900,000', pd and pd[0]['data'] == gd and gd['price'] == 900_000, (pd, gd))
    r = await X.call('auction.accept', auction_id=D)
    pd = chan(await W2.drain(), f'auction.{D}')
    sold = [m for m in pd if m['data'].get('state') == 'sold']
    check('dutch accept -> close push: state sold, price 900,000, winner = bidder code', sold and sold[0]['data'].get('price', 900_000) == 900_000 and sold[0]['data'].get('winner') not in (None, X.pid), pd)
    check('dutch close push ts = accept ts', sold and sold[0]['ts'] == r['ts'], (sold, r))
    check('dutch pushes name no participant', X.pid not in json.dumps(pd), pd)

    # --- fixed_price: two buyers -> english; the channel tells subscribers (format, closes_at)
    now = await ctx.now()
    _, F = await new_auction(ctx, own, fmt='fixed_price', start=2_000_000, inc=20_000, dep=200_000, opens=now, closes=now + 5 * DAY)
    for c in (X, Y): await c.call('auction.register', auction_id=F)
    await W1.call('subscribe', channels=[f'auction.{F}']); await W1.drain()
    await ctx.adv(5 * DAY)
    pf = chan(await W1.drain(), f'auction.{F}')
    check('fixed_price turned english: a push carries format english and the new closes_at',
          any(m['data'].get('format') == 'english' and m['data'].get('closes_at') == now + 6 * DAY for m in pf), pf)
    check('fixed_price conversion pushes gap-free', not pf or gapfree(pf), pf)

    # --- cancel: subscribers learn the state (info: the documents list bid, extension, open and close)
    now = await ctx.now()
    _, K = await new_auction(ctx, own, opens=now + HOUR, closes=now + DAY)
    await W1.call('subscribe', channels=[f'auction.{K}']); await W1.drain()
    await a.call('auction.cancel', auction_id=K, reason='withdrawn')
    pk = chan(await W1.drain(), f'auction.{K}')
    print('  info: pushes on auction.cancel:', [(m['type'], m['data']) for m in pk])

    # --- book: empty market snapshot; trades snapshot
    asset = await new_asset(ctx, own)
    await own.call('market.create', market_id='VM', asset_id=asset, licence=LIC, tick=10, min_qty=1)
    await W1.call('subscribe', channels=['book.VM', 'trades.VM'])
    pb = await W1.drain()
    bk = chan(pb, 'book.VM'); tr = chan(pb, 'trades.VM')
    check('empty book snapshot: {bids: [], asks: []}', len(bk) == 1 and bk[0]['type'] == 'snapshot' and bk[0]['data'].get('bids') == [] and bk[0]['data'].get('asks') == [], bk)
    check('trades snapshot first', len(tr) == 1 and tr[0]['type'] == 'snapshot', tr)
run('v02', sc)
