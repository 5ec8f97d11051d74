# Rule 15: "Exclusive and sole licences for overlapping territory, field and term cannot coexist" -- two overlapping
# exclusive-licence listings created before either is confirmed; both sell; can both be confirmed?
from common import *
LIC = lambda kind, terr, field, months=12: {'kind': kind, 'territory': terr, 'field': field, 'term_months': months, 'royalty_bp': 300}
async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=100_000_000); Y = await ctx.mk('individual', fund=100_000_000)
    asset = await new_asset(ctx, own)
    now = await ctx.now()
    ids = []
    for lic in (LIC('exclusive', ['chengdu'], 'x'), LIC('sole', ['chengdu'], 'x')):
        r = await own.call('auction.create', lot=[asset], purpose=lic['kind'] + '_licence', format='english', start_price=1_000_000, increment=10_000,
                           deposit=100_000, opens_at=now, closes_at=now + DAY, licence=lic)
        ids.append(r['auction_id'])
    for c, aid in ((X, ids[0]), (Y, ids[1])):
        await c.call('auction.register', auction_id=aid); await c.call('auction.bid', auction_id=aid, amount=1_000_000)
    await ctx.adv(DAY)
    res = []
    for c, aid in ((X, ids[0]), (Y, ids[1])):
        g = await a.call('auction.get', auction_id=aid)
        await c.call('settlement.pay', settlement_id=g['settlement_id'])
        res.append(await a.errm('settlement.confirm', settlement_id=g['settlement_id'], registration_no='L' + aid))
    print([r[0] for r in res], res[1])
    g = await a.call('auction.get', auction_id=ids[1])
    s2 = await a.call('settlement.get', settlement_id=g['settlement_id'])
    check('second overlapping exclusive/sole licence is not confirmed alongside the first (rule 15)',
          res[0][0] == 'OK' and res[1][0] == 'INVALID_STATE' and s2['state'] == 'paid', ([r[0] for r in res], s2['state']))
run('r09b', sc)
