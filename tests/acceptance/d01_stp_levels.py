# Audit d (the continuous book as a market maker and a taker meet it): every self-trade-prevention mode against own
# orders interleaved with another trader's at one price level and spread over several levels, for limit gtc / ioc /
# fok and market orders, both sides. PROTOCOL "Values" (stp), "Orders": "Self-trade prevention applies as the order would
# execute, level by level: FOK counts only liquidity it may trade with; ... reject refuses the whole order only if it
# would reach one of its owner's orders before it is filled"; "An unfillable FOK changes nothing, not even self-trade
# cancellations"; "an order cut short by self-trade prevention end[s] cancelled"; holds = limit x leaves_qty;
# units_held = units locked in resting sells. Each case runs on a market of its own; book.<m> and the private pushes of
# the resting order STP cancels are checked too.
from common import *

def fl(r): return [(f['price'], f['qty']) for f in r['fills']]

async def sc(ctx):
    a = ctx.adm
    P = await ctx.mk('enterprise', fund=10_000_000)   # the self-trader (licensor of every market)
    Q = await ctx.mk('individual', fund=10_000_000)   # the other side
    W = await ctx.mk('individual')                    # a watcher of book.<m>
    await P.call('subscribe', channels=['private']); await P.drain(0.2)
    n = [0]
    async def market(book):
        """A fresh market; Q gets 500 units from P (500 @ 100); then book = [(who, side, price, qty, coid), ...] in order."""
        n[0] += 1; m = f'M{n[0]}'
        asset = await new_asset(ctx, P)
        await P.call('market.create', market_id=m, asset_id=asset, licence=LIC, tick=100, min_qty=10)
        await P.call('units.issue', market_id=m, qty=1000)
        await P.call('order.place', market_id=m, side='sell', type='limit', price=100, qty=500, tif='gtc', client_order_id=f'{m}-seed')
        await Q.call('order.place', market_id=m, side='buy', type='limit', price=100, qty=500, tif='gtc', client_order_id=f'{m}-qseed')
        for who, side, price, qty, coid in book:
            await who.call('order.place', market_id=m, side=side, type='limit', price=price, qty=qty, tif='gtc', client_order_id=f'{m}-{coid}')
        await W.call('subscribe', channels=[f'book.{m}'])
        ps = await W.drain(0.2)
        await P.drain(0.1)
        return m, [q for q in ps if q['channel'] == f'book.{m}'][-1]['data']
    async def live(c, m, coid):
        """('live', filled) after cancelling it, or 'done' when cancel says INVALID_STATE"""
        e = await c.errm('order.cancel', market_id=m, client_order_id=f'{m}-{coid}')
        return ('live', e[1]['filled_qty']) if e[0] == 'OK' else ('done' if e[0] == 'INVALID_STATE' else e)
    async def changes(m):
        ps = await W.drain(0.3)
        return [c for q in ps if q['channel'] == f'book.{m}' for c in q['data']['changes']]
    def O(m, coid, **k):
        d = dict(market_id=m, side='buy', type='limit', price=1000, qty=10, tif='gtc', client_order_id=f'{m}-{coid}'); d.update(k)
        if d['type'] == 'market': d.pop('price')
        return d
    # the ask book used by most cases: 1000: Q a 10, P b 10, Q c 10 (time order) | 1100: Q d 10 | 1200: P e 10
    ASKS = [(Q, 'sell', 1000, 10, 'a'), (P, 'sell', 1000, 10, 'b'), (Q, 'sell', 1000, 10, 'c'), (Q, 'sell', 1100, 10, 'd'), (P, 'sell', 1200, 10, 'e')]

    # --- 1. cancel_incoming (default), limit gtc buy 30 @ 1100: a fills, reaching b cancels the remainder
    m, s0 = await market(ASKS)
    check('book snapshot: asks 1000x30, 1100x10, 1200x10 (own and others aggregated)', s0['asks'] == [[1000, 30], [1100, 10], [1200, 10]], s0)
    acc0 = await P.call('account.get')
    r = await P.call('order.place', **O(m, 'in', price=1100, qty=30))
    check('1 cancel_incoming gtc 30@1100: cancelled, filled 10 @1000, leaves 0', (r['status'], r['filled_qty'], r['leaves_qty'], fl(r)) == ('cancelled', 10, 0, [(1000, 10)]), r)
    acc = await P.call('account.get')
    check('1 P paid exactly 10,000, nothing held for the cancelled remainder', acc['cash_available'] == acc0['cash_available'] - 10_000 and acc['cash_held'] == acc0['cash_held'], (acc0, acc))
    check('1 book: ask 1000 -> 20, no bid level added', await changes(m) == [['ask', 1000, 20]])
    check("1 own b and Q's c, d still live", await live(P, m, 'b') == ('live', 0) and await live(Q, m, 'c') == ('live', 0) and await live(Q, m, 'd') == ('live', 0))

    # --- 2. cancel_resting, limit gtc buy 40 @ 1100: a, (b cancelled), c, d; 10 rests at 1100
    m, _ = await market(ASKS)
    acc0 = await P.call('account.get'); u0 = mp(acc0, m)
    r = await P.call('order.place', **O(m, 'in', price=1100, qty=40, stp='cancel_resting'))
    check('2 cancel_resting gtc 40@1100: partially_filled 30 (1000x10, 1000x10, 1100x10), leaves 10',
          (r['status'], r['filled_qty'], r['leaves_qty'], fl(r)) == ('partially_filled', 30, 10, [(1000, 10), (1000, 10), (1100, 10)]), r)
    acc = await P.call('account.get')
    check('2 P cash: paid 31,000, holds 1100 x 10 = 11,000 more', acc['cash_available'] == acc0['cash_available'] - 31_000 - 11_000 and acc['cash_held'] == acc0['cash_held'] + 11_000, (acc0, acc))
    check('2 P units +30, units_held -10 (b cancelled)', mp(acc, m) == (u0[0] + 30, u0[1] - 10), (u0, mp(acc, m)))
    ch = await changes(m)
    check('2 book: ask 1000 and 1100 removed, bid 1100 = 10, ask 1200 kept', ['ask', 1000, 0] in ch and ['ask', 1100, 0] in ch and ['bid', 1100, 10] in ch and not any(c[1] == 1200 for c in ch), ch)
    pp = await P.drain(0.2)
    bo = [q['data'] for q in pp if q['type'] == 'order' and q['data'].get('client_order_id') == f'{m}-b']
    check('2 private: own resting b pushed cancelled, leaves 0', bo and bo[-1]['status'] == 'cancelled' and bo[-1]['leaves_qty'] == 0, [(q['type'], q['data']) for q in pp])
    check('2 own b done, own e (1200, not reached) live', await live(P, m, 'b') == 'done' and await live(P, m, 'e') == ('live', 0))

    # --- 3. cancel_both, limit gtc buy 40 @ 1200: a fills; at b both b and the remainder are cancelled
    m, _ = await market(ASKS)
    acc0 = await P.call('account.get')
    r = await P.call('order.place', **O(m, 'in', price=1200, qty=40, stp='cancel_both'))
    check('3 cancel_both gtc 40@1200: cancelled, filled 10 @1000', (r['status'], r['filled_qty'], r['leaves_qty'], fl(r)) == ('cancelled', 10, 0, [(1000, 10)]), r)
    check('3 book: ask 1000 -> 10 (a filled, b cancelled)', await changes(m) == [['ask', 1000, 10]])
    acc = await P.call('account.get')
    check('3 P: paid 10,000, nothing held', acc['cash_available'] == acc0['cash_available'] - 10_000 and acc['cash_held'] == acc0['cash_held'], (acc0, acc))
    check("3 b done; Q's c, d and own e (beyond) untouched", await live(P, m, 'b') == 'done' and await live(Q, m, 'c') == ('live', 0) and await live(P, m, 'e') == ('live', 0))

    # --- 4. reject
    m, _ = await market(ASKS)
    r = await P.errm('order.place', **O(m, 'r1', price=1200, qty=10, stp='reject'))
    check('4 reject gtc 10@1200: filled by a before reaching b -> filled', r[0] == 'OK' and (r[1]['status'], fl(r[1])) == ('filled', [(1000, 10)]), r)
    await changes(m)
    before = await snap(ctx, [P, Q])
    e = await P.errm('order.place', **O(m, 'r2', price=1000, qty=20, stp='reject'))
    check('4 reject gtc 20@1000 (own b is next in the queue) -> SELF_TRADE', e[0] == 'SELF_TRADE', e)
    check('4 SELF_TRADE changed nothing (accounts, book)', await snap(ctx, [P, Q]) == before and await changes(m) == [])
    # b is now first at 1000 -> even qty 10 reaches it
    e = await P.errm('order.place', **O(m, 'r3', price=1000, qty=10, stp='reject', tif='ioc'))
    check('4 reject ioc 10@1000 with own b first in the queue -> SELF_TRADE', e[0] == 'SELF_TRADE', e)
    e = await P.errm('order.place', **O(m, 'r2', price=900, qty=20, stp='reject'))
    check('4 reject gtc at 900 (does not cross) rests; the SELF_TRADE-rejected id r2 reusable', e[0] == 'OK' and e[1]['status'] == 'open', e)
    # own order only beyond the limit: reject buy 20 @ 1100 on a book 1000: Q 10 | 1100: Q 10 | 1200: P 10
    m, _ = await market([(Q, 'sell', 1000, 10, 'a'), (Q, 'sell', 1100, 10, 'd'), (P, 'sell', 1200, 10, 'e')])
    r = await P.errm('order.place', **O(m, 'r4', price=1200, qty=20, stp='reject'))
    check('4 reject 20@1200 filled by 1000 + 1100 before own 1200 -> filled', r[0] == 'OK' and (r[1]['status'], fl(r[1])) == ('filled', [(1000, 10), (1100, 10)]), r)
    m, _ = await market([(Q, 'sell', 1000, 10, 'a'), (P, 'sell', 1200, 10, 'e')])
    r = await P.errm('order.place', **O(m, 'r5', price=1100, qty=30, stp='reject'))
    check('4 reject 30@1100, own ask at 1200 beyond the limit: 10 filled, 20 rest (never reaches own) ', r[0] == 'OK' and (r[1]['status'], r[1]['filled_qty'], r[1]['leaves_qty']) == ('partially_filled', 10, 20), r)
    r = await P.errm('order.place', **O(m, 'r6', type='market', tif='ioc', qty=10, stp='reject'))
    check('4 reject market ioc 10 with own ask the only liquidity -> SELF_TRADE', r[0] == 'SELF_TRADE', r)

    # --- 5. FOK x every mode on 1000: Q a 10, P b 10, Q c 10
    BK = [(Q, 'sell', 1000, 10, 'a'), (P, 'sell', 1000, 10, 'b'), (Q, 'sell', 1000, 10, 'c')]
    m, _ = await market(BK)
    before = await snap(ctx, [P, Q])
    r = await P.call('order.place', **O(m, 'f1', qty=20, tif='fok'))
    check('5 FOK 20 cancel_incoming (only a tradable before b) -> cancelled, nothing filled', (r['status'], r['filled_qty'], r['leaves_qty'], r['fills']) == ('cancelled', 0, 0, []), r)
    r = await P.call('order.place', **O(m, 'f2', qty=20, tif='fok', stp='cancel_both'))
    check('5 FOK 20 cancel_both -> cancelled, nothing filled', (r['status'], r['filled_qty'], r['fills']) == ('cancelled', 0, []), r)
    check('5 unfillable FOKs changed nothing (b still resting, accounts, book)', await snap(ctx, [P, Q]) == before and await changes(m) == [])
    r = await P.call('order.place', **O(m, 'f3', qty=10, tif='fok', stp='cancel_both'))
    check('5 FOK 10 cancel_both: filled by a, never reaching b', (r['status'], fl(r)) == ('filled', [(1000, 10)]), r)
    check('5 ... book ask 1000 -> 20', await changes(m) == [['ask', 1000, 20]])
    m, _ = await market(BK)
    r = await P.call('order.place', **O(m, 'f4', qty=20, tif='fok', stp='cancel_resting'))
    check('5 FOK 20 cancel_resting: a + c filled (b skipped and cancelled)', (r['status'], fl(r)) == ('filled', [(1000, 10), (1000, 10)]), r)
    check('5 ... book ask 1000 removed', await changes(m) == [['ask', 1000, 0]])
    check('5 ... b done', await live(P, m, 'b') == 'done')
    m, _ = await market(BK)
    before = await snap(ctx, [P, Q])
    r = await P.call('order.place', **O(m, 'f5', qty=30, tif='fok', stp='cancel_resting'))
    check('5 FOK 30 cancel_resting (20 tradable) -> cancelled, nothing filled, b not cancelled', (r['status'], r['filled_qty']) == ('cancelled', 0) and await snap(ctx, [P, Q]) == before and await changes(m) == [], r)
    e = await P.errm('order.place', **O(m, 'f6', qty=20, tif='fok', stp='reject'))
    print('  info: FOK 20 reject on Q a | P b | Q c ->', e[0], e[1] if e[0] == 'OK' else '')
    check('5 FOK 20 reject: SELF_TRADE or an unfillable-FOK result, nothing changed', (e[0] == 'SELF_TRADE' or (e[0] == 'OK' and e[1]['filled_qty'] == 0)) and await snap(ctx, [P, Q]) == before, e)

    # --- 6. IOC and market with own order alone or first
    m, _ = await market([(P, 'sell', 1000, 10, 'b'), (Q, 'sell', 1000, 10, 'c')])
    r = await P.call('order.place', **O(m, 'i1', qty=20, tif='ioc'))
    check('6 ioc cancel_incoming with own b first -> cancelled, nothing filled; b and c live', (r['status'], r['filled_qty']) == ('cancelled', 0) and await changes(m) == [], r)
    r = await P.call('order.place', **O(m, 'i2', qty=20, tif='ioc', stp='cancel_resting'))
    check('6 ioc cancel_resting 20: b cancelled, c filled, remainder cancelled', (r['status'], r['filled_qty'], r['leaves_qty'], fl(r)) == ('cancelled', 10, 0, [(1000, 10)]), r)
    check('6 ... book ask 1000 removed', await changes(m) == [['ask', 1000, 0]])
    m, _ = await market([(Q, 'sell', 1000, 10, 'a'), (P, 'sell', 1100, 10, 'b'), (Q, 'sell', 1200, 10, 'c')])
    acc0 = await P.call('account.get')
    r = await P.call('order.place', **O(m, 'mk', type='market', tif='ioc', qty=30, stp='cancel_both'))
    check('6 market ioc 30 cancel_both: a filled, b and the rest cancelled at 1100, c untouched', (r['status'], r['filled_qty'], fl(r)) == ('cancelled', 10, [(1000, 10)]) and await live(Q, m, 'c') == ('live', 0), r)
    acc = await P.call('account.get')
    check('6 ... P paid 10,000; units_held back by 10 (b cancelled)', acc['cash_available'] == acc0['cash_available'] - 10_000 and mp(acc, m)[1] == mp(acc0, m)[1] - 10, (acc0, acc))

    # --- 7. the sell side: P sells into bids Q 1000x10, P 1000x10 (own, holding 10,000), Q 900x10
    m, _ = await market([(Q, 'buy', 1000, 10, 'a'), (P, 'buy', 1000, 10, 'b'), (Q, 'buy', 900, 10, 'c')])
    acc0 = await P.call('account.get'); await P.drain(0.1)
    r = await P.call('order.place', **O(m, 's1', side='sell', price=900, qty=30, stp='cancel_resting'))
    check('7 sell gtc 30@900 cancel_resting: 1000x10 (a), own b cancelled, 900x10 (c), 10 rest at 900',
          (r['status'], r['filled_qty'], r['leaves_qty'], fl(r)) == ('partially_filled', 20, 10, [(1000, 10), (900, 10)]), r)
    acc = await P.call('account.get')
    check("7 P: +19,000 proceeds, own bid's 10,000 hold released to cash_available",
          acc['cash_available'] == acc0['cash_available'] + 19_000 + 10_000 and acc['cash_held'] == acc0['cash_held'] - 10_000, (acc0, acc))
    check('7 P units -20, units_held +10 (the resting 10 @ 900)', mp(acc, m) == (mp(acc0, m)[0] - 20, mp(acc0, m)[1] + 10), (mp(acc0, m), mp(acc, m)))
    ch = await changes(m)
    check('7 book: bid 1000 and 900 removed, ask 900 = 10', ['bid', 1000, 0] in ch and ['bid', 900, 0] in ch and ['ask', 900, 10] in ch, ch)
    pp = await P.drain(0.2)
    bo = [q['data'] for q in pp if q['type'] == 'order' and q['data'].get('client_order_id') == f'{m}-b']
    check('7 private: own bid b pushed cancelled', bo and bo[-1]['status'] == 'cancelled', [(q['type'], q['data']) for q in pp])
run('d01', sc)
