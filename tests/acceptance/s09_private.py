# private channel: snapshot, then pushes for own orders, fills, balances (fund, issue, hold, trade), gap-free; push envelope fields
from common import *
async def sc(ctx):
    a = ctx.adm
    P = await ctx.mk('enterprise'); X = await ctx.mk('individual')
    await P.call('subscribe', channels=['private']); await X.call('subscribe', channels=['private'])
    pp = await P.drain(0.3); xp = await X.drain(0.1)
    print('  info: private snapshot data', xp[0]['data'] if xp else None)
    check('private snapshot has seq and ts', xp and isinstance(xp[0].get('seq'), int) and isinstance(xp[0].get('ts'), int), xp)
    await a.call('account.fund', participant_id=X.pid, amount=100_000)
    qf = await X.drain(0.3)
    check('account.fund -> balance push on private', any(t['type'] == 'balance' and t['data'].get('cash_available') == 100_000 for t in qf), qf)
    asset = await new_asset(ctx, P)
    await P.call('market.create', market_id='V', asset_id=asset, licence=LIC, tick=10, min_qty=5)
    await P.call('units.issue', market_id='V', qty=100)
    q = await P.drain(0.3)
    print('  info: P pushes after asset.register/market.create/units.issue', [(t['type'], t['data']) for t in q])
    check('units.issue -> private push with the position', any('units' in json.dumps(t['data']) and '100' in json.dumps(t['data']) for t in q), q)
    await X.call('order.place', market_id='V', side='buy', type='limit', price=50, qty=20, tif='gtc', client_order_id='x1')
    q = await X.drain(0.3)
    check('own order placed -> order push (open) and balance push (held 1000)', any(t['type'] == 'order' and t['data'].get('status') == 'open' for t in q) and any(t['data'].get('cash_held') == 1000 for t in q), [(t['type'], t['data']) for t in q])
    await P.call('order.place', market_id='V', side='sell', type='limit', price=40, qty=5, tif='gtc', client_order_id='p1')
    qx = await X.drain(0.3); qp = await P.drain(0.1)
    check('maker X gets fill + order(partially_filled) + balance', any(t['type'] == 'fill' for t in qx) and any(t['type'] == 'order' and t['data'].get('status') == 'partially_filled' for t in qx) and any(t['type'] == 'balance' for t in qx), [(t['type'], t['data']) for t in qx])
    check('taker P gets fill + order(filled) + balance', any(t['type'] == 'fill' for t in qp) and any(t['type'] == 'order' and t['data'].get('status') == 'filled' for t in qp) and any(t['type'] == 'balance' for t in qp), [(t['type'], t['data']) for t in qp])
    check("no other participant's ids in X's private pushes", P.pid not in json.dumps(qx), qx)
    allx = xp + qf + q + qx
    seqs = [t['seq'] for t in allx]
    check('X private seq gap-free', seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs)
    check('every push has channel, seq, type, ts, data', all({'channel', 'seq', 'type', 'ts', 'data'} <= set(t) for t in allx), allx)
    await X.call('order.cancel', market_id='V', client_order_id='x1')
    q = await X.drain(0.3)
    check('cancel -> order push cancelled + balance (held 0)', any(t['type'] == 'order' and t['data'].get('status') == 'cancelled' for t in q) and any(t['data'].get('cash_held') == 0 for t in q), [(t['type'], t['data']) for t in q])
    # re-subscribe: new snapshot with the current seq
    await X.call('subscribe', channels=['private'])
    q2 = await X.drain(0.3)
    check('re-subscribe gives a snapshot with seq = last seq', q2 and q2[0]['type'] == 'snapshot' and q2[0]['seq'] == q[-1]['seq'], (q2, q[-1]['seq']))
run('s09', sc)
