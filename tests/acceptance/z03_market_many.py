# Many clients on one licence-unit market at once (PROTOCOL Orders, Defaults "Orders", Channels book./trades.):
# eight traders and the licensor, each on its own connection, send orders in concurrent waves (limit gtc/ioc,
# market ioc, cancels) while two watchers follow book.M and trades.M. Checks: no cash and no units created or
# lost (fees 0: the sum of cash_available + cash_held and the sum of units are constant); the book is never
# crossed; the book from snapshot + updates equals a fresh snapshot and the resting orders (qty - filled_qty of
# every order that can still be cancelled); cash_held = limit x leaves of resting buys, units_held = leaves of
# resting sells; every fill in a reply appears on trades.M; both watchers see the same pushes, gap-free; after
# every order is cancelled the book is empty and nothing is held.
from common import *
import random

def apply(book, changes):
    for side, price, qty in changes:
        d = book['bids' if side == 'bid' else 'asks']
        if qty == 0: d.pop(price, None)
        else: d[price] = qty
def levels(book):
    return {'bids': [[p, book['bids'][p]] for p in sorted(book['bids'], reverse=True)[:50]],
            'asks': [[p, book['asks'][p]] for p in sorted(book['asks'])[:50]]}

async def sc(ctx):
    a = ctx.adm
    rnd = random.Random(1207)
    L = await ctx.mk('enterprise')
    T = [await ctx.mk('individual' if i % 2 else 'enterprise', fund=2_000_000) for i in range(8)]
    W1 = await ctx.mk('individual'); W2 = await ctx.mk('individual')
    asset = await new_asset(ctx, L)
    await L.call('market.create', market_id='M', asset_id=asset, licence=LIC, tick=100, min_qty=10)
    await L.call('units.issue', market_id='M', qty=2000)
    await asyncio.gather(W1.call('subscribe', channels=['book.M', 'trades.M']), W2.call('subscribe', channels=['book.M', 'trades.M']))
    await asyncio.sleep(0.2)
    everyone = [L] + T
    async def totals():
        cash = units = 0; accs = {}
        for c in everyone:
            acc = await a.call('account.get', participant_id=c.pid); accs[c.pid] = acc
            cash += acc['cash_available'] + acc['cash_held']; units += mp(acc, 'M')[0]
        return cash, units, accs
    cash0, units0, _ = await totals()
    check('start: 2000 units issued, 16,000,000 fen', (cash0, units0) == (16_000_000, 2000), (cash0, units0))

    orders = {}        # order_id -> dict(owner, side, price, qty, reply)
    fills = {}         # trade_id -> (price, qty) from order.place replies
    codes = []
    n = [0]
    async def place(c, **o):
        n[0] += 1
        p = dict(market_id='M', client_order_id=f'c{n[0]}', **o)
        r = await c.raw('order.place', p)
        if 'error' in r: codes.append((c.pid, p, r['error']['code'])); return
        res = r['result']
        orders[res['order_id']] = dict(owner=c, side=o['side'], price=o.get('price'), qty=o['qty'], reply=res)
        for f in res['fills']: fills[f['trade_id']] = (f['price'], f['qty'])
    async def cancel(c, oid):
        r = await c.raw('order.cancel', {'market_id': 'M', 'order_id': oid})
        if 'error' in r: codes.append((c.pid, oid, r['error']['code']))

    # the licensor lays out asks, 100 units on each level 1200..2100
    await asyncio.gather(*(place(L, side='sell', type='limit', price=1200 + 100 * i, qty=100, tif='gtc') for i in range(10)))
    units_free = {c.pid: 0 for c in T}
    for wave in range(8):
        jobs = []
        for c in T:
            x = rnd.random()
            mine = [oid for oid, o in orders.items() if o['owner'] is c and o['reply']['status'] in ('open', 'partially_filled')]
            if x < 0.15 and mine:
                jobs.append(cancel(c, rnd.choice(mine)))
            elif x < 0.25:
                jobs.append(place(c, side='buy', type='market', qty=10 * rnd.randint(1, 3), tif='ioc'))
            elif x < 0.55 and units_free[c.pid] >= 10:
                q = 10 * rnd.randint(1, units_free[c.pid] // 10)
                jobs.append(place(c, side='sell', type='limit', price=100 * rnd.randint(10, 18), qty=q, tif=rnd.choice(['gtc', 'gtc', 'ioc'])))
            else:
                jobs.append(place(c, side='buy', type='limit', price=100 * rnd.randint(9, 16), qty=10 * rnd.randint(1, 8), tif=rnd.choice(['gtc', 'gtc', 'ioc'])))
        if wave % 2:
            jobs.append(place(L, side='sell', type='limit', price=100 * rnd.randint(11, 15), qty=50, tif='gtc'))
        await asyncio.gather(*jobs)
        cash, units, accs = await totals()
        check(f'wave {wave}: cash conserved ({cash})', cash == cash0, cash - cash0)
        check(f'wave {wave}: units conserved ({units})', units == units0, units - units0)
        for c in T:
            u, h = mp(accs[c.pid], 'M'); units_free[c.pid] = u - h
        neg = [(p, x) for p, x in accs.items() if x['cash_available'] < 0 or x['cash_held'] < 0 or mp(x, 'M')[1] > mp(x, 'M')[0]]
        check(f'wave {wave}: no negative balance, units_held <= units', not neg, neg)

    bad = [x for x in codes if x[2] not in ('INSUFFICIENT_FUNDS', 'INVALID_STATE')]
    check('refusals only INSUFFICIENT_FUNDS (cash/units) or INVALID_STATE (cancel of a done order)', not bad, bad)
    print(f'  info: {len(orders)} orders accepted, {len(codes)} refused, {len(fills)} taker fills')
    await asyncio.sleep(0.3)
    # a fresh subscriber's book snapshot
    V = await ctx.mk('individual')
    await V.call('subscribe', channels=['book.M']); await asyncio.sleep(0.2)
    snap = [m for m in V.pushes if m['channel'] == 'book.M' and m['type'] == 'snapshot'][-1]['data']
    check('book not crossed (best bid < best ask)', not snap['bids'] or not snap['asks'] or snap['bids'][0][0] < snap['asks'][0][0], (snap['bids'][:1], snap['asks'][:1]))
    # watchers: same pushes, gap-free; snapshot + updates = fresh snapshot
    for chn in ('book.M', 'trades.M'):
        p1 = [(m['seq'], m['type'], m['data']) for m in W1.pushes if m['channel'] == chn]
        p2 = [(m['seq'], m['type'], m['data']) for m in W2.pushes if m['channel'] == chn]
        check(f'{chn}: both watchers see the same pushes in the same order', p1 == p2, (len(p1), len(p2)))
        check(f'{chn}: snapshot first, then seq one higher each push', p1 and p1[0][1] == 'snapshot' and all(p1[i + 1][0] == p1[i][0] + 1 for i in range(len(p1) - 1)),
              [x[0] for x in p1][:50])
    bp = [m for m in W1.pushes if m['channel'] == 'book.M']
    book = {'bids': {}, 'asks': {}}
    apply(book, [['bid', x, y] for x, y in bp[0]['data']['bids']] + [['ask', x, y] for x, y in bp[0]['data']['asks']])
    for m in bp[1:]: apply(book, m['data']['changes'])
    check('book.M snapshot + updates = a fresh snapshot', levels(book) == {'bids': snap['bids'], 'asks': snap['asks']}, (levels(book), snap))
    tp = [m['data'] for m in W1.pushes if m['channel'] == 'trades.M' and m['type'] == 'trade']
    tmap = {t['trade_id']: (t['price'], t['qty']) for t in tp}
    check('trades.M: one push per trade id', len(tmap) == len(tp), len(tp))
    miss = {k: v for k, v in fills.items() if tmap.get(k) != v}
    check('every fill in an order.place reply appears on trades.M with its price and qty', not miss, miss)
    check('trades.M: aggressor_side buy or sell', all(t.get('aggressor_side') in ('buy', 'sell') for t in tp), tp[:3])

    # holds before the cancels
    _, _, accs = await totals()
    # cancel everything; what cancels was resting: its remainder (qty - filled_qty) is the book
    res = {}
    async def cx(oid, o):
        res[oid] = await o['owner'].raw('order.cancel', {'market_id': 'M', 'order_id': oid})
    await asyncio.gather(*(cx(oid, o) for oid, o in orders.items()))
    exp = {'bids': {}, 'asks': {}}; held = {c.pid: [0, 0] for c in everyone}; maker_fills = {}
    badc = []
    for oid, r in res.items():
        o = orders[oid]
        if 'error' in r:
            if r['error']['code'] != 'INVALID_STATE': badc.append((oid, r))
            continue
        x = r['result']
        if x.get('status') != 'cancelled' or x.get('leaves_qty') != 0: badc.append((oid, x))
        rem = o['qty'] - x['filled_qty']
        for f in x.get('fills', []): maker_fills[f['trade_id']] = (f['price'], f['qty'])
        side = 'bids' if o['side'] == 'buy' else 'asks'
        exp[side][o['price']] = exp[side].get(o['price'], 0) + rem
        if o['side'] == 'buy': held[o['owner'].pid][0] += o['price'] * rem
        else: held[o['owner'].pid][1] += rem
    check('cancel of each order: cancelled with leaves 0, or INVALID_STATE when done', not badc, badc[:3])
    check('the book before the cancels = the remainders of the orders that were still resting', levels(exp) == {'bids': snap['bids'], 'asks': snap['asks']},
          (levels(exp), snap))
    wrong = [(c.pid, accs[c.pid]['cash_held'], held[c.pid][0], mp(accs[c.pid], 'M')[1], held[c.pid][1]) for c in everyone
             if accs[c.pid]['cash_held'] != held[c.pid][0] or mp(accs[c.pid], 'M')[1] != held[c.pid][1]]
    check('each participant: cash_held = sum of limit x remainder of resting buys; units_held = remainder of resting sells', not wrong, wrong)
    miss = {k: v for k, v in maker_fills.items() if tmap.get(k) != v}
    check('fills carried by order.cancel replies appear on trades.M', not miss, miss)
    await asyncio.sleep(0.3)
    cash, units, accs = await totals()
    check('after cancelling everything: cash and units conserved', (cash, units) == (cash0, units0), (cash, units))
    check('after cancelling everything: nothing held', all(x['cash_held'] == 0 and mp(x, 'M')[1] == 0 for x in accs.values()),
          [(p, x['cash_held'], mp(x, 'M')) for p, x in accs.items()])
    apply(book, [])
    for m in [m for m in W1.pushes if m['channel'] == 'book.M'][len(bp):]: apply(book, m['data']['changes'])
    check('book.M updates after the cancels leave an empty book', levels(book) == {'bids': [], 'asks': []}, levels(book))

run('z03', sc)
