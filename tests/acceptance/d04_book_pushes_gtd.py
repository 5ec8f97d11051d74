# Audit d: book.<m>, trades.<m> and private pushes step by step as a market maker and takers meet, GTD expiry of part
# of a level at exactly expire_at. PROTOCOL "Channels": book snapshot "the best min(n, 50) levels a side", updates
# "qty the level's new total, 0 removing it; changes cover the levels within the best 50 (a level that enters them
# appears as a change)"; "trades.<m>: one push per fill ... aggressor_side ... no identities"; seq one higher each
# push; "private (the participant's own orders, fills, ... balances)"; "A rejected request changes nothing";
# "a GTD order past expire_at ends expired"; "A timer fires at its own due time"; order.cancel "returns the order in
# order.place's shape with its fills so far".
from common import *

def fl(r): return [(f['price'], f['qty']) for f in r['fills']]
def apply(book, changes):
    for side, price, qty in changes:
        d = book['bids' if side == 'bid' else 'asks']
        if qty == 0: d.pop(price, None)
        else: d[price] = qty
def top(book):
    return {'bids': [[p, book['bids'][p]] for p in sorted(book['bids'], reverse=True)[:50]], 'asks': [[p, book['asks'][p]] for p in sorted(book['asks'])[:50]]}

async def sc(ctx):
    a = ctx.adm
    S = await ctx.mk('enterprise', fund=1_000_000)
    asset = await new_asset(ctx, S)
    await S.call('market.create', market_id='K', asset_id=asset, licence=LIC, tick=100, min_qty=10)
    await S.call('units.issue', market_id='K', qty=2000)
    T = await ctx.mk('individual', fund=10_000_000); B1 = await ctx.mk('individual', fund=300_000); B2 = await ctx.mk('individual', fund=300_000)
    W = await ctx.mk('individual')
    O = order_maker('K', 'sell')
    for i in range(53):
        await S.call('order.place', **O(price=1000 + 100 * i, client_order_id=f'a{i}'))
    await W.call('subscribe', channels=['book.K', 'trades.K'])
    await T.call('subscribe', channels=['private']); await S.call('subscribe', channels=['private'])
    p = await W.drain(0.3); await T.drain(0.1); await S.drain(0.1)
    sn = [q for q in p if q['channel'] == 'book.K'][0]
    check('snapshot: 50 ask levels 1000..5900, no bids', sn['type'] == 'snapshot' and sn['data']['bids'] == [] and [x[0] for x in sn['data']['asks']] == [1000 + 100 * i for i in range(50)], sn['data'])
    book = {'bids': {}, 'asks': {}}; apply(book, [['ask', x, y] for x, y in sn['data']['asks']])
    seq = [sn['seq']]; tseq = [q['seq'] for q in p if q['channel'] == 'trades.K']
    allbook = []
    async def step():
        ps = await W.drain(0.35)
        bk = [q for q in ps if q['channel'] == 'book.K']; tr = [q for q in ps if q['channel'] == 'trades.K']
        allbook.extend(bk)
        for q in bk: apply(book, q['data']['changes'])
        return [c for q in bk for c in q['data']['changes']], tr
    # --- 1. a taker sweeps three levels: they leave, the 51st-53rd enter
    r = await T.call('order.place', **O(side='buy', price=1200, qty=30, client_order_id='t1'))
    ch, tr = await step()
    check('1 T buy 30 @ 1200 fills 1000, 1100, 1200', (r['status'], fl(r)) == ('filled', [(1000, 10), (1100, 10), (1200, 10)]), r)
    check('1 book: three levels removed, 6000/6100/6200 enter the best 50', sorted(ch) == sorted([['ask', 1000, 0], ['ask', 1100, 0], ['ask', 1200, 0], ['ask', 6000, 10], ['ask', 6100, 10], ['ask', 6200, 10]]), ch)
    check('1 trades: three pushes, ids = the reply\'s fills, aggressor buy, no identities',
          [(q['data']['trade_id'], q['data']['price'], q['data']['qty'], q['data']['aggressor_side']) for q in tr] == [(f['trade_id'], f['price'], f['qty'], 'buy') for f in r['fills']]
          and all(set(q['data']) <= {'trade_id', 'price', 'qty', 'aggressor_side'} for q in tr), [q['data'] for q in tr])
    tp = await T.drain(0.1); sp = await S.drain(0.1)
    check('1 private: taker T gets 3 fills, order filled, balance', [q['data']['trade_id'] for q in tp if q['type'] == 'fill'] == [f['trade_id'] for f in r['fills']]
          and any(q['type'] == 'order' and q['data']['status'] == 'filled' for q in tp) and any(q['type'] == 'balance' for q in tp), [(q['type'], q['data']) for q in tp])
    check('1 private: maker S gets 3 fills and 3 orders filled (a0, a1, a2)', sorted(q['data'].get('client_order_id') for q in sp if q['type'] == 'order' and q['data']['status'] == 'filled') == ['a0', 'a1', 'a2']
          and len([q for q in sp if q['type'] == 'fill']) == 3, [(q['type'], q['data']) for q in sp])
    check('1 private pushes name no other participant', T.pid not in json.dumps(sp) and S.pid not in json.dumps(tp), (tp, sp))
    # --- 2. a big sweep: market buy 45 levels
    r = await T.call('order.place', market_id='K', side='buy', type='market', qty=450, tif='ioc', client_order_id='t2')
    ch, tr = await step()
    check('2 market buy 450: 45 fills 1300..5700', (r['status'], len(r['fills']), r['fills'][0]['price'], r['fills'][-1]['price']) == ('filled', 45, 1300, 5700), (r['status'], len(r['fills'])))
    check('2 trades: 45 pushes, one per fill, same ids in order', [q['data']['trade_id'] for q in tr] == [f['trade_id'] for f in r['fills']], len(tr))
    check('2 book rebuilt: asks 5800..6200', top(book) == {'bids': [], 'asks': [[5800 + 100 * i, 10] for i in range(5)]}, top(book))
    await T.drain(0.1); await S.drain(0.1)
    # --- 3. rejected and unfillable requests push nothing on book / trades (private: no push for a rejected one)
    e = await B1.errm('order.place', **O(side='buy', price=6000, qty=10, post_only=True, client_order_id='x1'))
    e2 = await S.errm('order.place', **O(side='buy', price=6000, qty=10, stp='reject', client_order_id='x2'))
    r = await T.call('order.place', **O(side='buy', price=5800, qty=20, tif='fok', client_order_id='t3'))
    ps = await W.drain(0.35); sp = await S.drain(0.1)
    check('3 WOULD_CROSS, SELF_TRADE, unfillable FOK: no book or trades push at all', (e[0], e2[0], r['status']) == ('WOULD_CROSS', 'SELF_TRADE', 'cancelled') and ps == [], (e, e2, r, ps))
    check('3 the SELF_TRADE-rejected owner gets no private push', sp == [], [(q['type'], q['data']) for q in sp])
    # --- 4. GTD: part of a level expires at exactly expire_at
    now = await ctx.now(); t = now + 10 * MIN
    await B1.call('subscribe', channels=['private']); await B1.drain(0.2)
    g1 = await B1.call('order.place', **O(side='buy', price=900, qty=20, tif='gtd', expire_at=t, client_order_id='g1'))
    await B2.call('order.place', **O(side='buy', price=900, qty=10, client_order_id='g2'))
    await B2.call('order.place', **O(side='buy', price=800, qty=10, tif='gtd', expire_at=t, client_order_id='g3'))
    ch, _ = await step()
    check('4 book: bid 900 = 20 then 30, bid 800 = 10', ch == [['bid', 900, 20], ['bid', 900, 30], ['bid', 800, 10]], ch)
    r = await S.call('order.place', **O(price=900, qty=10, tif='ioc', client_order_id='s9'))
    ch, tr = await step()
    check('4 S sell ioc 10 @ 900 hits B1 (earliest at 900): bid 900 -> 20, aggressor sell', fl(r) == [(900, 10)] and ch == [['bid', 900, 20]] and [q['data']['aggressor_side'] for q in tr] == ['sell'], (r, ch))
    b1 = await a.call('account.get', participant_id=B1.pid)
    check('4 B1 hold 900 x 10 = 9,000, available 300,000 - 9,000 - 9,000', (b1['cash_held'], b1['cash_available']) == (9_000, 282_000), b1)
    await B1.drain(0.1)
    await ctx.adv_to(t - 1)
    ch, _ = await step()
    check('4 at expire_at - 1: no change', ch == [] and (await a.call('account.get', participant_id=B1.pid))['cash_held'] == 9_000, ch)
    await ctx.adv(1)
    ch, _ = await step()
    check('4 at expire_at: bid 900 -> 10 (B2 stays), bid 800 removed', sorted(ch) == sorted([['bid', 900, 10], ['bid', 800, 0]]), ch)
    pp = await B1.drain(0.2)
    ex = [q for q in pp if q['type'] == 'order' and q['data'].get('client_order_id') == 'g1']
    check('4 B1 private: g1 expired, filled 10, leaves 0, push ts = expire_at', ex and (ex[-1]['data']['status'], ex[-1]['data']['filled_qty'], ex[-1]['data']['leaves_qty'], ex[-1]['ts']) == ('expired', 10, 0, t), [(q['type'], q['ts'], q['data']) for q in pp])
    b1 = await a.call('account.get', participant_id=B1.pid)
    check('4 B1 hold released: 291,000 available, 0 held, 10 units', (b1['cash_held'], b1['cash_available'], mp(b1, 'K')) == (0, 291_000, (10, 0)), b1)
    r = await S.call('order.place', **O(price=800, qty=20, tif='ioc', client_order_id='s8'))
    check('4 after expiry a sell 20 @ 800 meets only B2 900 x 10', fl(r) == [(900, 10)], r)
    await step()
    # --- 5. a maker filled in pieces: cancel returns all fills, ids = the takers' trade ids
    await S.call('order.place', **O(price=5000, qty=50, client_order_id='mm'))
    ids = []
    for c, q in ((T, 10), (B1, 20), (B2, 10)):
        r = await c.call('order.place', **O(side='buy', price=5000, qty=q, client_order_id=f'mm{q}{c.pid}'))
        ids += [(f['trade_id'], f['price'], f['qty']) for f in r['fills']]
    c = await S.call('order.cancel', market_id='K', client_order_id='mm')
    check('5 cancel partly filled maker: filled 40, leaves 0, cancelled, fills = the three trades in order',
          (c['status'], c['filled_qty'], c['leaves_qty'], [(f['trade_id'], f['price'], f['qty']) for f in c['fills']]) == ('cancelled', 40, 0, ids), (c, ids))
    ch, tr = await step()
    check('5 book: ask 5000 = 50, 40, 20, 10, 0 (cancel removes it)', ch == [['ask', 5000, 50], ['ask', 5000, 40], ['ask', 5000, 20], ['ask', 5000, 10], ['ask', 5000, 0]], ch)
    # --- 6. seq and a fresh snapshot
    seqs = [q['seq'] for q in allbook]
    check('6 book seq gap-free from the snapshot', seqs == list(range(sn['seq'] + 1, sn['seq'] + 1 + len(seqs))), seqs)
    await T.call('subscribe', channels=['book.K']); f = [q for q in await T.drain(0.3) if q['channel'] == 'book.K'][0]
    check('6 fresh snapshot = book rebuilt from updates, seq = last', f['data'] == top(book) and f['seq'] == seqs[-1], (f, top(book)))
run('d04', sc)
