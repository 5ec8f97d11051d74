# Audit d: client_order_id lifetime, request_id replays of order requests, and the order of the order rules.
# PROTOCOL "Orders": "client_order_id is unique per participant for all time (DUPLICATE if reused; the id of a rejected
# order.place is not used up)"; results (not errors) use it: an IOC remainder, an unfillable FOK, an STP cut, a market
# order against an empty side ("they end cancelled with nothing filled"); "Then the rules, first failing wins:
# BAD_PRICE, INSUFFICIENT_FUNDS (a limit buy needs price x qty available), WOULD_CROSS, SELF_TRADE";
# "Idempotency": "The first reply ... success or error ... is ... returned again for any retry with the same params,
# applying nothing; the same request_id with different params is DUPLICATE" (order.replace included: "every method").
from common import *

async def sc(ctx):
    a = ctx.adm
    S = await ctx.mk('enterprise', fund=0)
    asset = await new_asset(ctx, S)
    await S.call('market.create', market_id='E', asset_id=asset, licence=LIC, tick=100, min_qty=10)
    await S.call('units.issue', market_id='E', qty=1000)
    X = await ctx.mk('individual', fund=0)
    O = order_maker('E', 'buy')
    mk = lambda **k: {kk: v for kk, v in O(type='market', **k).items() if kk != 'price'}
    # --- 1. market orders against an empty side, with nothing to pay or sell: cancelled, nothing filled
    r = await X.errm('order.place', **mk(tif='ioc', client_order_id='m1'))
    check('1 market ioc buy with 0 cash vs empty asks (takes nothing, so covered) -> cancelled, nothing filled', r[0] == 'OK' and (r[1]['status'], r[1]['filled_qty'], r[1]['leaves_qty']) == ('cancelled', 0, 0), r)
    r = await X.errm('order.place', **mk(tif='fok', client_order_id='m2'))
    check('1 market fok buy with 0 cash vs empty asks -> cancelled', r[0] == 'OK' and r[1]['status'] == 'cancelled', r)
    r = await S.errm('order.place', **mk(side='sell', tif='ioc', client_order_id='m3'))
    check('1 market sell (units owned) vs empty bids -> cancelled', r[0] == 'OK' and r[1]['status'] == 'cancelled', r)
    r = await X.errm('order.place', **mk(side='sell', tif='ioc', client_order_id='m4'))
    print('  info: market sell with 0 units vs empty bids ->', r[0])
    # --- 2. the order of the rules
    await S.call('order.place', **O(side='sell', price=1000, qty=10, client_order_id='sa'))
    e = await refused(ctx, 'S (cash 0) buy 10 @ 1000, stp reject, crossing only its own ask', S, 'order.place', [S], **O(price=1000, stp='reject', client_order_id='p1'))
    check('2 INSUFFICIENT_FUNDS before SELF_TRADE (buy)', e[0] == 'INSUFFICIENT_FUNDS', e)
    e = await refused(ctx, 'S buy 10 @ 1050 post-only stp reject crossing own', S, 'order.place', [S], **O(price=1050, post_only=True, stp='reject', client_order_id='p1'))
    check('2 BAD_PRICE before INSUFFICIENT_FUNDS, WOULD_CROSS, SELF_TRADE', e[0] == 'BAD_PRICE', e)
    await a.call('account.fund', participant_id=X.pid, amount=100_000)
    await X.call('order.place', **O(price=1000, qty=10, client_order_id='x0'))   # X buys S's 10 units
    await X.call('order.place', **O(price=900, qty=10, client_order_id='xb'))
    e = await refused(ctx, 'X sell 20 (owns 10) stp reject into its own bid', X, 'order.place', [X], **O(side='sell', price=900, qty=20, stp='reject', client_order_id='p2'))
    check('2 not enough units before SELF_TRADE (sell): refused, not SELF_TRADE', e[0] not in ('OK', 'SELF_TRADE', 'INTERNAL'), e)
    e = await refused(ctx, 'X sell 20 (owns 10) post-only into its own bid', X, 'order.place', [X], **O(side='sell', price=900, qty=20, post_only=True, client_order_id='p2'))
    check('2 not enough units before WOULD_CROSS (sell): refused, not WOULD_CROSS', e[0] not in ('OK', 'WOULD_CROSS', 'INTERNAL'), e)
    e = await refused(ctx, 'X sell 10 post-only stp reject into its own bid', X, 'order.place', [X], **O(side='sell', price=900, qty=10, post_only=True, stp='reject', client_order_id='p2'))
    check('2 WOULD_CROSS before SELF_TRADE (sell)', e[0] == 'WOULD_CROSS', e)
    # --- 3. which outcomes use a client_order_id up
    used = {}
    r = await X.call('order.place', **O(side='sell', price=900, qty=10, client_order_id='u_stp'))     # cancel_incoming into own bid
    used['u_stp'] = r['status']
    r = await X.call('order.place', **O(price=100, qty=10, tif='ioc', client_order_id='u_ioc')); used['u_ioc'] = r['status']
    r = await X.call('order.place', **O(price=100, qty=10, tif='fok', client_order_id='u_fok')); used['u_fok'] = r['status']
    now = await ctx.now()
    r = await X.call('order.place', **O(price=100, qty=10, tif='gtd', expire_at=now + 1, client_order_id='u_gtd')); await ctx.adv(1); used['u_gtd'] = r['status']
    check('3 STP-cut, IOC, FOK results cancelled; GTD rested', used == {'u_stp': 'cancelled', 'u_ioc': 'cancelled', 'u_fok': 'cancelled', 'u_gtd': 'open'}, used)
    for k in ('m1', 'm2', 'u_stp', 'u_ioc', 'u_fok', 'u_gtd', 'x0'):
        e = await refused(ctx, f'reuse {k}', X, 'order.place', [X], **O(price=100, qty=10, client_order_id=k))
        check(f'3 client_order_id {k} (a result) is used up -> DUPLICATE', e[0] == 'DUPLICATE', e)
    for k in ('p1',):
        e = await S.errm('order.cancel', market_id='E', client_order_id=k)
        check(f'3 cancel by the client_order_id of a rejected order -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    e = await S.errm('order.place', **O(side='sell', price=2000, qty=10, client_order_id='p1'))
    check('3 the id of a refused order.place (p1: INSUFFICIENT_FUNDS, BAD_PRICE) is not used up', e[0] == 'OK' and e[1]['status'] == 'open', e)
    e = await X.errm('order.place', **O(side='sell', price=2000, qty=10, client_order_id='p2'))
    check('3 p2 (refused three times) is not used up', e[0] == 'OK' and e[1]['status'] == 'open', e)
    e = await X.errm('order.place', **O(price=100, qty=10, client_order_id='XB'))
    check('3 client_order_id is case-sensitive (XB after xb) -> accepted', e[0] == 'OK', e)
    e = await X.errm('order.place', **O(price=100, qty=10, client_order_id='xb '))
    check("3 'xb ' (trailing space) is another id -> accepted", e[0] == 'OK', e)
    # --- 4. request_id replays: errors are kept too
    Y = await ctx.mk('individual', fund=9_999)
    p = dict(O(price=1000, qty=10, client_order_id='y1'), request_id='ry1')
    r1 = await Y.raw('order.place', p)
    await a.call('account.fund', participant_id=Y.pid, amount=1)
    r2 = await Y.raw('order.place', p)
    check('4 INSUFFICIENT_FUNDS kept: the retry after funding returns it again, applying nothing',
          r1.get('error', {}).get('code') == 'INSUFFICIENT_FUNDS' and r2.get('error') == r1.get('error') and (await Y.call('account.get'))['cash_held'] == 0, (r1, r2))
    r3 = await Y.raw('order.place', dict(p, request_id='ry2'))
    check('4 a new request_id with the same client_order_id is accepted (the rejected id was not used up)', 'result' in r3 and r3['result']['status'] == 'open', r3)
    oid = r3['result']['order_id']
    # replace with a request_id: replayed, applied once
    q1 = await Y.raw('order.replace', {'market_id': 'E', 'order_id': oid, 'price': 800, 'request_id': 'rr1'})
    y1 = await Y.call('account.get')
    q2 = await Y.raw('order.replace', {'market_id': 'E', 'order_id': oid, 'price': 800, 'request_id': 'rr1'})
    check('4 order.replace retried with its request_id -> the same reply', 'result' in q1 and q1 == dict(q2, id=q1['id']), (q1, q2))
    check('4 ... applied once: hold 8,000', y1['cash_held'] == 8_000 and (await Y.call('account.get')) == y1, y1)
    q3 = await Y.raw('order.replace', {'market_id': 'E', 'order_id': oid, 'price': 700, 'request_id': 'rr1'})
    check('4 order.replace same request_id, other params -> DUPLICATE', q3.get('error', {}).get('code') == 'DUPLICATE', q3)
    await Y.call('order.cancel', market_id='E', order_id=oid)
    q4 = await Y.raw('order.replace', {'market_id': 'E', 'order_id': oid, 'price': 800, 'request_id': 'rr1'})
    check('4 replay after the order was cancelled -> still the first reply', q4.get('result') == q1.get('result'), q4)
    # SELF_TRADE kept even after the own order is gone
    await S.call('order.place', **O(side='sell', price=1500, qty=10, client_order_id='s30'))
    await a.call('account.fund', participant_id=S.pid, amount=1_000_000)
    ps = dict(O(price=1500, qty=10, stp='reject', client_order_id='s31'), request_id='rs1')
    s1 = await S.raw('order.place', ps)
    await S.call('order.cancel', market_id='E', client_order_id='s30')
    s2 = await S.raw('order.place', ps)
    check('4 SELF_TRADE kept: replay after the own ask is cancelled -> SELF_TRADE again, nothing rests',
          s1.get('error', {}).get('code') == 'SELF_TRADE' and s2.get('error') == s1.get('error') and (await S.call('account.get'))['cash_held'] == 0, (s1, s2))
    # --- info (open readings)
    await S.call('order.place', **O(side='sell', price=1000, qty=10, client_order_id='s40'))
    Z = await ctx.mk('individual', fund=5_000)
    r = await Z.errm('order.place', **mk(tif='fok', qty=40, client_order_id='z1'))
    print('  info: market FOK buy 40 vs 30 on offer (10 @ 1000, 20 @ 2000) with 5,000 (unfillable and not covered) ->', r[0], r[1].get('status') if r[0] == 'OK' else '')
    r = await Z.errm('order.place', **mk(tif='ioc', qty=20, client_order_id='z2'))
    print('  info: market IOC buy 20 (would take 10 @ 1000 + 10 @ 2000) with 5,000 ->', r[0])
    r = await X.errm('order.place', **O(price=1050, client_order_id='x0'))
    print('  info: reused client_order_id with an off-tick price ->', r[0])
    r = await X.errm('order.place', **O(price=100, tif='ioc', post_only=False, client_order_id='pf'))
    check('post_only false with ioc is not post-only -> accepted', r[0] == 'OK', r)
run('d05', sc)
