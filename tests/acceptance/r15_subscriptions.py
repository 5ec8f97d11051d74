# Channels: snapshot first with current seq, gap-free updates, auction open/close pushes, disposal channel access,
# private channel, book/trades shapes, unsubscribe
from common import *
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); bank2 = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=100_000_000); Y = await ctx.mk('individual', fund=100_000_000)
    asset, cid, aid = await new_case(ctx, bank, own, 10_000_000)
    for c, exp in ((X, 'FORBIDDEN'), (bank2, 'NOT_FOUND')):  # another bank's case: NOT_FOUND per PROTOCOL.md 164-166
        e = await c.errm('subscribe', channels=[f'disposal.{cid}'])
        check(f'disposal channel for non-owner -> {exp}', e[0] == exp, e)
    e = await X.errm('subscribe', channels=['nonsense.x'])
    print('unknown channel:', e)
    e = await X.errm('subscribe', channels=['auction.A-999'])
    print('subscribe unknown auction:', e)
    r = await bank.call('subscribe', channels=[f'disposal.{cid}', f'auction.{aid}'])
    check('subscribe returns channels', r.get('channels') == [f'disposal.{cid}', f'auction.{aid}'], r)
    p = await bank.drain()
    snaps = {q['channel']: q for q in p if q['type'] == 'snapshot'}
    check('snapshot for each channel', set(snaps) == {f'disposal.{cid}', f'auction.{aid}'}, [(q['channel'], q['type']) for q in p])
    ag = await bank.call('auction.get', auction_id=aid)
    if f'auction.{aid}' in snaps:
        sd = snaps[f'auction.{aid}']['data']
        check('auction snapshot data = auction.get result', all(sd.get(k) == ag.get(k) for k in ag), {k: (sd.get(k), ag[k]) for k in ag if sd.get(k) != ag[k]})
        check('push has ts', 'ts' in snaps[f'auction.{aid}'], snaps[f'auction.{aid}'])
    await X.call('subscribe', channels=['private'])
    p = await X.drain()
    check('private snapshot', p and p[0]['type'] == 'snapshot' and p[0]['channel'] == 'private', p)
    await X.call('auction.register', auction_id=aid); await Y.call('auction.register', auction_id=aid)
    g = await a.call('auction.get', auction_id=aid)
    await ctx.adv_to(g['opens_at'])
    await X.call('auction.bid', auction_id=aid, amount=7_000_000)
    # late subscriber: snapshot seq equals the channel's current seq
    await Y.call('subscribe', channels=[f'auction.{aid}'])
    ysnap = (await Y.drain())
    await Y.call('auction.bid', auction_id=aid, amount=7_140_000)
    await ctx.adv_to(g['closes_at'])
    pb = await bank.drain(0.5); py = await Y.drain(0.5); px = await X.drain(0.3)
    auc = [q for q in pb if q['channel'] == f'auction.{aid}']
    types = [q['type'] for q in auc]; print('auction pushes', types)
    check('open push on scheduled auction', 'open' in types, types)
    seqs = [q['seq'] for q in auc]
    base = snaps[f'auction.{aid}']['seq'] if f'auction.{aid}' in snaps else None
    check('auction seq gap-free after snapshot', base is not None and len(seqs) > 0 and seqs == list(range(base + 1, base + 1 + len(seqs))), (base, seqs))
    ys = ysnap[0]['seq'] if ysnap else None
    before = [q['seq'] for q in auc if q['seq'] <= (ys or 0)]
    check('late snapshot seq = channel seq at subscribe time', ys is not None and ysnap[0]['type'] == 'snapshot' and ys == max(before, default=base), (ys, seqs))
    yseq = [q['seq'] for q in py if q['channel'] == f'auction.{aid}']
    check('late subscriber sees seq+1.. gap-free', len(yseq) > 0 and yseq == list(range(ys + 1, ys + 1 + len(yseq))), (ys, yseq))
    bidp = [q for q in auc if q['type'] == 'bid']
    check('bid push has no participant ids', all(X.pid not in json.dumps(q['data']) and Y.pid not in json.dumps(q['data']) for q in bidp), bidp)
    dis = [q for q in pb if q['channel'] == f'disposal.{cid}']
    print('disposal pushes', [(q['seq'], q['type']) for q in dis])
    dseq = [q['seq'] for q in dis]
    check('disposal seq gap-free', len(dseq) > 0 and dseq == list(range(snaps[f'disposal.{cid}']['seq'] + 1, snaps[f'disposal.{cid}']['seq'] + 1 + len(dseq))), dseq)
    print('private pushes X', [(q['seq'], q['type']) for q in px])
    xs = [q['seq'] for q in px]
    check('private seq gap-free', len(xs) > 0 and xs == list(range(p[0]['seq'] + 1, p[0]['seq'] + 1 + len(xs))), xs)
    check('private channel shows deposit activity', len(px) > 0, px)
    # unsubscribe
    r = await Y.call('unsubscribe', channels=[f'auction.{aid}'])
    check('unsubscribe returns channels', r.get('channels') == [f'auction.{aid}'], r)
    # book / trades
    m = await own.call('market.create', market_id='MK', asset_id=asset if False else await new_asset(ctx, own), licence={'kind': 'non_exclusive', 'territory': ['cn'], 'field': 'all', 'term_months': 12, 'royalty_bp': 0}, tick=100, min_qty=10)
    await own.call('units.issue', market_id='MK', qty=1000)
    await X.call('subscribe', channels=['book.MK', 'trades.MK']); p = await X.drain()
    bs = [q for q in p if q['channel'] == 'book.MK']
    check('book snapshot shape', bs and bs[0]['type'] == 'snapshot' and bs[0]['data'] == {'bids': [], 'asks': []}, bs)
    await own.call('order.place', market_id='MK', side='sell', type='limit', price=1000, qty=100, tif='gtc', client_order_id='s1')
    await own.call('order.place', market_id='MK', side='sell', type='limit', price=1100, qty=50, tif='gtc', client_order_id='s2')
    r = await Y.call('order.place', market_id='MK', side='buy', type='limit', price=1100, qty=120, tif='gtc', client_order_id='b1')
    check('buy fills 100@1000 + 20@1100', [(f['price'], f['qty']) for f in r['fills']] == [(1000, 100), (1100, 20)] and r['status'] == 'filled', r)
    p = await X.drain(0.5)
    tr = [q for q in p if q['channel'] == 'trades.MK']
    check('trade pushes: one per fill, fields', [ (q['type'], q['data'].get('price'), q['data'].get('qty'), q['data'].get('aggressor_side')) for q in tr] == [('trade', 1000, 100, 'buy'), ('trade', 1100, 20, 'buy')], [q['data'] for q in tr])
    check('trade push has no identities', all(set(q['data']) <= {'trade_id', 'price', 'qty', 'aggressor_side'} for q in tr), [q['data'] for q in tr])
    bk = [q for q in p if q['channel'] == 'book.MK']
    print('book updates', [q['data'] for q in bk])
    last = {}
    for q in bk:
        for side, price, qty in q['data']['changes']: last[(side, price)] = qty
    check('book changes end at ask 1000 removed, ask 1100 = 30', last.get(('ask', 1000)) == 0 and last.get(('ask', 1100)) == 30, last)
    bseq = [q['seq'] for q in bk]
    check('book seq gap-free', bseq == list(range(bs[0]['seq'] + 1, bs[0]['seq'] + 1 + len(bseq))), bseq)
run('r15', sc)
