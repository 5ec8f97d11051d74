# PROTOCOL Idempotency under concurrency: the same (participant, request_id) sent at the same moment on two
# WebSocket connections of the same participant. "The first reply ... is kept ... and returned again for any retry
# with the same params, applying nothing; the same request_id with different params is DUPLICATE."
# So: exactly one application, both answers equal (success or error alike); with different params, one applied and
# the other DUPLICATE. Also the rules that make a second concurrent attempt fail without a request_id
# (auction.register twice: DUPLICATE; client_order_id reused: DUPLICATE; settlement.pay twice) apply once.
from common import *

DEP = 100_000

async def second(ctx, c):
    c2 = await Client.connect(ctx.url); await c2.login(c.key, c.secret); c2.pid = c.pid; ctx.clients.append(c2); return c2

async def both(c1, c2, method, p1, p2=None):
    r1, r2 = await asyncio.gather(c1.raw(method, dict(p1)), c2.raw(method, dict(p2 if p2 is not None else p1)))
    return r1, r2

def body(r): return r.get('result', r.get('error'))

async def sc(ctx):
    a = ctx.adm
    a2 = await Client.connect(ctx.url); await a2.login(ADMIN_KEY, ADMIN_SECRET); ctx.clients.append(a2)
    own = await ctx.mk('enterprise', fund=10_000_000)
    X = await ctx.mk('individual', fund=10_000_000); X2 = await second(ctx, X)
    Y = await ctx.mk('individual', fund=10_000_000)
    own2 = await second(ctx, own)

    # account.fund, 10 pairs: each applied once
    base = (await a.call('account.get', participant_id=Y.pid))['cash_available']
    same = True
    for i in range(10):
        r1, r2 = await both(a, a2, 'account.fund', {'participant_id': Y.pid, 'amount': 1000 + i, 'request_id': f'fund-{i}'})
        same = same and 'result' in r1 and body(r1) == body(r2)
    after = (await a.call('account.get', participant_id=Y.pid))['cash_available']
    check('account.fund x10 pairs on two admin connections: both replies equal each time', same, (r1, r2))
    check('account.fund x10 pairs: each applied once', after - base == sum(1000 + i for i in range(10)), after - base)

    # same request_id, different params, concurrently: one applied, the other DUPLICATE
    base = after
    r1, r2 = await both(a, a2, 'account.fund', {'participant_id': Y.pid, 'amount': 500, 'request_id': 'fund-x'},
                        {'participant_id': Y.pid, 'amount': 700, 'request_id': 'fund-x'})
    after = (await a.call('account.get', participant_id=Y.pid))['cash_available']
    codes = sorted(['OK' if 'result' in r else r['error']['code'] for r in (r1, r2)])
    check('same request_id, different params at once: one OK, one DUPLICATE', codes == ['DUPLICATE', 'OK'], (r1, r2))
    check('... and only the OK one applied', after - base == (500 if 'result' in r1 else 700), after - base)

    # participant.create on two admin connections: one participant, the same key
    r1, r2 = await both(a, a2, 'participant.create', {'name': 'twin', 'kind': 'individual', 'region': 'leshan', 'whitelisted': True, 'request_id': 'pc-1'})
    check('participant.create at once, same request_id: equal replies (one participant, one key)', 'result' in r1 and body(r1) == body(r2), (r1, r2))

    # auction.register by X on two connections, same request_id: one deposit held
    now = await ctx.now()
    _, A = await new_auction(ctx, own, start=1_000_000, inc=10_000, dep=DEP, opens=now, closes=now + DAY)
    r1, r2 = await both(X, X2, 'auction.register', {'auction_id': A, 'request_id': 'reg-1'})
    check('auction.register at once, same request_id: equal replies, success', 'result' in r1 and body(r1) == body(r2), (r1, r2))
    acc = await a.call('account.get', participant_id=X.pid)
    check('auction.register: deposit held once', acc['cash_held'] == DEP and acc['cash_available'] == 10_000_000 - DEP, acc)
    # without request_id, Y registers on two connections at once: one OK, one DUPLICATE, one deposit
    Y2 = await second(ctx, Y)
    y0 = await a.call('account.get', participant_id=Y.pid)
    r1, r2 = await both(Y, Y2, 'auction.register', {'auction_id': A})
    codes = sorted(['OK' if 'result' in r else r['error']['code'] for r in (r1, r2)])
    check('auction.register twice at once without request_id: one OK, one DUPLICATE', codes == ['DUPLICATE', 'OK'], (r1, r2))
    y1 = await a.call('account.get', participant_id=Y.pid)
    check('... one deposit held', y1['cash_held'] - y0['cash_held'] == DEP and y0['cash_available'] - y1['cash_available'] == DEP, (y0, y1))

    # auction.bid, same request_id on two connections: one bid
    await a.call('subscribe', channels=[f'auction.{A}']); await a.drain(0.2)
    r1, r2 = await both(X, X2, 'auction.bid', {'auction_id': A, 'amount': 1_000_000, 'request_id': 'bid-1'})
    check('auction.bid at once, same request_id: equal replies, success', 'result' in r1 and body(r1) == body(r2), (r1, r2))
    g = await a.call('auction.get', auction_id=A)
    check('auction.bid: one bid counted', g['bids'] == 1 and g['price'] == 1_000_000, g)
    # a refusal is kept too: Y bids too low on two connections with one request_id -> the same error twice
    r1, r2 = await both(Y, Y2, 'auction.bid', {'auction_id': A, 'amount': 1_000_000, 'request_id': 'bid-low'})
    check('refused bid at once, same request_id: both BID_TOO_LOW, equal', 'error' in r1 and r1['error']['code'] == 'BID_TOO_LOW'
          and body(r1) == body(r2), (r1, r2))
    # different amounts with one request_id at once: exactly one applied, the other DUPLICATE
    r1, r2 = await both(Y, Y2, 'auction.bid', {'auction_id': A, 'amount': 1_010_000, 'request_id': 'bid-2'},
                        {'auction_id': A, 'amount': 1_020_000, 'request_id': 'bid-2'})
    codes = sorted(['OK' if 'result' in r else r['error']['code'] for r in (r1, r2)])
    check('bid, one request_id, different amounts at once: one OK, one DUPLICATE', codes == ['DUPLICATE', 'OK'], (r1, r2))
    g = await a.call('auction.get', auction_id=A)
    check('... two bids in all', g['bids'] == 2, g)
    ps = [m for m in await a.drain(0.3) if m['type'] == 'bid']
    check('one bid push per applied bid (2)', len(ps) == 2, ps)

    # settlement.pay at once on two connections (same request_id): paid once
    await ctx.adv_to(g['closes_at'])
    g = await a.call('auction.get', auction_id=A)
    sid = g['settlement_id']; price = g['price']
    win, win2 = Y, Y2      # Y's raise is the standing high bid
    check('Y won at its raise', g['state'] == 'sold' and price in (1_010_000, 1_020_000), g)
    w0 = await a.call('account.get', participant_id=win.pid)
    r1, r2 = await both(win, win2, 'settlement.pay', {'settlement_id': sid, 'request_id': 'pay-1'})
    check('settlement.pay at once, same request_id: equal replies, paid', 'result' in r1 and body(r1) == body(r2) and r1['result']['state'] == 'paid', (r1, r2))
    w1 = await a.call('account.get', participant_id=win.pid)
    check('settlement.pay: price - deposit moved once', w0['cash_available'] - w1['cash_available'] == price - DEP, (w0, w1))
    # again without request_id, both at once: nothing more moves
    r1, r2 = await both(win, win2, 'settlement.pay', {'settlement_id': sid})
    w2 = await a.call('account.get', participant_id=win.pid)
    check('settlement.pay twice more at once (no request_id): no second payment', w2['cash_available'] == w1['cash_available'], (r1, r2, w2))
    check('... and each reply is documented (INVALID_STATE or the paid settlement)',
          all(('error' in r and r['error']['code'] == 'INVALID_STATE') or ('result' in r and r['result']['state'] == 'paid') for r in (r1, r2)), (r1, r2))

    # orders: one market, same request_id (and client_order_id) on two connections -> one order
    asset = await new_asset(ctx, own)
    await own.call('market.create', market_id='M', asset_id=asset, licence=LIC, tick=100, min_qty=10)
    await own.call('units.issue', market_id='M', qty=1000)
    O = order_maker('M', 'sell')
    o = O(price=2000, qty=100, request_id='ord-1')
    r1, r2 = await both(own, own2, 'order.place', o)
    check('order.place at once, same request_id: equal replies, one order', 'result' in r1 and body(r1) == body(r2), (r1, r2))
    acc = await a.call('account.get', participant_id=own.pid)
    check('... units_held 100, not 200', mp(acc, 'M') == (1000, 100), mp(acc, 'M'))
    # the same client_order_id, different request_ids, at once: one order, one DUPLICATE
    o1 = O(price=2100, qty=10); o2 = dict(o1)
    r1, r2 = await both(own, own2, 'order.place', o1, o2)
    codes = sorted(['OK' if 'result' in r else r['error']['code'] for r in (r1, r2)])
    check('one client_order_id on two connections at once: one OK, one DUPLICATE', codes == ['DUPLICATE', 'OK'], (r1, r2))
    acc = await a.call('account.get', participant_id=own.pid)
    check('... units_held 110', mp(acc, 'M') == (1000, 110), mp(acc, 'M'))
    # a buy that takes, twice at once with the same request_id: one trade
    Xb = O(side='buy', price=2000, qty=50, tif='ioc', request_id='buy-1')
    x0 = await a.call('account.get', participant_id=X.pid)
    r1, r2 = await both(X, X2, 'order.place', Xb)
    check('taking order at once, same request_id: equal replies, filled 50', 'result' in r1 and body(r1) == body(r2) and r1['result']['filled_qty'] == 50, (r1, r2))
    x1 = await a.call('account.get', participant_id=X.pid)
    check('... one trade: X paid 100,000 and holds 50 units', x0['cash_available'] - x1['cash_available'] == 100_000 and mp(x1, 'M') == (50, 0), (x0, x1))
    # order.cancel twice at once with one request_id: equal replies
    first = (await own.call('order.place', **O(price=3000, qty=10)))['order_id']
    r1, r2 = await both(own, own2, 'order.cancel', {'market_id': 'M', 'order_id': first, 'request_id': 'can-1'})
    check('order.cancel at once, same request_id: equal replies, cancelled', 'result' in r1 and body(r1) == body(r2) and r1['result']['status'] == 'cancelled', (r1, r2))
    # without request_id: one cancels, the other INVALID_STATE (cancelling a done order)
    second_ = (await own.call('order.place', **O(price=3100, qty=10)))['order_id']
    r1, r2 = await both(own, own2, 'order.cancel', {'market_id': 'M', 'order_id': second_})
    codes = sorted(['OK' if 'result' in r else r['error']['code'] for r in (r1, r2)])
    check('order.cancel twice at once without request_id: one OK, one INVALID_STATE', codes == ['INVALID_STATE', 'OK'], (r1, r2))
    acc = await a.call('account.get', participant_id=own.pid)
    check('units_held back to 110 - 50 filled = 60', mp(acc, 'M') == (950, 60), mp(acc, 'M'))

run('z02', sc)
