# PROTOCOL "Orders" (eleventh audit): "a market buy must be covered by cash_available at the prices it would take" read
# with "self-trade prevention applies as the order would execute, level by level": under the default cancel_incoming a
# market buy stops at its owner's resting order, so it needs cash only for what comes before it; under cancel_resting it
# skips its own order and needs cash for the levels beyond. GTD needs a future expire_at (docs: BAD_REQUEST); a GTD at
# now + 1 ms expires 1 ms later. Informational: time priority after order.replace (the docs do not say).
from common import *

async def sc(ctx):
    a = ctx.adm
    S = await ctx.mk('enterprise', fund=0)
    asset = await new_asset(ctx, S)
    await S.call('market.create', market_id='M', asset_id=asset, licence=LIC, tick=100, min_qty=10)
    await S.call('units.issue', market_id='M', qty=1000)
    P = await ctx.mk('individual', fund=0)
    O = order_maker('M', 'sell')
    mk = lambda **k: {kk: v for kk, v in O(type='market', **k).items() if kk != 'price'}
    await S.call('order.place', **O(side='sell', price=500, qty=50, client_order_id='seed'))
    await a.call('account.fund', participant_id=P.pid, amount=25_000)
    await P.call('order.place', **O(side='buy', price=500, qty=50, client_order_id='pseed'))   # P owns 50 units, cash 0
    # asks: S 10@1000 | P 10@1100 | S 10@1200
    await S.call('order.place', **O(price=1000, qty=10, client_order_id='s1'))
    await P.call('order.place', **O(price=1100, qty=10, client_order_id='p1'))
    await S.call('order.place', **O(price=1200, qty=10, client_order_id='s2'))
    await a.call('account.fund', participant_id=P.pid, amount=10_000)
    r = await P.errm('order.place', **mk(side='buy', qty=30, tif='ioc', client_order_id='m1'))
    check('cancel_incoming market buy 30 with 10,000: it would take only 10 @ 1000 before its own order -> filled 10, cancelled',
          r[0] == 'OK' and r[1]['filled_qty'] == 10 and r[1]['status'] == 'cancelled' and [(f['price'], f['qty']) for f in r[1]['fills']] == [(1000, 10)], r)
    acc = await P.call('account.get')
    check('P: cash 0, 60 units, own ask still resting (units_held 10)', acc['cash_available'] == 0 and mp(acc, 'M') == (60, 10), acc)
    # asks: P 10@1100 | S 10@1200 | S 10@1300
    await S.call('order.place', **O(price=1300, qty=10, client_order_id='s3'))
    await a.call('account.fund', participant_id=P.pid, amount=24_999)
    e = await refused(ctx, 'cancel_resting market buy 20 with 24,999 (needs 12,000 + 13,000)', P, 'order.place', [P, S],
                      **mk(side='buy', qty=20, tif='ioc', stp='cancel_resting', client_order_id='m2'))
    check('cancel_resting market buy one fen short of the levels beyond its own order -> INSUFFICIENT_FUNDS', e[0] == 'INSUFFICIENT_FUNDS', e)
    await a.call('account.fund', participant_id=P.pid, amount=1)
    r = await P.errm('order.place', **mk(side='buy', qty=20, tif='fok', stp='cancel_resting', client_order_id='m2'))
    check('cancel_resting market FOK 20 with 25,000: own ask cancelled, 10@1200 + 10@1300 filled',
          r[0] == 'OK' and r[1]['status'] == 'filled' and [(f['price'], f['qty']) for f in r[1]['fills']] == [(1200, 10), (1300, 10)], r)
    acc = await P.call('account.get')
    check('P: cash 0, 80 units, nothing locked (own ask cancelled)', acc['cash_available'] == 0 and acc['cash_held'] == 0 and mp(acc, 'M') == (80, 0), acc)
    e = await P.errm('order.cancel', market_id='M', client_order_id='p1')
    check("P's own ask was cancelled by stp (cancel -> INVALID_STATE)", e[0] == 'INVALID_STATE', e)
    # --- GTD needs a future expire_at
    X = await ctx.mk('individual', fund=1_000_000)
    now = await ctx.now()
    OB = order_maker('M', 'buy')
    e = await refused(ctx, 'gtd expire_at == now', X, 'order.place', [X], **OB(price=100, tif='gtd', expire_at=now, client_order_id='g0'))
    check('gtd with expire_at == now -> BAD_REQUEST (docs: a future expire_at)', e[0] == 'BAD_REQUEST', e)
    e = await X.errm('order.place', **OB(price=100, tif='gtd', expire_at=now - 1, client_order_id='g0b'))
    check('gtd with expire_at in the past -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    r = await X.call('order.place', **OB(price=100, tif='gtd', expire_at=now + 1, client_order_id='g1'))
    check('gtd expire_at now + 1 rests, hold 1,000', r['status'] == 'open' and (await X.call('account.get'))['cash_held'] == 1_000, r)
    await ctx.adv(1)
    e = await X.errm('order.cancel', market_id='M', client_order_id='g1')
    check('1 ms later it has expired (cancel -> INVALID_STATE), hold released', e[0] == 'INVALID_STATE' and (await X.call('account.get'))['cash_held'] == 0, e)
    # --- informational: time priority after order.replace
    Y = await ctx.mk('individual', fund=1_000_000)
    ox = (await X.call('order.place', **OB(price=200, qty=20, client_order_id='px')))['order_id']
    await Y.call('order.place', **OB(price=200, qty=20, client_order_id='py'))
    await X.call('order.replace', market_id='M', order_id=ox, qty=10)
    r = await S.call('order.place', **O(price=200, qty=10, tif='ioc', client_order_id='sx'))
    ec = await X.errm('order.cancel', market_id='M', order_id=ox)
    fx = ec[0] == 'INVALID_STATE' or (ec[0] == 'OK' and ec[1]['filled_qty'] > 0)
    print('  info: after X reduced its qty by order.replace, a sell of 10 filled', 'X (priority kept)' if fx else 'Y (priority lost)')
run('n06', sc)
