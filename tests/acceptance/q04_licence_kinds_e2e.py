# DOMAIN rule 15 end to end (beyond r09/r09b/w03): an exclusive and a sole licence over disjoint territories both sold,
# paid and confirmed; the ledger afterwards (licensor keeps the title and is paid, licensees hold no title, escrow
# empty); a non-exclusive unit market beside them; licence shape checks (kind must match the purpose, a licence
# purpose needs a licence: BAD_REQUEST); "No licence term runs past the patent's expiry" when the licence runs from a
# late confirmation; open licence (an asset registered under open licence, docs/protocol.md's `open_licence` extension of
# asset.register, with licence units on sale to all) takes no exclusive or sole licence.
from common import *
LIC_ = lambda kind, terr, field, months=12: {'kind': kind, 'territory': terr, 'field': field, 'term_months': months, 'royalty_bp': 0}

async def sell_licence(ctx, own, buyer, asset, purpose, lic, price=1_000_000, pay_after=0):
    now = await ctx.now()
    r = await own.call('auction.create', lot=[asset], purpose=purpose, format='english', start_price=price, increment=10_000,
                       deposit=100_000, opens_at=now, closes_at=now + DAY, licence=lic)
    A = r['auction_id']
    await buyer.call('auction.register', auction_id=A); await buyer.call('auction.bid', auction_id=A, amount=price)
    await ctx.adv(DAY)
    g = await ctx.adm.call('auction.get', auction_id=A)
    if pay_after: await ctx.adv(pay_after)
    await buyer.call('settlement.pay', settlement_id=g['settlement_id'])
    return A, g

