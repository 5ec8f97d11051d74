# Backstop selection: highest price, earliest on ties, cash, max_amount used up, expiry, region/industry both match;
# unsold-round deposits released; risk fund on in_lieu shortfall (probe)
from common import *
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    fund = await ctx.mk('risk_fund', fund=50_000_000)
    R = await ctx.mk('individual', fund=10_000_000)
    V = 10_000_000   # sell-off at 5.6M
    # three cases in leshan/other, sell-offs end simultaneously
    cases = [await new_case(ctx, bank, own, V, region='leshan') for _ in range(3)]
    # case in deyang for in_lieu + risk fund
    _, cL, aL = await new_case(ctx, bank, own, V, region='deyang', loan=8_000_000, plan={'risk_fund': {'participant_id': fund.pid, 'share_bp': 5000}})
    # registrant with no bid in round 1 of first case
    await R.call('auction.register', auction_id=cases[0][2])
    bsA = await ctx.mk('backstop', fund=100_000_000); bsB = await ctx.mk('backstop', fund=100_000_000); bsC = await ctx.mk('backstop', fund=2_000_000)
    bsD = await ctx.mk('backstop', fund=100_000_000)
    oC = await bsC.call('backstop.offer', price_bp=5000, max_amount=100_000_000, regions=['leshan'])             # no cash (5M > 2M)
    oD = await bsD.call('backstop.offer', price_bp=4500, max_amount=100_000_000, regions=['leshan'], expires_at=T0 + 100 * DAY)  # expired by then
    oA = await bsA.call('backstop.offer', price_bp=3000, max_amount=3_000_000, regions=['leshan'])              # one purchase only
    oB = await bsB.call('backstop.offer', price_bp=3000, max_amount=100_000_000, regions=['leshan'], industries=['other'])
    oE = await bsB.call('backstop.offer', price_bp=2000, max_amount=100_000_000, regions=['leshan'], industries=['medicine_health'])
    await ctx.adv_to(T0 + 31 * DAY)
    r = await R.call('account.get')
    check('registrant deposit released at unsold close', r['cash_held'] == 0, r)
    await ctx.adv_to(T0 + 108 * DAY)
    buyers = []
    for asset, cid, aid in cases:
        d = await bank.call('disposal.get', case_id=cid)
        if d.get('settlement_id'):
            s = await a.call('settlement.get', settlement_id=d['settlement_id'])
            buyers.append((s['buyer'], s['price'])); print(cid, d['rounds'][-1]['auction_id'], [t for t in d['timeline'] if t['event'] == 'backstop'])
        else:
            buyers.append((None, d['state'], d['outcome']))
    print(buyers, {bsA.pid: 'A', bsB.pid: 'B', bsC.pid: 'C', bsD.pid: 'D'})
    exp = sorted([(bsA.pid, 3_000_000), (bsB.pid, 3_000_000), (bsB.pid, 3_000_000)])
    check('backstop: A once (max_amount used up), B twice; C (no cash) and D (expired) skipped', sorted(buyers) == exp, buyers)
    d = await bank.call('disposal.get', case_id=cL)
    check('deyang case in_lieu', d['outcome'] == 'in_lieu', d['outcome'])
    f = await fund.call('account.get'); b = await bank.call('account.get')
    print('in_lieu with claim 8M at 5.6M: fund', f['cash_available'], 'bank', b['cash_available'], d['recovery'])
run('r20', sc)
