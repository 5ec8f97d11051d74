# Audit d: order.replace (an extension: PROTOCOL.md does not list it; "Add fields and methods freely") judged by the
# rules the contract states for every order and request: "A limit buy holds limit price x leaves_qty"; units_held =
# units locked in resting sells; "INSUFFICIENT_FUNDS (a limit buy needs price x qty available)"; BAD_PRICE off the
# tick grid; qty a positive multiple of the lot; "A rejected request changes nothing"; NOT_FOUND for another
# participant's order; "cancelling a done order is INVALID_STATE" (the same for a replace is assumed); params
# "validated strictly: ... a value out of range is BAD_REQUEST with the field named in the message"; book.<m> levels
# and trades.<m> aggressor_side after a replace that moves or crosses. Priority after a replace is printed (not stated).
from common import *

def fl(r): return [(f['price'], f['qty']) for f in r['fills']]

async def sc(ctx):
    a = ctx.adm
    S = await ctx.mk('enterprise', fund=1_000_000)
    asset = await new_asset(ctx, S)
    await S.call('market.create', market_id='R', asset_id=asset, licence=LIC, tick=100, min_qty=10)
    await S.call('units.issue', market_id='R', qty=1000)
    B = await ctx.mk('individual', fund=60_000); Y = await ctx.mk('individual', fund=1_000_000)
    W = await ctx.mk('individual')
    await W.call('subscribe', channels=['book.R', 'trades.R']); await W.drain(0.2)
    async def acc(c): return await a.call('account.get', participant_id=c.pid)
    async def ch():
        ps = await W.drain(0.3)
        return [c for q in ps if q['channel'] == 'book.R' for c in q['data']['changes']], [q['data'] for q in ps if q['channel'] == 'trades.R']
    O = order_maker('R', 'buy')
    # B: buy 50 @ 1000 (hold 50,000), S sells 20 into it -> leaves 30, hold 30,000, available 10,000
    oid = (await B.call('order.place', **O(price=1000, qty=50, client_order_id='b1')))['order_id']
    await S.call('order.place', **O(side='sell', price=1000, qty=20, tif='ioc', client_order_id='s0'))
    b = await acc(B); await ch()
    check('setup: B buy 50 @ 1000 filled 20; hold 30,000, available 10,000', (b['cash_held'], b['cash_available']) == (30_000, 10_000), b)
    # --- raising the hold needs the increase available
    e = await refused(ctx, 'replace price 1000 -> 1400 with 10,000 available (needs 12,000 more)', B, 'order.replace', [B], market_id='R', order_id=oid, price=1400)
    check('raise price beyond available -> INSUFFICIENT_FUNDS', e[0] == 'INSUFFICIENT_FUNDS', e)
    e = await refused(ctx, 'replace qty 50 -> 70 at 1000 (20 more = 20,000) with 10,000', B, 'order.replace', [B], market_id='R', order_id=oid, qty=70)
    check('raise qty beyond available -> INSUFFICIENT_FUNDS', e[0] == 'INSUFFICIENT_FUNDS', e)
    check('refusals pushed no book change', (await ch())[0] == [])
    r = await B.call('order.replace', market_id='R', order_id=oid, price=1300)
    b = await acc(B)
    check('replace to 1300 (needs exactly 9,000 more): leaves 30, hold 39,000, available 1,000', (r['price'], r['leaves_qty'], r['filled_qty'], b['cash_held'], b['cash_available']) == (1300, 30, 20, 39_000, 1_000), (r, b))
    check('book: bid 1000 removed, bid 1300 = 30', sorted((await ch())[0]) == sorted([['bid', 1000, 0], ['bid', 1300, 30]]))
    r = await B.call('order.replace', market_id='R', order_id=oid, qty=30)
    b = await acc(B)
    check('replace qty 50 -> 30 (filled 20): leaves 10, hold 13,000, available 27,000', (r['leaves_qty'], r['filled_qty'], r['status'], b['cash_held'], b['cash_available']) == (10, 20, 'partially_filled', 13_000, 27_000), (r, b))
    check('book: bid 1300 = 10', (await ch())[0] == [['bid', 1300, 10]])
    # qty at or below filled_qty
    e = await refused(ctx, 'replace qty to 20 (= filled_qty)', B, 'order.replace', [B], market_id='R', order_id=oid, qty=20)
    print('  info: replace qty to filled_qty ->', e)
    check('replace qty to filled_qty is refused; a BAD_REQUEST names the field (qty) (PROTOCOL Envelope: "with the field named in the message")', e[0] != 'OK' and (e[0] != 'BAD_REQUEST' or 'qty' in e[1]), e)
    e = await refused(ctx, 'replace qty to 10 (< filled_qty)', B, 'order.replace', [B], market_id='R', order_id=oid, qty=10)
    check('replace qty below filled_qty is refused; a BAD_REQUEST names the field (qty)', e[0] != 'OK' and (e[0] != 'BAD_REQUEST' or 'qty' in e[1]), e)
    e = await refused(ctx, 'replace price off tick', B, 'order.replace', [B], market_id='R', order_id=oid, price=1250)
    check('replace price off the tick -> BAD_PRICE', e[0] == 'BAD_PRICE', e)
    e = await refused(ctx, 'replace qty off lot', B, 'order.replace', [B], market_id='R', order_id=oid, qty=35)
    check('replace qty off the lot -> BAD_REQUEST naming qty', e[0] == 'BAD_REQUEST' and 'qty' in e[1], e)
    e = await refused(ctx, 'replace price -100', B, 'order.replace', [B], market_id='R', order_id=oid, price=-100)
    check('replace price negative -> BAD_REQUEST naming price', e[0] == 'BAD_REQUEST' and 'price' in e[1], e)
    e = await B.errm('order.replace', market_id='NOPE', order_id=oid, price=1200)
    check('replace with the wrong market_id -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    e = await Y.errm('order.replace', market_id='R', order_id=oid, price=1200)
    check("replace another trader's order -> NOT_FOUND", e[0] == 'NOT_FOUND', e)

    # --- sells: units_held follows the replace; more than the free units refused
    r = await S.call('order.place', **O(side='sell', price=2000, qty=100, client_order_id='sa'))
    sid = r['order_id']; s = await acc(S)
    u0 = mp(s, 'R')
    check('S rests sell 100 @ 2000: units_held 100', u0[1] == 100, u0)
    await ch()
    r = await S.call('order.replace', market_id='R', order_id=sid, qty=40)
    check('sell qty 100 -> 40: units_held 40; book ask 2000 = 40', mp(await acc(S), 'R') == (u0[0], 40) and (await ch())[0] == [['ask', 2000, 40]], r)
    e = await refused(ctx, f'sell qty 40 -> {u0[0] + 10} (more than owned)', S, 'order.replace', [S], market_id='R', order_id=sid, qty=u0[0] + 10)
    check('sell replace beyond the units owned -> refused, nothing changed', e[0] not in ('OK', 'INTERNAL'), e)
    r = await S.call('order.replace', market_id='R', order_id=sid, qty=u0[0])
    check('sell qty up to all units owned: units_held = units', mp(await acc(S), 'R') == (u0[0], u0[0]), (r, mp(await acc(S), 'R')))
    await S.call('order.replace', market_id='R', order_id=sid, qty=40)
    await ch()
    # a sell replaced down through B's bid (1300 x 10) trades at the bid, aggressor sell
    r = await S.call('order.replace', market_id='R', order_id=sid, price=1200)
    check('sell replaced 2000 -> 1200 crosses the 1300 bid: 10 @ 1300, 30 rest at 1200', (r['filled_qty'], r['leaves_qty'], fl(r)) == (10, 30, [(1300, 10)]), r)
    chg, tr = await ch()
    check('book: bid 1300 removed, ask 2000 removed, ask 1200 = 30', sorted(chg) == sorted([['bid', 1300, 0], ['ask', 2000, 0], ['ask', 1200, 30]]), chg)
    check('trades: one push 1300 x 10, aggressor sell', [(t['price'], t['qty'], t['aggressor_side']) for t in tr] == [(1300, 10, 'sell')], tr)
    b = await acc(B)
    check('B order done: hold 0; units 30', (b['cash_held'], mp(b, 'R')) == (0, (30, 0)), b)
    e = await B.errm('order.replace', market_id='R', order_id=oid, price=1100)
    check('replace a filled order -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    # --- replace into an own resting order: the order's stp applies (default cancel_incoming)
    r = await S.call('order.place', **O(price=1000, qty=10, client_order_id='sb'))
    await ch()
    r = await S.call('order.replace', market_id='R', order_id=sid, price=1000)
    print('  info: S sell (default stp) replaced onto its own bid at 1000 ->', r['status'], r['filled_qty'], r['leaves_qty'])
    check("replace crossing only its owner's order trades nothing (filled stays 10)", r['filled_qty'] == 10 and fl(r) == [(1300, 10)], r)
    chg, tr = await ch()
    check('no trade pushed', tr == [], tr)
    await S.call('order.cancel', market_id='R', client_order_id='sb')
    # --- replace of an expired GTD order; of a cancelled order
    now = await ctx.now()
    g = (await Y.call('order.place', **O(price=500, qty=10, tif='gtd', expire_at=now + MIN, client_order_id='g1')))['order_id']
    r = await Y.call('order.replace', market_id='R', order_id=g, price=600)
    check('replace a live GTD: price 600, hold 6,000', r['price'] == 600 and (await acc(Y))['cash_held'] == 6_000, r)
    await ctx.adv(MIN)
    y = await acc(Y)
    check('replaced GTD still expires at its expire_at: hold 0', y['cash_held'] == 0, y)
    e = await Y.errm('order.replace', market_id='R', order_id=g, price=700)
    check('replace an expired order -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    c = (await Y.call('order.place', **O(price=500, qty=10, client_order_id='c1')))['order_id']
    await Y.call('order.cancel', market_id='R', order_id=c)
    e = await Y.errm('order.replace', market_id='R', order_id=c, qty=20)
    check('replace a cancelled order -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    # --- info: time priority after raising / lowering qty and after a same-price replace
    Z = await ctx.mk('individual', fund=1_000_000)
    for what, p in (('qty down', dict(qty=10)), ('qty up', dict(qty=30)), ('same price', dict(price=300))):
        ox = (await Y.call('order.place', **O(price=300, qty=20, client_order_id='py' + what)))['order_id']
        await Z.call('order.place', **O(price=300, qty=20, client_order_id='pz' + what))
        await Y.call('order.replace', market_id='R', order_id=ox, **p)
        await S.call('order.place', **O(side='sell', price=300, qty=10, tif='ioc', client_order_id='sx' + what))
        ec = await Y.errm('order.cancel', market_id='R', order_id=ox)
        await Z.errm('order.cancel', market_id='R', client_order_id='pz' + what)
        first = 'Y (priority kept)' if ec[0] == 'INVALID_STATE' or ec[1]['filled_qty'] > 0 else 'Z (priority lost)'
        print(f'  info: after a replace ({what}) the next sell filled {first}')
run('d03', sc)
