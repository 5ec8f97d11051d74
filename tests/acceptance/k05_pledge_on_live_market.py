# A bank takes a pledge on a patent whose licence units already trade (PROTOCOL "Rule checks on listings
# (INVALID_STATE): a trader listing or licensing a pledged asset without the pledgee's pledge.consent"; DOMAIN 13
# "cannot be ... licensed without the pledgee's consent; proceeds go to the pledgee first"; docs settlement.confirm
# "Licence units the licensor sells on a market are licences too ... each trade's money goes to the live pledges
# first ... units resold by their buyers pay their sellers"; docs pledge.consent "a pledge registered later needs its
# own consent"). Checks: the licensor's resting sell filled after the pledge pays the bank first (claim 30,000), the
# rest to the licensor; until the bank consents, the licensor issuing more units or offering units anew is licensing
# without consent (INVALID_STATE, nothing changed); a buyer reselling its units is not the licensor and is not
# blocked, and its sale pays itself; after consent the licensor may issue and sell again. The private `fill` pushes
# of both sides carry the reply's trade_id, price, qty, order_id, client_order_id, side.
from common import *

async def sc(ctx):
    a = ctx.adm
    A = await ctx.mk('bank'); T = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=1_000_000); Y = await ctx.mk('individual', fund=1_000_000)
    D = await new_asset(ctx, T)
    await T.call('market.create', market_id='M', asset_id=D, licence=LIC, tick=100, min_qty=10)
    await T.call('units.issue', market_id='M', qty=100)
    await T.call('order.place', market_id='M', side='sell', type='limit', price=1_000, qty=50, tif='gtc', client_order_id='t1')
    for c in (T, X): await c.call('subscribe', channels=['private'])
    await asyncio.sleep(0.2)
    for c in (T, X): c.pushes.clear()
    p = await A.call('pledge.register', asset_id=D, pledgee=A.pid, loan_outstanding=25_000, registration_no='R1', interest=3_000, costs=2_000)
    check('later pledge on a traded patent: claim 30,000, not consented', (p.get('claim'), p.get('consented')) == (30_000, False), p)
    x1 = await X.call('order.place', market_id='M', side='buy', type='limit', price=1_000, qty=20, tif='gtc', client_order_id='x1')
    ca = [(await c.call('account.get'))['cash_available'] for c in (A, T, X)]
    check('resting licensor sell filled after the pledge: 20,000 to the bank first, licensor 0', ca == [20_000, 0, 980_000], ca)
    await asyncio.sleep(0.15)
    for c, oid, cid, side in ((X, x1['order_id'], 'x1', 'buy'), (T, None, 't1', 'sell')):
        fl = [m['data'] for m in c.pushes if m['channel'] == 'private' and m['type'] == 'fill']
        f0 = x1['fills'][0]
        ok = len(fl) == 1 and (fl[0].get('trade_id'), fl[0].get('price'), fl[0].get('qty'), fl[0].get('client_order_id'), fl[0].get('side')) == (f0['trade_id'], 1_000, 20, cid, side) \
             and (oid is None or fl[0].get('order_id') == oid)
        check(f'{cid}: private fill push = the trade ({side})', ok, fl)
    before = [await a.call('account.get', participant_id=c.pid) for c in (A, T, X)]
    e = await T.errm('units.issue', market_id='M', qty=10)
    check('licensor issuing more units of a pledged patent without consent -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    e = await T.errm('order.place', market_id='M', side='sell', type='limit', price=1_000, qty=10, tif='gtc', client_order_id='t2')
    check('licensor offering units anew without consent -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    after = [await a.call('account.get', participant_id=c.pid) for c in (A, T, X)]
    check('refused licensing changed no account', before == after, (before, after))
    # X resells its own units: not licensing by the owner, pays X
    await X.call('order.place', market_id='M', side='sell', type='limit', price=900, qty=10, tif='gtc', client_order_id='x2')
    await Y.call('order.place', market_id='M', side='buy', type='limit', price=900, qty=10, tif='ioc', client_order_id='y1')
    ca = [(await c.call('account.get'))['cash_available'] for c in (A, T, X)]
    check('X resells 10 @ 900 (below the licensor): X +9,000, bank and licensor unchanged', ca == [20_000, 0, 989_000], ca)
    # the rest of t1 (30 @ 1,000): bank's remaining 10,000, then licensor 20,000
    await Y.call('order.place', market_id='M', side='buy', type='limit', price=1_000, qty=30, tif='gtc', client_order_id='y2')
    ca = [(await c.call('account.get'))['cash_available'] for c in (A, T, Y)]
    check('30 @ 1,000: bank +10,000 (claim met), licensor +20,000', ca == [30_000, 20_000, 961_000], ca)
    await A.call('pledge.consent', asset_id=D)
    u0 = mp(await T.call('account.get'), 'M')[0]
    e = await T.errm('units.issue', market_id='M', qty=10)
    check('after consent the licensor may issue units (+10)', e[0] == 'OK' and e[1].get('units') == u0 + 10, (u0, e))
    await T.call('order.place', market_id='M', side='sell', type='limit', price=1_000, qty=10, tif='gtc', client_order_id='t3')
    await Y.call('order.place', market_id='M', side='buy', type='market', qty=10, tif='ioc', client_order_id='y3')
    ca = [(await c.call('account.get'))['cash_available'] for c in (A, T, Y)]
    check('after the claim is met the licensor keeps the sale (10,000)', ca == [30_000, 30_000, 951_000], ca)
    # an operator-made market on a pledged, unconsented patent: the trader licensor issuing units there is licensing it
    E = await new_asset(ctx, T)
    await A.call('pledge.register', asset_id=E, pledgee=A.pid, loan_outstanding=10_000, registration_no='R-E')
    e = await ctx.adm.errm('market.create', market_id='ME', asset_id=E, licence=LIC, tick=100, min_qty=10)
    print('  info: operator market.create on a pledged, unconsented patent:', e[0])
    if e[0] == 'OK':
        e = await T.errm('units.issue', market_id='ME', qty=100)
        check('licensor issuing units on an operator-made market of a pledged, unconsented patent -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
run('k05', sc)
