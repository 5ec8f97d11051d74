# book.<m> depth: snapshot best-first aggregated top 50, updates [[side, price, qty]], 0 removes, a level entering top 50
# appears; trades.<m> one push per fill, no identities; private pushes; seq gap-free; late snapshot consistent
from common import *
def gapfree(ps, ch):
    s = [q['seq'] for q in ps if q['channel'] == ch]
    return s == list(range(s[0], s[0] + len(s))) if s else True, s
def apply(book, changes):
    for side, price, qty in changes:
        d = book['bids' if side == 'bid' else 'asks']
        if qty == 0: d.pop(price, None)
        else: d[price] = qty
def top(book, n=50):
    return {'bids': [[p, book['bids'][p]] for p in sorted(book['bids'], reverse=True)[:n]],
            'asks': [[p, book['asks'][p]] for p in sorted(book['asks'])[:n]]}
async def sc(ctx):
    P = await ctx.mk('enterprise', fund=100_000_000); X = await ctx.mk('individual', fund=100_000_000)
    Y = await ctx.mk('individual', fund=100_000_000); Z = await ctx.mk('individual')
    asset = await new_asset(ctx, P)
    await P.call('market.create', market_id='K', asset_id=asset, licence=LIC, tick=100, min_qty=10)
    await P.call('units.issue', market_id='K', qty=10_000)
    O = order_maker('K', 'sell')
    for i in range(55):
        await P.call('order.place', **O(price=1000 + 100 * i, client_order_id=f'a{1000 + 100 * i}'))
    await P.call('order.place', **O(price=1000, qty=20, client_order_id='a1000b'))
    await X.call('order.place', **O(side='buy', price=900, qty=10, client_order_id='b900'))
    await X.call('order.place', **O(side='buy', price=800, qty=20, client_order_id='b800'))
    await X.call('order.place', **O(side='buy', price=800, qty=10, client_order_id='b800b'))
    await X.call('subscribe', channels=['book.K', 'trades.K', 'private'])
    p = await X.drain(0.5)
    snap = [q for q in p if q['channel'] == 'book.K']
    check('book snapshot first', snap and snap[0]['type'] == 'snapshot', p)
    sd = snap[0]['data']
    check('snapshot asks: 50 levels, ascending, aggregated', len(sd['asks']) == 50 and sd['asks'][0] == [1000, 30] and sd['asks'][1] == [1100, 10] and sd['asks'][-1] == [5900, 10], sd['asks'][:3] + sd['asks'][-2:])
    check('snapshot bids: descending, aggregated', sd['bids'] == [[900, 10], [800, 30]], sd['bids'])
    tsnap = [q for q in p if q['channel'] == 'trades.K']
    print('  info: trades snapshot', tsnap)
    check('trades channel snapshot first', tsnap and tsnap[0]['type'] == 'snapshot', tsnap)
    psnap = [q for q in p if q['channel'] == 'private']
    check('private snapshot first', psnap and psnap[0]['type'] == 'snapshot', psnap)
    book = {'bids': {a: b for a, b in sd['bids']}, 'asks': {a: b for a, b in sd['asks']}}
    base = snap[0]['seq']
    all_book = []
    # change outside the top 50
    await P.call('order.cancel', market_id='K', client_order_id='a6200')
    p = await X.drain(0.4); bk = [q for q in p if q['channel'] == 'book.K']; all_book += bk
    print('  info: cancel of a level outside the top 50 ->', [q['data'] for q in bk])
    # change within the top 50: new order at existing level
    await P.call('order.place', **O(price=1500, qty=30, client_order_id='a1500b'))
    p = await X.drain(0.4); bk = [q for q in p if q['channel'] == 'book.K']; all_book += bk
    check('adding to a level: update with its new total', any(['ask', 1500, 40] in q['data'].get('changes', []) for q in bk) and all(q['type'] == 'update' for q in bk), [q['data'] for q in bk])
    # Y takes the whole 1000 level: removal + a level entering the top 50
    r = await Y.call('order.place', **O(side='buy', price=1000, qty=30, client_order_id='y1'))
    check('Y buy 30@1000 fills two orders at 1000', r['status'] == 'filled' and [(f['price'], f['qty']) for f in r['fills']] == [(1000, 10), (1000, 20)], r)
    ytids = [f['trade_id'] for f in r['fills']]
    p = await X.drain(0.5); bk = [q for q in p if q['channel'] == 'book.K']; all_book += bk
    ch = [c for q in bk for c in q['data']['changes']]
    check('level emptied: [ask, 1000, 0]', ['ask', 1000, 0] in ch, ch)
    check('level entering the top 50 appears: [ask, 6000, 10]', ['ask', 6000, 10] in ch, ch)
    tr = [q for q in p if q['channel'] == 'trades.K']
    check('one trade push per fill, aggressor buy, trade ids match fills', [(q['type'], q['data']['trade_id'], q['data']['price'], q['data']['qty'], q['data']['aggressor_side']) for q in tr] == [('trade', ytids[0], 1000, 10, 'buy'), ('trade', ytids[1], 1000, 20, 'buy')], [q['data'] for q in tr])
    check('trade pushes carry no identities', all(set(q['data']) <= {'trade_id', 'price', 'qty', 'aggressor_side'} for q in tr) and not any(pid in json.dumps(q) for q in tr for pid in (P.pid, Y.pid, X.pid)), [q for q in tr])
    priv = [q for q in p if q['channel'] == 'private']
    check("X's private channel shows nothing of Y's trade", priv == [], priv)
    # P sells into X's bids
    await X.call('subscribe', channels=[]) if False else None
    r = await P.call('order.place', **O(side='sell', price=800, qty=20, tif='ioc', client_order_id='p_ioc'))
    check('P sell ioc 20@800: 900x10 + 800x10', [(f['price'], f['qty']) for f in r['fills']] == [(900, 10), (800, 10)], r)
    p = await X.drain(0.5); bk = [q for q in p if q['channel'] == 'book.K']; all_book += bk
    ch = [c for q in bk for c in q['data']['changes']]
    check('bid 900 removed, bid 800 -> 20', ['bid', 900, 0] in ch and ['bid', 800, 20] in ch, ch)
    tr = [q for q in p if q['channel'] == 'trades.K']
    check('aggressor_side sell', [q['data']['aggressor_side'] for q in tr] == ['sell', 'sell'], [q['data'] for q in tr])
    priv = [q for q in p if q['channel'] == 'private']
    types = [q['type'] for q in priv]; print('  info: X private pushes on being filled as maker:', [(q['type'], q['data']) for q in priv])
    check('private: order update(s) for X', any('b900' in json.dumps(q['data']) for q in priv), types)
    check('private: fill info (price 900 qty 10) for X', any(q['type'] in ('fill', 'trade') or 'fills' in q['data'] for q in priv), types)
    check('private: balance push for X', any('cash_available' in json.dumps(q['data']) for q in priv), types)
    check('private: seq gap-free from snapshot', [q['seq'] for q in priv] == list(range(psnap[0]['seq'] + 1, psnap[0]['seq'] + 1 + len(priv))), [q['seq'] for q in priv])
    # seq over all book updates
    for q in all_book: apply(book, q['data']['changes'])
    seqs = [q['seq'] for q in all_book]
    check('book seq gap-free from snapshot', seqs == list(range(base + 1, base + 1 + len(seqs))), (base, seqs))
    # a late subscriber's snapshot equals the book reconstructed from updates (top 50)
    await Z.call('subscribe', channels=['book.K'])
    zp = await Z.drain(0.4)
    zs = zp[0]
    check('late snapshot seq = current channel seq', zs['type'] == 'snapshot' and zs['seq'] == (seqs[-1] if seqs else base), (zs['seq'], seqs[-1:]))
    check('late snapshot equals book rebuilt from updates (top 50)', zs['data'] == top(book), (zs['data']['asks'][-3:], top(book)['asks'][-3:], zs['data']['bids'], top(book)['bids']))
    # unsubscribe stops pushes
    await X.call('unsubscribe', channels=['book.K'])
    await X.drain(0.2)
    await P.call('order.place', **O(price=1100, client_order_id='after_unsub'))
    p = await X.drain(0.4)
    check('no book pushes after unsubscribe', not any(q['channel'] == 'book.K' for q in p), p)
    zp = await Z.drain(0.3)
    check('other subscriber still gets the update, seq+1', [q['seq'] for q in zp] == [zs['seq'] + 1] and zp[0]['data']['changes'] == [['ask', 1100, 20]], [(q['seq'], q['data']) for q in zp])
    # a new best level pushes the 50th (6000) out; removing it again brings 6000 back in: it must appear again
    await P.call('order.place', **O(price=1000, qty=10, client_order_id='re1000'))
    zp = await Z.drain(0.4); ch1 = [c for q in zp for c in q['data']['changes']]
    print('  info: new level pushes 50th out ->', ch1)
    check('new best ask level appears', ['ask', 1000, 10] in ch1, ch1)
    await P.call('order.cancel', market_id='K', client_order_id='re1000')
    zp2 = await Z.drain(0.4); ch2 = [c for q in zp2 for c in q['data']['changes']]
    print('  info: removing it ->', ch2)
    check('level removed, and 6000 (re-)entering the top 50 appears as a change', ['ask', 1000, 0] in ch2 and ['ask', 6000, 10] in ch2, ch2)
    allz = zp + zp2
    check('Z seq still gap-free', [q['seq'] for q in allz] == list(range(zs['seq'] + 2, zs['seq'] + 2 + len(allz))), [q['seq'] for q in allz])
    e = await Z.errm('subscribe', channels=['book.NOPE'])
    print('  info: subscribe book.NOPE ->', e)
    e = await Z.errm('subscribe', channels=['trades.NOPE'])
    print('  info: subscribe trades.NOPE ->', e)
    e = await Z.errm('subscribe', channels=['book.K'])
    zp = await Z.drain(0.3)
    print('  info: subscribe again to a subscribed channel ->', e[0], [(q['type'], q['seq']) for q in zp])
run('s06', sc)
