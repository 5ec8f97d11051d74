# Hostile sequences (eighth audit): order.cancel of a filled / cancelled / expired order by client_order_id (twice),
# units.issue after trades, reuse of a client_order_id, GTD orders expiring at the very ms an auction closes,
# time.advance by 1 ms steps across those timers, subscribe to channels of objects that do not exist yet.
# Contract: "cancelling a done order is INVALID_STATE"; "A rejected request changes nothing"; listed error codes only.
from common import *

async def scenario(ctx):
    a = ctx.adm

async def scenario(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise', fund=10_000_000)
    X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('individual', fund=50_000_000)
    people = [own, X, Y]
    # subscribe before the objects exist
    for ch in ('book.M', 'trades.M', 'auction.A-1', 'disposal.K-1'):
        e = await X.errm('subscribe', channels=[ch]); code_ok(f'subscribe {ch} before it exists', e); print('  info: subscribe', ch, e[0])
    asset = await new_asset(ctx, own)
    await own.call('market.create', market_id='M', asset_id=asset, licence=LIC, tick=100, min_qty=10)
    await own.call('units.issue', market_id='M', qty=1000)
    await own.call('order.place', market_id='M', side='sell', type='limit', price=1000, qty=100, tif='gtc', client_order_id='s1')
    r = await X.call('order.place', market_id='M', side='buy', type='limit', price=1000, qty=100, tif='gtc', client_order_id='b1')
    check('b1 filled', r['status'] == 'filled', r)
    for i in range(2):
        e = await refused(ctx, f'cancel filled b1 by client_order_id (#{i+1})', X, 'order.cancel', people, market_id='M', client_order_id='b1')
        check(f'cancel filled b1 (#{i+1}) -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    e = await refused(ctx, 'cancel filled b1 by order_id', X, 'order.cancel', people, market_id='M', order_id=r['order_id'])
    e = await refused(ctx, 'Y cancels X\'s b1 by client_order_id', Y, 'order.cancel', people, market_id='M', client_order_id='b1')
    check('another trader\'s client_order_id -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    e = await refused(ctx, 'reuse client_order_id b1', X, 'order.place', people, market_id='M', side='buy', type='limit', price=1000, qty=10, tif='gtc', client_order_id='b1')
    check('reused client_order_id -> DUPLICATE', e[0] == 'DUPLICATE', e)
    e = await refused(ctx, 'cancel with both order_id and client_order_id (different orders)', X, 'order.cancel', people, market_id='M', order_id='nope', client_order_id='b1')
    e = await refused(ctx, 'cancel on the wrong market', X, 'order.cancel', people, market_id='NOPE', client_order_id='b1')
    # units.issue after trades, and by a non-licensor
    e = await own.errm('units.issue', market_id='M', qty=500); code_ok('units.issue after trades', e); print('  info: issue after trades', e)
    e = await refused(ctx, 'units.issue by a holder who is not the licensor', X, 'units.issue', people, market_id='M', qty=10)
    # GTD orders expiring at the very ms an English auction closes; walk there in 1 ms steps
    t = await ctx.now() + 10 * MIN
    _, au = await new_auction(ctx, own, closes=t)
    await Y.call('auction.register', auction_id=au); await Y.call('auction.bid', auction_id=au, amount=1_000_000)
    await X.call('order.place', market_id='M', side='buy', type='limit', price=900, qty=10, tif='gtd', expire_at=t, client_order_id='g1')
    await Y.call('order.place', market_id='M', side='buy', type='limit', price=900, qty=10, tif='gtd', expire_at=t, client_order_id='g2')
    await own.call('order.place', market_id='M', side='sell', type='limit', price=1100, qty=10, tif='gtd', expire_at=t + 1, client_order_id='g3')
    await ctx.adv_to(t - 3)
    for i in range(5): await ctx.adv(1)
    g = await a.call('auction.get', auction_id=au); check('auction sold at closes_at', g['state'] == 'sold', g['state'])
    for c, k in ((X, 'g1'), (Y, 'g2'), (own, 'g3')):
        e = await c.errm('order.cancel', market_id='M', client_order_id=k)
        check(f'GTD {k} expired by then (cancel -> INVALID_STATE)', e[0] == 'INVALID_STATE', e)
    ax = await a.call('account.get', participant_id=X.pid)
    check('X holds nothing after its GTD expired', ax['cash_held'] == 0, ax)
    # a GTD order with expire_at == now (already due)
    n = await ctx.now()
    e = await refused(ctx, 'GTD with expire_at == now', X, 'order.place', people, market_id='M', side='buy', type='limit', price=900, qty=10, tif='gtd', expire_at=n, client_order_id='g4')
    print('  info: GTD expire_at == now ->', e[0], e[1] if e[0] == 'OK' else '')
    if e[0] == 'OK':
        check('a GTD order placed with expire_at == now is not left resting past expire_at', e[1]['status'] in ('expired', 'cancelled'), e[1])
        ax = await a.call('account.get', participant_id=X.pid); check('...and holds no cash', ax['cash_held'] == 0, ax)
    # the pushes of a channel subscribed before the market existed: seq without gaps
    p = [m for m in await X.drain(0.5) if m['channel'] == 'book.M']
    seqs = [m['seq'] for m in p]
    check('book.M pushes (subscribed before it existed) have no seq gaps', all(b == a_ + 1 for a_, b in zip(seqs, seqs[1:])), seqs)
    print('  info: book.M push types', [m['type'] for m in p][:6])
    h = await a.errm('time.now'); check('server alive', h[0] == 'OK', h)

run('y03', scenario, sound=True)
