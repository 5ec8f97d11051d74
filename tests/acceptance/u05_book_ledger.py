# Order book ledger in fen and units, step by step: maker/taker bp fees, holds = limit x leaves (not the fill price),
# partial fills across levels, units / units_held, GTD expiry of a partly filled order at the exact ms (hold released,
# status expired, book update removing the level), book.<m> rebuilt from snapshot + updates = a fresh snapshot,
# trades.<m> one push per fill with aggressor side; cash + fees and units conserved.
from common import *
def apply(book, changes):
    for side, price, qty in changes:
        d = book['bids' if side == 'bid' else 'asks']
        if qty == 0: d.pop(price, None)
        else: d[price] = qty
def top(book):
    return {'bids': [[p, book['bids'][p]] for p in sorted(book['bids'], reverse=True)[:50]], 'asks': [[p, book['asks'][p]] for p in sorted(book['asks'])[:50]]}
async def sc(ctx):
    S = await ctx.mk('enterprise'); B1 = await ctx.mk('individual', fund=1_000_000); B2 = await ctx.mk('individual', fund=1_000_000)
    W = await ctx.mk('individual')
    asset = await new_asset(ctx, S)
    await S.call('market.create', market_id='U', asset_id=asset, licence=LIC, tick=100, min_qty=10, maker_fee_bp=20, taker_fee_bp=50)
    await S.call('units.issue', market_id='U', qty=1000)
    await W.call('subscribe', channels=['book.U', 'trades.U']); await B2.call('subscribe', channels=['private'])
    p = await W.drain(0.3); await B2.drain(0.2)
    snap = [q for q in p if q['channel'] == 'book.U'][0]
    book = {'bids': {}, 'asks': {}}; apply(book, [['bid', x, y] for x, y in snap['data']['bids']] + [['ask', x, y] for x, y in snap['data']['asks']])
    pushes = []
    async def st(c): return await c.call('account.get')
    O = order_maker('U', 'sell')
    await S.call('order.place', **O(price=1000, qty=100)); await S.call('order.place', **O(price=1100, qty=50))
    s = await st(S); check('S: units 1000, units_held 150 (two resting sells)', mp(s, 'U') == (1000, 150), mp(s, 'U'))
    r = await B1.call('order.place', **O(side='buy', price=1200, qty=120))
    check('B1 buy 120 @ 1200: 100@1000 + 20@1100, filled', r['status'] == 'filled' and [(f['price'], f['qty']) for f in r['fills']] == [(1000, 100), (1100, 20)], r)
    b1, s = await st(B1), await st(S)
    check('B1: 1,000,000 - 122,000 - taker 50bp 610 = 877,390, held 0, units 120', (b1['cash_available'], b1['cash_held'], mp(b1, 'U')) == (877_390, 0, (120, 0)), b1)
    check('S: 122,000 - maker 20bp 244 = 121,756; units 880, held 30', (s['cash_available'], mp(s, 'U')) == (121_756, (880, 30)), s)
    now = await ctx.now(); exp = now + 10 * MIN + 3
    r = await B2.call('order.place', **O(side='buy', price=1200, qty=60, tif='gtd', expire_at=exp))
    check('B2 gtd buy 60 @ 1200: 30 @ 1100, rests 30', r['status'] == 'partially_filled' and r['filled_qty'] == 30 and r['leaves_qty'] == 30, r)
    b2, s = await st(B2), await st(S)
    check('B2: hold = limit 1200 x leaves 30 = 36,000; available 1,000,000 - 33,000 - 165 - 36,000 = 930,835', (b2['cash_held'], b2['cash_available']) == (36_000, 930_835), b2)
    check('S: + 33,000 - 66 = 154,690; units 850 held 0', (s['cash_available'], mp(s, 'U')) == (154_690, (850, 0)), s)
    r = await S.call('order.place', **O(price=1000, qty=10, tif='ioc'))
    check('S sell ioc 10 @ 1000 trades at the resting 1200', r['status'] == 'filled' and [(f['price'], f['qty']) for f in r['fills']] == [(1200, 10)], r)
    b2, s = await st(B2), await st(S)
    check('B2 (maker): hold 1200 x 20 = 24,000, available - maker fee 24 = 930,811', (b2['cash_held'], b2['cash_available']) == (24_000, 930_811), b2)
    check('B2 units 40 (30 + 10)', mp(b2, 'U') == (40, 0), mp(b2, 'U'))
    check('S (taker): + 12,000 - 60 = 166,630, units 840', (s['cash_available'], mp(s, 'U')) == (166_630, (840, 0)), s)
    p = await W.drain(0.3); pushes += p
    await ctx.adv_to(exp - 1)
    check('B2 hold still 24,000 at expire_at - 1', (await st(B2))['cash_held'] == 24_000)
    await B2.drain(0.1); p0 = await W.drain(0.1); pushes += p0
    await ctx.adv(1)
    b2 = await st(B2)
    check('GTD expired at expire_at: hold released, available 954,811', (b2['cash_held'], b2['cash_available']) == (0, 954_811), b2)
    pp = await B2.drain(0.4)
    print('  info: B2 private pushes at expiry', [(q['type'], q['data']) for q in pp])
    check('private push: order expired with filled 40, leaves 0', any(q['data'].get('status') == 'expired' and q['data'].get('filled_qty') == 40 and q['data'].get('leaves_qty') == 0 for q in pp)
          or any('expired' in json.dumps(q['data']) for q in pp), [(q['type'], q['data']) for q in pp])
    p = await W.drain(0.3); pushes += p
    ch = [c for q in p if q['channel'] == 'book.U' for c in q['data']['changes']]
    check('book update at expiry removes bid 1200 ([bid, 1200, 0])', ['bid', 1200, 0] in ch, ch)
    await S.call('order.place', **O(price=1500, qty=100, client_order_id='s15'))
    r = await B1.call('order.place', **O(side='buy', price=1500, qty=30))
    s = await st(S)
    check('S after partial fill of its resting sell: units 810, units_held 70', mp(s, 'U') == (810, 70), mp(s, 'U'))
    c = await S.call('order.cancel', market_id='U', client_order_id='s15')
    check('cancel partly filled sell: filled 30, leaves 0, units_held 0', c['filled_qty'] == 30 and c['leaves_qty'] == 0 and mp(await st(S), 'U') == (810, 0), (c, mp(await st(S), 'U')))
    b1, b2, s = await st(B1), await st(B2), await st(S)
    check('B1: 877,390 - 45,000 - 225 = 832,165', b1['cash_available'] == 832_165, b1)
    check('S: 166,630 + 45,000 - 90 = 211,540', s['cash_available'] == 211_540, s)
    fees = 610 + 244 + 165 + 66 + 60 + 24 + 225 + 90
    tot = sum(x['cash_available'] + x['cash_held'] for x in (b1, b2, s))
    check(f'cash conserved: 2,000,000 - fees {fees} = {2_000_000 - fees}', tot == 2_000_000 - fees, tot)
    check('units conserved: 810 + 150 + 40 = 1000', mp(s, 'U')[0] + mp(b1, 'U')[0] + mp(b2, 'U')[0] == 1000, (mp(s, 'U'), mp(b1, 'U'), mp(b2, 'U')))
    p = await W.drain(0.4); pushes += p
    bk = [q for q in pushes if q['channel'] == 'book.U']; tr = [q for q in pushes if q['channel'] == 'trades.U']
    check('book seq gap-free from snapshot', [q['seq'] for q in bk] == list(range(snap['seq'] + 1, snap['seq'] + 1 + len(bk))), [q['seq'] for q in bk])
    for q in bk: apply(book, q['data']['changes'])
    await B1.call('subscribe', channels=['book.U']); fresh = (await B1.drain(0.3))[0]
    check('book rebuilt from updates = fresh snapshot', fresh['data'] == top(book), (fresh['data'], top(book)))
    check('fresh snapshot: bids [], asks [] (everything filled, expired or cancelled)', fresh['data'] == {'bids': [], 'asks': []}, fresh['data'])
    got = [(q['data']['price'], q['data']['qty'], q['data']['aggressor_side']) for q in tr]
    check('trades: one push per fill with aggressor side', got == [(1000, 100, 'buy'), (1100, 20, 'buy'), (1100, 30, 'buy'), (1200, 10, 'sell'), (1500, 30, 'buy')], got)
    check('trade ids unique', len({q['data']['trade_id'] for q in tr}) == len(tr), [q['data']['trade_id'] for q in tr])
run('u05', sc)
