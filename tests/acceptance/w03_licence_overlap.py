# DOMAIN rule 15 / PROTOCOL "Rule checks on listings (INVALID_STATE): ... an exclusive or sole licence whose territory,
# field and term overlap a confirmed exclusive or sole licence of the same asset (field all overlaps every field)":
# a confirmed SOLE licence blocks an overlapping exclusive and sole listing; a confirmed ["cn"] licence blocks every region;
# a licence whose sale failed or went unsold is not confirmed and blocks nothing; once the confirmed licence's term has
# run out, the same territory/field no longer overlaps in term; non-overlapping fields coexist. Rule 15:
# "non-exclusive (the default when unspecified)".
from common import *
L = lambda kind, terr, field, months=12: {'kind': kind, 'territory': terr, 'field': field, 'term_months': months, 'royalty_bp': 300}
async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=100_000_000)
    asset = await new_asset(ctx, own, expires_at=T0 + 3650 * DAY)
    async def listing(purpose, lic, by=own):
        now = await ctx.now()
        return await by.errm('auction.create', lot=[asset], purpose=purpose, format='english', start_price=1_000_000, increment=10_000,
                             deposit=100_000, opens_at=now, closes_at=now + DAY, licence=lic)
    async def sell(aid, confirm=True, fail=False):
        await X.call('auction.register', auction_id=aid); await X.call('auction.bid', auction_id=aid, amount=1_000_000)
        await ctx.adv(DAY)
        g = await a.call('auction.get', auction_id=aid)
        if fail:
            await a.call('settlement.fail', settlement_id=g['settlement_id'], reason='registration refused'); return g
        await X.call('settlement.pay', settlement_id=g['settlement_id'])
        if confirm: await a.call('settlement.confirm', settlement_id=g['settlement_id'], registration_no='LIC-' + aid)
        return g
    # 1. a sold-but-failed exclusive licence blocks nothing
    e = await listing('exclusive_licence', L('exclusive', ['chengdu'], 'f1'))
    check('exclusive listing chengdu/f1 accepted', e[0] == 'OK', e)
    await sell(e[1]['auction_id'], fail=True)
    e = await listing('exclusive_licence', L('exclusive', ['chengdu'], 'f1'))
    check('after settlement.fail the same exclusive licence may be listed again (nothing confirmed)', e[0] == 'OK', e)
    # 2. an unsold exclusive listing blocks nothing
    await ctx.adv(DAY)
    e = await listing('exclusive_licence', L('exclusive', ['chengdu'], 'f1'))
    check('after an unsold licence auction the same licence may be listed again', e[0] == 'OK', e)
    # 3. a confirmed SOLE licence (cn, f2) blocks overlapping exclusive and sole listings, not other fields
    e = await listing('sole_licence', L('sole', ['cn'], 'f2'))
    check('sole listing cn/f2 accepted', e[0] == 'OK', e)
    await sell(e[1]['auction_id'])
    for purpose, lic, expect in (('exclusive_licence', L('exclusive', ['leshan'], 'f2'), 'INVALID_STATE'),
                                 ('sole_licence', L('sole', ['deyang', 'mianyang'], 'f2'), 'INVALID_STATE'),
                                 ('exclusive_licence', L('exclusive', ['cn'], 'all'), 'INVALID_STATE'),
                                 ('sole_licence', L('sole', ['leshan'], 'f3'), 'OK')):
        e = await listing(purpose, lic)
        check(f'confirmed sole cn/f2 vs new {lic["kind"]} {lic["territory"]} {lic["field"]} -> {expect}', e[0] == expect, e)
    # 4. term: a confirmed exclusive chengdu/f4 licence of 12 months; 13 months later it no longer overlaps in term
    e = await listing('exclusive_licence', L('exclusive', ['chengdu'], 'f4', 12))
    await sell(e[1]['auction_id'])
    e = await listing('exclusive_licence', L('exclusive', ['chengdu'], 'f4', 1))
    check('overlapping term (1 month, now) -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    await ctx.adv(400 * DAY)
    e = await listing('exclusive_licence', L('exclusive', ['chengdu'], 'f4', 12))
    check('400 days after a 12-month exclusive licence was confirmed, the same territory/field is free (terms do not overlap)', e[0] == 'OK', e)
    # 5. rule 15 "non-exclusive (the default when unspecified)": a licence without kind is non-exclusive
    a2 = await new_asset(ctx, own)
    lic = {'territory': ['cn'], 'field': 'all', 'term_months': 12, 'royalty_bp': 0}
    e = await own.errm('market.create', market_id='MK-D', asset_id=a2, licence=lic, tick=10, min_qty=1)
    print('  info: market.create with a licence without kind ->', e)
    check('licence without kind defaults to non_exclusive (market.create accepted)', e[0] == 'OK' and
          (e[1].get('licence', {}).get('kind', 'non_exclusive') == 'non_exclusive'), e)
run('w03', sc)
