# Rule 15 over the wire: term past expiry, overlap with a confirmed exclusive/sole licence (field 'all', territory 'cn'), open licence
from common import *
LIC = lambda kind, terr, field, months=12: {'kind': kind, 'territory': terr, 'field': field, 'term_months': months, 'royalty_bp': 300}
async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=100_000_000)
    asset = await new_asset(ctx, own, expires_at=T0 + 380 * DAY)
    now = await ctx.now()
    def L(purpose, lic, **kw): return dict(lot=[asset], purpose=purpose, format='english', start_price=1_000_000, increment=10_000,
                                         deposit=100_000, opens_at=now, closes_at=now + DAY, licence=lic, **kw)
    e = await own.errm('auction.create', **L('exclusive_licence', LIC('exclusive', ['chengdu'], 'x', 13)))
    check('licence term past expires_at -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    e = await own.errm('auction.create', **L('exclusive_licence', LIC('sole', ['chengdu'], 'x')))
    print('purpose exclusive_licence with kind sole:', e[0], e[1] if e[0] != 'OK' else '')
    e = await own.errm('auction.create', **L('exclusive_licence', LIC('exclusive', ['atlantis'], 'x')))
    print('unknown territory region:', e[0])
    e = await own.errm('auction.create', **L('exclusive_licence', LIC('exclusive', ['chengdu'], 'x')))
    check('exclusive licence listing accepted', e[0] == 'OK', e)
    aid = e[1]['auction_id']
    # before confirmation an overlapping listing is not yet blocked by a *confirmed* licence
    e = await own.errm('auction.create', **L('sole_licence', LIC('sole', ['chengdu'], 'x')))
    print('overlap with an unconfirmed licence listing:', e[0])
    await X.call('auction.register', auction_id=aid); await X.call('auction.bid', auction_id=aid, amount=1_000_000)
    await ctx.adv(DAY)
    g = await a.call('auction.get', auction_id=aid)
    await X.call('settlement.pay', settlement_id=g['settlement_id'])
    await a.call('settlement.confirm', settlement_id=g['settlement_id'], registration_no='LIC1')
    acc = await own.call('account.get')
    check('licensor keeps the title after a licence sale', pos(acc, asset) is not None, acc)
    now = await ctx.now()
    def L2(purpose, lic): return dict(lot=[asset], purpose=purpose, format='english', start_price=1_000_000, increment=10_000,
                                   deposit=100_000, opens_at=now, closes_at=now + DAY, licence=lic)
    for lic, purpose, expect in ((LIC('sole', ['chengdu', 'deyang'], 'x'), 'sole_licence', 'INVALID_STATE'),
                                 (LIC('exclusive', ['cn'], 'x'), 'exclusive_licence', 'INVALID_STATE'),
                                 (LIC('exclusive', ['chengdu'], 'all'), 'exclusive_licence', 'INVALID_STATE'),
                                 (LIC('exclusive', ['deyang'], 'x'), 'exclusive_licence', 'OK'),
                                 (LIC('exclusive', ['cn'], 'y'), 'exclusive_licence', 'OK')):
        e = await own.errm('auction.create', **L2(purpose, lic))
        check(f'overlap check {lic["kind"]} {lic["territory"]} {lic["field"]} -> {expect}', e[0] == expect, e)
    # open licence: a licence-unit market (non_exclusive units on sale to all)
    asset2 = await new_asset(ctx, own)
    m = await own.errm('market.create', market_id='MKT-OL', asset_id=asset2, licence=LIC('non_exclusive', ['cn'], 'all'), tick=100, min_qty=1)
    check('market.create ok', m[0] == 'OK', m)
    e = await own.errm('auction.create', lot=[asset2], purpose='exclusive_licence', format='english', start_price=1_000_000, increment=10_000,
                       deposit=100_000, opens_at=now, closes_at=now + DAY, licence=LIC('exclusive', ['chengdu'], 'x'))
    print('exclusive licence on an asset with an open (unit) licence market:', e[0], e[1] if e[0] != 'OK' else '')
    e = await own.errm('market.create', market_id='MKT-2', asset_id=asset2, licence=LIC('exclusive', ['cn'], 'all'), tick=100, min_qty=1)
    check('market.create with non-non_exclusive licence -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    e = await own.errm('market.create', market_id='MKT-3', asset_id=asset, licence=LIC('non_exclusive', ['chengdu'], 'x', 12), tick=100, min_qty=1)
    print('non-exclusive market overlapping a confirmed exclusive licence:', e[0], e[1] if e[0] != 'OK' else '')
    e = await own.errm('market.create', market_id='MKT-4', asset_id=asset, licence=LIC('non_exclusive', ['deyang'], 'x', 13), tick=100, min_qty=1)
    check('market.create licence term past expiry -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
run('r09', sc)
