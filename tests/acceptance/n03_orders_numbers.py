# PROTOCOL "Orders" and the order defaults, number by number (eleventh audit): a market buy covered by cash_available
# exactly (one fen less -> INSUFFICIENT_FUNDS, nothing applied), a market IOC against thin liquidity needs cover only for
# what it takes, shape checks (lot, tick, price, market tif, post_only tif), the hold = limit x leaves with price
# improvement, an IOC remainder, a FOK exactly fillable across levels, GTD expiry at exactly expire_at after a long jump
# (push ts = expire_at), stp default cancel_incoming, and order.replace (docs extension): hold, BAD_PRICE, done order.
from common import *

async def sc(ctx):
    a = ctx.adm
    S = await ctx.mk('enterprise', fund=1_000_000)
    asset = await new_asset(ctx, S)
    await S.call('market.create', market_id='M', asset_id=asset, licence=LIC, tick=50, min_qty=5)
    await S.call('units.issue', market_id='M', qty=1000)
    O = order_maker('M', 'sell')
    mk = lambda **k: {kk: v for kk, v in O(type='market', **k).items() if kk != 'price'}
    await S.call('order.place', **O(price=1000, qty=10)); await S.call('order.place', **O(price=1050, qty=10))
    await S.call('order.place', **O(price=1200, qty=20))
    # asks 1000x10, 1050x10, 1200x20. Market buy 25 would take 10@1000 + 10@1050 + 5@1200 = 26,500
    B = await ctx.mk('individual', fund=26_499)
    e = await refused(ctx, 'market buy 25 with 26,499 available (needs 26,500)', B, 'order.place', [B, S],
                      **mk(side='buy', qty=25, tif='ioc', client_order_id='m1'))
    check('market buy one fen short -> INSUFFICIENT_FUNDS', e[0] == 'INSUFFICIENT_FUNDS', e)
    await a.call('account.fund', participant_id=B.pid, amount=1)
    r = await B.call('order.place', **mk(side='buy', qty=25, tif='fok', client_order_id='m1'))
    check('market FOK buy covered exactly (26,500): filled 10@1000, 10@1050, 5@1200', r['status'] == 'filled' and r['leaves_qty'] == 0
          and [(f['price'], f['qty']) for f in r['fills']] == [(1000, 10), (1050, 10), (1200, 5)], r)
    acc = await B.call('account.get')
    check('buyer cash 0 and 25 units after exact market buy', acc['cash_available'] == 0 and acc['cash_held'] == 0 and mp(acc, 'M') == (25, 0), acc)
    # asks now 1200x15. Market IOC buy 50 with cash for exactly the 15 it would take (18,000)
    B2 = await ctx.mk('individual', fund=18_000)
    r = await B2.errm('order.place', **mk(side='buy', qty=50, tif='ioc', client_order_id='m2'))
    check('market IOC 50 against 15 available, cash covers what it would take -> 15 filled, rest cancelled',
          r[0] == 'OK' and r[1]['filled_qty'] == 15 and r[1]['status'] == 'cancelled' and r[1]['leaves_qty'] == 0, r)
    # --- shapes (BAD_REQUEST) and grid (BAD_PRICE)
    C = await ctx.mk('individual', fund=10_000_000)
    OB = order_maker('M', 'buy')
    for name, p in (('qty not a multiple of the lot (7, lot 5)', OB(qty=7)), ('qty 0', OB(qty=0)), ('qty negative', OB(qty=-5)),
                    ('price 0', OB(price=0)), ('price negative', OB(price=-50)),
                    ('market with a price', OB(type='market', tif='ioc')), ('market gtc', mk(side='buy', tif='gtc')),
                    ('market gtd', mk(side='buy', tif='gtd', expire_at=T0 + 10 * DAY)), ('post_only ioc', OB(tif='ioc', post_only=True)),
                    ('post_only fok', OB(tif='fok', post_only=True)), ('gtd without expire_at', OB(tif='gtd')),
                    ('unknown tif', OB(tif='day')), ('unknown stp', OB(stp='cancel_newest'))):
        e = await refused(ctx, name, C, 'order.place', [C], **p)
        check(f'{name} -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    e = await C.errm('order.place', **OB(price=1025))
    check('price 1025 off the 50 tick -> BAD_PRICE', e[0] == 'BAD_PRICE', e)
    e = await C.errm('order.place', **OB(price=1025, qty=7))
    check('off-tick price and off-lot qty -> BAD_REQUEST (shape first)', e[0] == 'BAD_REQUEST', e)
    # --- hold = limit x leaves; price improvement returned at once; IOC remainder
    r = await C.call('order.place', **OB(price=1500, qty=20, client_order_id='h1'))
    # asks are empty now -> rests; hold 30,000
    acc = await C.call('account.get')
    check('limit buy 20 @ 1500 rests, hold 30,000', r['status'] == 'open' and acc['cash_held'] == 30_000 and acc['cash_available'] == 9_970_000, (r, acc))
    await C.call('order.cancel', market_id='M', client_order_id='h1')
    await S.call('order.place', **O(price=1100, qty=10, client_order_id='s_a'))
    r = await C.call('order.place', **OB(price=1500, qty=20, client_order_id='h2'))
    acc = await C.call('account.get')
    check('buy 20 @ 1500 fills 10 @ 1100, rests 10: hold 1500 x 10 = 15,000, available 10,000,000 - 11,000 - 15,000',
          r['status'] == 'partially_filled' and r['filled_qty'] == 10 and r['leaves_qty'] == 10 and acc['cash_held'] == 15_000
          and acc['cash_available'] == 9_974_000, (r, acc))
    await C.call('order.cancel', market_id='M', client_order_id='h2')
    await S.call('order.place', **O(price=1100, qty=10, client_order_id='s_b'))
    r = await C.call('order.place', **OB(price=1200, qty=25, tif='ioc', client_order_id='h3'))
    acc = await C.call('account.get')
    check('IOC 25 @ 1200 vs 10 @ 1100: filled 10, cancelled, leaves 0, nothing held (9,989,000 - 11,000)', r['status'] == 'cancelled' and r['filled_qty'] == 10
          and r['leaves_qty'] == 0 and acc['cash_held'] == 0 and acc['cash_available'] == 9_978_000, (r, acc))
    # FOK exactly fillable across two levels
    await S.call('order.place', **O(price=1100, qty=10, client_order_id='s_c')); await S.call('order.place', **O(price=1150, qty=5, client_order_id='s_d'))
    r = await C.call('order.place', **OB(price=1150, qty=15, tif='fok', client_order_id='h4'))
    check('FOK 15 @ 1150 against exactly 10@1100 + 5@1150 -> filled', r['status'] == 'filled' and r['filled_qty'] == 15, r)
    # --- stp default (cancel_incoming): C sells into its own resting buy -> cancelled, own buy kept
    await C.call('order.place', **OB(price=900, qty=10, client_order_id='own_b'))
    r = await C.call('order.place', **O(price=900, qty=10, client_order_id='own_s'))
    check('default stp cancel_incoming: sell into own bid -> cancelled, nothing filled', r['status'] == 'cancelled' and r['filled_qty'] == 0, r)
    acc = await C.call('account.get')
    check("own resting bid kept (hold 9,000), no units locked", acc['cash_held'] == 9_000 and mp(acc, 'M')[1] == 0, acc)
    # --- GTD: expires at exactly expire_at even when time.advance jumps well past it
    now = await ctx.now()
    await C.call('subscribe', channels=['private']); await C.drain()
    r = await C.call('order.place', **OB(price=800, qty=10, tif='gtd', expire_at=now + HOUR, client_order_id='g1'))
    check('gtd rests (open)', r['status'] == 'open', r)
    await ctx.adv(3 * HOUR)
    ps = await C.drain()
    ex = [p for p in ps if p['type'] == 'order' and p['data'].get('client_order_id') == 'g1']
    check('private order push: expired, leaves 0', ex and ex[-1]['data']['status'] == 'expired' and ex[-1]['data']['leaves_qty'] == 0, ps)
    check('expiry push ts = expire_at (the timer fires at its own time)', ex and ex[-1]['ts'] == now + HOUR, ex and ex[-1]['ts'] - now)
    acc = await C.call('account.get')
    check('after expiry only own_b (9,000) is held', acc['cash_held'] == 9_000, acc)
    # --- order.replace (docs/protocol.md extension)
    rid = (await C.call('order.place', **OB(price=700, qty=10, client_order_id='rp')))['order_id']
    r = await C.errm('order.replace', market_id='M', order_id=rid, price=725)
    check('replace to an off-tick price -> BAD_PRICE', r[0] == 'BAD_PRICE', r)
    r = await C.errm('order.replace', market_id='M', order_id=rid, qty=12)
    check('replace to an off-lot qty -> BAD_REQUEST', r[0] == 'BAD_REQUEST', r)
    r = await C.errm('order.replace', market_id='M', order_id=rid, price=750, qty=20)
    acc = await C.call('account.get')
    check('replace 10 @ 700 -> 20 @ 750: open, hold 9,000 + 15,000', r[0] == 'OK' and r[1]['price'] == 750 and r[1]['leaves_qty'] == 20
          and acc['cash_held'] == 24_000, (r, acc))
    r = await S.errm('order.replace', market_id='M', order_id=rid, price=800)
    check("replace another participant's order -> NOT_FOUND", r[0] == 'NOT_FOUND', r)
    await S.call('order.place', **O(price=1000, qty=10, client_order_id='s_e'))
    r = await C.errm('order.replace', market_id='M', order_id=rid, price=1000)
    check('replace to a crossing price trades at the resting price: 10 @ 1000 filled, 10 rest',
          r[0] == 'OK' and r[1]['filled_qty'] == 10 and r[1]['leaves_qty'] == 10, r)
    acc = await C.call('account.get')
    check('hold after replace fill = 9,000 + 1000 x 10', acc['cash_held'] == 19_000, acc)
    r = await C.errm('order.replace', market_id='M', order_id=rid, price=950)
    acc = await C.call('account.get')
    check('replace the partly filled order to 950: leaves 10, hold 9,000 + 9,500', r[0] == 'OK' and r[1]['leaves_qty'] == 10
          and r[1]['filled_qty'] == 10 and acc['cash_held'] == 18_500, (r, acc))
    await C.call('order.cancel', market_id='M', order_id=rid)
    r = await C.errm('order.replace', market_id='M', order_id=rid, price=950)
    check('replace of a done (cancelled) order -> INVALID_STATE', r[0] == 'INVALID_STATE', r)
run('n03', sc)