async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=10_000_000); Y = await ctx.mk('enterprise', fund=10_000_000, region='deyang')
    asset = await new_asset(ctx, own, expires_at=T0 + 3 * 365 * DAY)
    now = await ctx.now()
    base = dict(lot=[asset], format='english', start_price=1_000_000, increment=10_000, deposit=100_000, opens_at=now, closes_at=now + DAY)
    # shapes
    e = await own.err('auction.create', purpose='sole_licence', licence=LIC_('exclusive', ['chengdu'], 'f'), **base)
    check('purpose sole_licence with an exclusive licence -> BAD_REQUEST', e == 'BAD_REQUEST', e)
    e = await own.err('auction.create', purpose='exclusive_licence', **base)
    check('purpose exclusive_licence without a licence -> BAD_REQUEST', e == 'BAD_REQUEST', e)
    e = await own.err('auction.create', purpose='exclusive_licence', licence={'territory': ['chengdu'], 'field': 'f', 'term_months': 12}, **base)
    check('licence kind omitted (non_exclusive by default) on purpose exclusive_licence -> BAD_REQUEST', e == 'BAD_REQUEST', e)

    # exclusive in chengdu and sole in deyang, same field and term: no overlap, both confirmed
    A1, g1 = await sell_licence(ctx, own, X, asset, 'exclusive_licence', LIC_('exclusive', ['chengdu'], 'f'))
    A2, g2 = await sell_licence(ctx, own, Y, asset, 'sole_licence', LIC_('sole', ['deyang'], 'f'), price=800_000)
    r1 = await a.errm('settlement.confirm', settlement_id=g1['settlement_id'], registration_no='LIC-EX-1')
    r2 = await a.errm('settlement.confirm', settlement_id=g2['settlement_id'], registration_no='LIC-SO-1')
    check('exclusive (chengdu) and sole (deyang) licences over disjoint territories both confirmed', r1[0] == 'OK' and r2[0] == 'OK', (r1, r2))
    o = await own.call('account.get'); x = await X.call('account.get'); y = await Y.call('account.get')
    check('licensor keeps the title after two licence sales', pos(o, asset) is not None, o)
    check('licensor paid both prices', o['cash_available'] == 1_000_000 + 800_000, o)
    check('licensees hold no title and no escrow; paid their prices',
          pos(x, asset) is None and pos(y, asset) is None and (x['cash_available'], x['cash_held'], y['cash_available'], y['cash_held']) ==
          (9_000_000, 0, 9_200_000, 0), (x, y))
    s1 = await X.call('settlement.get', settlement_id=g1['settlement_id'])
    check('the licensee\'s record: a confirmed settlement with its registration_no', s1['state'] == 'confirmed' and s1.get('registration_no') == 'LIC-EX-1', s1)
    # overlaps now refused; a third region is free
    now = await ctx.now()
    base = dict(lot=[asset], format='english', start_price=1_000_000, increment=10_000, deposit=100_000, opens_at=now, closes_at=now + DAY)
    e = await own.err('auction.create', purpose='exclusive_licence', licence=LIC_('exclusive', ['deyang', 'leshan'], 'f'), **base)
    check('exclusive licence overlapping the confirmed sole one (deyang) -> INVALID_STATE', e == 'INVALID_STATE', e)
    e = await own.err('auction.create', purpose='sole_licence', licence=LIC_('sole', ['leshan'], 'f'), **base)
    check('sole licence in a third region (leshan) accepted', e == 'OK', e)
    # non-exclusive licences coexist with exclusive/sole ones elsewhere
    e = await own.errm('market.create', market_id='Q4-NE', asset_id=asset, licence=LIC_('non_exclusive', ['mianyang'], 'f'), tick=100, min_qty=1)
    check('non-exclusive unit market in a region without exclusive/sole licences accepted', e[0] == 'OK', e)
    e = await own.errm('market.create', market_id='Q4-NE2', asset_id=asset, licence=LIC_('non_exclusive', ['chengdu'], 'f'), tick=100, min_qty=1)
    print('  info: non-exclusive market overlapping the confirmed EXCLUSIVE licence (licensor may not even use it) ->', e[0], e[1] if e[0] != 'OK' else '')

    # term past expiry when the licence runs from a late confirmation
    asset2 = await new_asset(ctx, own, expires_at=(await ctx.now()) + 400 * DAY)
    A3, g3 = await sell_licence(ctx, own, X, asset2, 'exclusive_licence', LIC_('exclusive', ['cn'], 'g', 12), pay_after=9 * DAY)
    await ctx.adv(60 * DAY)   # registration takes two months: the 12-month licence would run ~28 days past expiry
    r = await a.errm('settlement.confirm', settlement_id=g3['settlement_id'], registration_no='LIC-LATE')
    check('a licence confirmed so late that its term runs past the patent\'s expiry is not confirmed (rule 15)', r[0] != 'OK', r)
    print('  info: late confirm ->', r[0], r[1] if r[0] != 'OK' else r[1].get('state'))

    # open licence (开放许可), declared at registration (docs/protocol.md asset.register `open_licence`); its
    # non-exclusive units go on sale to all
    asset3 = 'Q4-OPEN-AS'
    reg = await ctx.adm.call('asset.register', asset_id=asset3, kind='invention_patent', title='open ' + asset3,
                             owner=own.pid, region='chengdu', industry='other', valuation=10_000_000,
                             expires_at=T0 + 3650 * DAY, open_licence=True)
    check('asset.register takes open_licence and shows it', reg.get('open_licence') is True, reg)
    await own.call('market.create', market_id='Q4-OPEN', asset_id=asset3, licence=LIC_('non_exclusive', ['cn'], 'all'), tick=100, min_qty=1)
    await own.call('units.issue', market_id='Q4-OPEN', qty=100)
    await own.call('order.place', market_id='Q4-OPEN', side='sell', type='limit', price=1000, qty=100, tif='gtc', client_order_id='open')
    now = await ctx.now()
    b3 = dict(lot=[asset3], format='english', start_price=1_000_000, increment=10_000, deposit=100_000, opens_at=now, closes_at=now + DAY)
    e1 = await own.errm('auction.create', purpose='exclusive_licence', licence=LIC_('exclusive', ['chengdu'], 'x'), **b3)
    e2 = await own.errm('auction.create', purpose='sole_licence', licence=LIC_('sole', ['cn'], 'all'), **b3)
    check('a patent under open licence takes no exclusive licence -> INVALID_STATE', e1[0] == 'INVALID_STATE', e1[0])
    check('... nor a sole licence -> INVALID_STATE', e2[0] == 'INVALID_STATE', e2[0])
run('q04', sc)
