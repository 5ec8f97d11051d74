# PROTOCOL "Channels" (eleventh audit): a channel's seq belongs to the channel (a late subscriber's snapshot has the seq
# an early subscriber last saw, and both then see the same numbers); "every channel's first push after subscribe has
# type snapshot" also when the channel is subscribed again without unsubscribing (the gap-recovery path); after
# unsubscribe nothing arrives, and a re-subscribe's snapshot carries the seq the channel reached meanwhile and the
# state a continuous subscriber rebuilt from its updates (book, trades, private).
from common import *

def chan(ps, ch): return [m for m in ps if m.get('channel') == ch]
def gapfree(ps): s = [m['seq'] for m in ps]; return s == list(range(s[0], s[0] + len(s))) if s else True
def apply_book(book, changes):
    side = {'bid': book['bids'], 'ask': book['asks']}
    for sd, price, qty in changes:
        lv = {p: q for p, q in side[sd]}
        if qty == 0: lv.pop(price, None)
        else: lv[price] = qty
        side[sd][:] = sorted(([p, q] for p, q in lv.items()), key=lambda x: -x[0] if sd == 'bid' else x[0])[:50]
    return book

async def sc(ctx):
    S = await ctx.mk('enterprise', fund=10_000_000); B = await ctx.mk('individual', fund=10_000_000)
    W = await ctx.mk('individual'); L = await ctx.mk('individual')
    asset = await new_asset(ctx, S)
    await S.call('market.create', market_id='K', asset_id=asset, licence=LIC, tick=10, min_qty=1)
    await S.call('units.issue', market_id='K', qty=1000)
    O = order_maker('K', 'sell')
    bk, tr = 'book.K', 'trades.K'
    await W.call('subscribe', channels=[bk, tr])
    w = await W.drain()
    wb = chan(w, bk); wt = chan(w, tr)
    check('W: one snapshot per channel first', len(wb) == 1 and wb[0]['type'] == 'snapshot' and len(wt) == 1 and wt[0]['type'] == 'snapshot', w)
    book = {'bids': [r[:] for r in wb[0]['data']['bids']], 'asks': [r[:] for r in wb[0]['data']['asks']]} if wb else {'bids': [], 'asks': []}
    wall = list(w)
    for i in range(3): await S.call('order.place', **O(price=1000 + 10 * i, qty=5))
    await B.call('order.place', **O(side='buy', price=1000, qty=2))         # a trade
    w = await W.drain(); wall += w
    for m in chan(w, bk): book = apply_book(book, m['data']['changes'])
    # a late subscriber gets the channel's own numbers
    await L.call('subscribe', channels=[bk, tr])
    l = await L.drain()
    lb = chan(l, bk); lt = chan(l, tr)
    lastw_b = chan(wall, bk)[-1]['seq']; lastw_t = chan(wall, tr)[-1]['seq']
    check('late subscriber: book snapshot seq = the seq W last saw', lb and lb[0]['type'] == 'snapshot' and lb[0]['seq'] == lastw_b, (lb, lastw_b))
    check('late subscriber: trades snapshot seq = the seq W last saw', lt and lt[0]['type'] == 'snapshot' and lt[0]['seq'] == lastw_t, (lt, lastw_t))
    check('late book snapshot = the book W rebuilt from its updates', lb and lb[0]['data'] == book, (lb and lb[0]['data'], book))
    check('late trades snapshot lists the one trade (docs: last 50, oldest first)', lt and [(t['price'], t['qty']) for t in lt[0]['data'].get('trades', [])] == [(1000, 2)], lt)
    await S.call('order.place', **O(price=990, qty=4))
    w = await W.drain(); l = await L.drain(0.05); wall += w
    for m in chan(w, bk): book = apply_book(book, m['data']['changes'])
    check('both then see the same push with the same seq', chan(w, bk) and [(m['seq'], m['data']) for m in chan(w, bk)] == [(m['seq'], m['data']) for m in chan(l, bk)]
          and chan(w, bk)[0]['seq'] == lastw_b + 1, (chan(w, bk), chan(l, bk)))
    # subscribing again without unsubscribing: the first push after that subscribe is a snapshot at the current seq
    await L.call('subscribe', channels=[bk])
    l = chan(await L.drain(), bk)
    await S.call('order.place', **O(price=980, qty=1))
    l += chan(await L.drain(), bk)
    w = await W.drain(); wall += w
    for m in chan(w, bk): book = apply_book(book, m['data']['changes'])
    check('re-subscribe while subscribed: first push after it is a snapshot (seq = current)', l and l[0]['type'] == 'snapshot' and l[0]['seq'] == lastw_b + 1,
          [(m['seq'], m['type']) for m in l])
    check('...and no seq is delivered twice or skipped after it', [m['seq'] for m in l if m['type'] != 'snapshot'] == [m['seq'] for m in chan(w, bk)], (l, chan(w, bk)))
    # unsubscribe, activity, re-subscribe
    r = await L.call('unsubscribe', channels=[bk, tr])
    check('unsubscribe echoes the channels', r.get('channels') == [bk, tr], r)
    await L.drain(0.05)
    for p in (970, 960): await S.call('order.place', **O(price=p, qty=3))
    await B.call('order.place', **O(side='buy', price=960, qty=3, client_order_id='bx'))
    await B.call('order.place', **O(side='buy', price=500, qty=7, client_order_id='by'))
    check('nothing arrives on unsubscribed channels', not chan(await L.drain(), bk) and not L.pushes, 'pushes')
    w = await W.drain(); wall += w
    for m in chan(w, bk): book = apply_book(book, m['data']['changes'])
    await L.call('subscribe', channels=[bk, tr])
    l = await L.drain()
    lb = chan(l, bk); lt = chan(l, tr)
    check('W book seq gap-free across the whole run', gapfree(chan(wall, bk)), [m['seq'] for m in chan(wall, bk)])
    check('W trades seq gap-free, one push per fill', gapfree(chan(wall, tr)) and [m['data']['qty'] for m in chan(wall, tr) if m['type'] == 'trade'] == [2, 3], [(m['seq'], m['type'], m['data']) for m in chan(wall, tr)])
    check('re-subscribe: book snapshot seq = the seq the channel reached meanwhile', lb and lb[0]['type'] == 'snapshot' and lb[0]['seq'] == chan(wall, bk)[-1]['seq'], (lb, chan(wall, bk)[-1]['seq']))
    check('re-subscribe: book snapshot = W rebuilt book', lb and lb[0]['data'] == book, (lb and lb[0]['data'], book))
    check('re-subscribe: trades snapshot seq = W last trades seq, both trades listed oldest first', lt and lt[0]['seq'] == chan(wall, tr)[-1]['seq']
          and [(t['price'], t['qty']) for t in lt[0]['data'].get('trades', [])] == [(1000, 2), (960, 3)], lt)
    check('trade pushes carry no identities, aggressor buy', all(set(m['data']) <= {'trade_id', 'price', 'qty', 'aggressor_side'} and m['data']['aggressor_side'] == 'buy'
          for m in chan(wall, tr) if m['type'] == 'trade'), chan(wall, tr))
    # private: per participant, across unsubscribe
    await B.call('subscribe', channels=['private'])
    p0 = await B.drain()
    check('private snapshot = account.get', p0 and p0[0]['type'] == 'snapshot' and p0[0]['data'] == await B.call('account.get'), p0)
    await B.call('order.cancel', market_id='K', client_order_id='by')
    p1 = await B.drain()
    check('private updates follow the snapshot seq, gap-free', p1 and p1[0]['seq'] == p0[0]['seq'] + 1 and gapfree(p1), [(m['seq'], m['type']) for m in p1])
    await B.call('unsubscribe', channels=['private'])
    await B.call('order.place', **O(side='buy', price=500, qty=1, client_order_id='bz'))
    await B.call('order.cancel', market_id='K', client_order_id='bz')
    check('no private pushes while unsubscribed', not chan(await B.drain(), 'private'))
    await B.call('subscribe', channels=['private'])
    p2 = await B.drain()
    check('private re-subscribe: snapshot, seq moved on past the unseen updates, data = account.get',
          p2 and p2[0]['type'] == 'snapshot' and p2[0]['seq'] > p1[-1]['seq'] and p2[0]['data'] == await B.call('account.get'), (p2, p1 and p1[-1]['seq']))
run('n05', sc)
