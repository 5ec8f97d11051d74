# PROTOCOL.md 145-147: unsold sell-off goes to the matching backstop offer with the highest price (earliest on ties)
from common import *
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    V = 10_000_000
    asset, cid, aid = await new_case(ctx, bank, own, V, region='leshan')
    bsA = await ctx.mk('backstop', fund=100_000_000); bsB = await ctx.mk('backstop', fund=100_000_000)
    oA = await bsA.call('backstop.offer', price_bp=3000, max_amount=100_000_000, regions=['leshan'])
    await ctx.adv(1000)
    oB = await bsB.call('backstop.offer', price_bp=3000, max_amount=100_000_000, regions=['leshan'])
    print('offers', oA, oB)
    await ctx.adv_to(T0 + 108 * DAY)
    d = await bank.call('disposal.get', case_id=cid)
    print([t for t in d['timeline'] if t['event'] == 'backstop'])
    s = await a.call('settlement.get', settlement_id=d['settlement_id'])
    check('tie on price: earliest offer (A) buys', s['buyer'] == bsA.pid, {'buyer': s['buyer'], 'A': bsA.pid, 'B': bsB.pid})
run('r21', sc)
