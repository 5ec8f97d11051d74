# Order book rules: lot/tick, market orders, holds and price improvement, FOK, IOC, post-only, STP modes, GTD expiry, fees, cancel
from common import *
async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise', fund=10_000_000); X = await ctx.mk('individual', fund=1_000_000); Y = await ctx.mk('individual', fund=1_000_000)
    asset = await new_asset(ctx, own)
    m = await own.call('market.create', market_id='M', asset_id=asset, licence=LIC, tick=100, min_qty=10, taker_fee_bp=100, maker_fee_bp=0)
    e = await X.err('market.create', market_id='M2', asset_id=asset, licence=LIC, tick=100, min_qty=10)
    check("market.create on another's asset -> NOT_FOUND", e == 'NOT_FOUND', e)
    e = await own.err('market.create', market_id='M', asset_id=asset, licence=LIC, tick=100, min_qty=10)
    check('market.create existing id -> DUPLICATE', e == 'DUPLICATE', e)
    e = await X.err('units.issue', market_id='M', qty=10)
    check('units.issue by non-licensor -> error', e in ('FORBIDDEN', 'NOT_FOUND'), e)
    await own.call('units.issue', market_id='M', qty=1000)
    acc = await own.call('account.get')
    check('position after issue', any(p.get('market_id') == 'M' and p['units'] == 1000 for p in acc['positions']), acc)
    O = lambda **k: dict(dict(market_id='M', side='buy', type='limit', price=1000, qty=10, tif='gtc'), **k)
    for k, exp in ((dict(qty=15, client_order_id='q1'), 'BAD_REQUEST'), (dict(qty=0, client_order_id='q2'), 'BAD_REQUEST'),
                   (dict(price=1050, client_order_id='q3'), 'BAD_PRICE'), (dict(price=0, client_order_id='q4'), 'BAD_REQUEST'),
                   (dict(type='market', tif='ioc', client_order_id='q5'), 'BAD_REQUEST'),
                   (dict(type='market', tif='gtc', price=None, client_order_id='q6'), 'BAD_REQUEST'),
                   (dict(tif='ioc', post_only=True, client_order_id='q7'), 'BAD_REQUEST'),
                   (dict(market_id='NOPE', client_order_id='q8'), 'NOT_FOUND'),
                   (dict(market_id='NOPE', qty=0, client_order_id='q9'), 'BAD_REQUEST'),
                   (dict(market_id='NOPE', price=0, client_order_id='q9b'), 'BAD_REQUEST'),
                   (dict(market_id='NOPE', type='market', tif='ioc', client_order_id='q9c'), 'BAD_REQUEST'),
                   (dict(market_id='NOPE', tif='fok', post_only=True, client_order_id='q9d'), 'BAD_REQUEST'),
                   (dict(price=1_000_000, qty=10, client_order_id='q10'), 'INSUFFICIENT_FUNDS'),
                   (dict(price=1_000_050, qty=10, client_order_id='q11'), 'BAD_PRICE'),
                   (dict(tif='gtd', client_order_id='q12'), 'BAD_REQUEST')):
        p = O(**k); p = {kk: v for kk, v in p.items() if v is not None}
        if p.get('type') == 'market' and 'price' in k and k['price'] is None: p.pop('price', None)
        e = await X.errm('order.place', **p)
        check(f'order.place {k} -> {exp}', e[0] == exp, e)
    e = await X.errm('order.place', **O(market_id='NOPE', qty=15, client_order_id='q9e'))
    print('AMBIGUITY unknown market with qty off-lot (lot unknowable):', e)
    # rejected id is not used up
    r = await X.errm('order.place', **O(client_order_id='q3'))
    check('rejected client_order_id can be reused', r[0] == 'OK', r)
    e = await X.err('order.place', **O(client_order_id='q3'))
    check('client_order_id reused -> DUPLICATE', e == 'DUPLICATE', e)
    acc = await X.call('account.get')
    check('limit buy holds price x qty', acc['cash_held'] == 10_000, acc)
    # price improvement: sell at 900 crossing own? X buy 1000 resting; Y sells 10 @ 900 -> trade at 1000 (resting price)
    await own.call('order.place', market_id='M', side='sell', type='limit', price=1200, qty=20, tif='gtc', client_order_id='s1')
    r = await X.call('order.place', market_id='M', side='buy', type='limit', price=1500, qty=20, tif='gtc', client_order_id='b-imp')
    acc = await X.call('account.get')
    fee = 20 * 1200 * 100 // 10000
    check('fill at better price returns difference; taker fee 1%', r['status'] == 'filled' and r['leaves_qty'] == 0 and acc['cash_held'] == 10_000 and acc['cash_available'] == 1_000_000 - 10_000 - 24_000 - fee, (r, acc, fee))
    # FOK unfillable -> cancelled, nothing filled (result not error)
    await own.call('order.place', market_id='M', side='sell', type='limit', price=1300, qty=10, tif='gtc', client_order_id='s2')
    r = await X.call('order.place', market_id='M', side='buy', type='limit', price=1300, qty=20, tif='fok', client_order_id='fok1')
    check('FOK unfillable -> cancelled, nothing filled', r['status'] == 'cancelled' and r['filled_qty'] == 0 and r['fills'] == [], r)
    r = await X.call('order.place', market_id='M', side='buy', type='limit', price=1300, qty=20, tif='ioc', client_order_id='ioc1')
    check('IOC partial -> cancelled with fill, leaves 0', r['status'] == 'cancelled' and r['filled_qty'] == 10 and r['leaves_qty'] == 0, r)
    # market order against empty side
    r = await X.call('order.place', market_id='M', side='buy', type='market', qty=10, tif='ioc', client_order_id='mk1')
    check('market vs empty side -> cancelled nothing filled', r['status'] == 'cancelled' and r['filled_qty'] == 0, r)
    # post-only crossing own order -> WOULD_CROSS
    await X.call('order.place', market_id='M', side='sell', type='limit', price=2000, qty=10, tif='gtc', client_order_id='xs1') if False else None
    await own.call('order.place', market_id='M', side='sell', type='limit', price=1400, qty=10, tif='gtc', client_order_id='s3')
    e = await own.err('order.place', market_id='M', side='buy', type='limit', price=1400, qty=10, tif='gtc', post_only=True, client_order_id='po1')
    check('post-only crossing own order -> WOULD_CROSS', e == 'WOULD_CROSS', e)
    # STP default cancel_incoming
    r = await own.call('order.place', market_id='M', side='buy', type='limit', price=1400, qty=10, tif='gtc', client_order_id='stp1')
    check('STP cancel_incoming: incoming cancelled, no fill', r['status'] == 'cancelled' and r['filled_qty'] == 0, r)
    e = await own.err('order.place', market_id='M', side='buy', type='limit', price=1400, qty=10, tif='gtc', stp='reject', client_order_id='stp2')
    check('STP reject -> SELF_TRADE', e == 'SELF_TRADE', e)
    r = await own.call('order.place', market_id='M', side='buy', type='limit', price=1400, qty=10, tif='gtc', stp='cancel_resting', client_order_id='stp3')
    check('STP cancel_resting: resting cancelled, incoming rests', r['status'] == 'open' and r['filled_qty'] == 0, r)
    c = await own.call('order.cancel', market_id='M', client_order_id='stp3')
    check('order.cancel -> cancelled in order.place shape', c['status'] == 'cancelled' and 'fills' in c and c['leaves_qty'] == 0, c)
    e = await own.err('order.cancel', market_id='M', client_order_id='stp3')
    check('cancel done order -> INVALID_STATE', e == 'INVALID_STATE', e)
    e = await Y.err('order.cancel', market_id='M', client_order_id='s1')
    check("cancel another's order -> NOT_FOUND", e == 'NOT_FOUND', e)
    # GTD expiry
    now = await ctx.now()
    r = await Y.call('order.place', market_id='M', side='buy', type='limit', price=100, qty=10, tif='gtd', expire_at=now + MIN, client_order_id='g1')
    held = (await Y.call('account.get'))['cash_held']
    await ctx.adv(MIN)
    c = await Y.errm('order.cancel', market_id='M', client_order_id='g1')
    acc = await Y.call('account.get')
    check('GTD expired: cancel -> INVALID_STATE, hold released', c[0] == 'INVALID_STATE' and acc['cash_held'] == held - 1000, (c, held, acc))
    # units held in resting sells
    acc = await own.call('account.get')
    pm = [p for p in acc['positions'] if p.get('market_id') == 'M'][0]
    check('units_held = resting sell qty (s3 cancelled by STP cancel_resting)', pm['units_held'] == 0 + 0, pm)
    print(acc)
run('r16', sc)
