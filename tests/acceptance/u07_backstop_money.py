# Rule 11 + PROTOCOL "An unsold sell-off goes first to the matching backstop offer with the highest price (earliest on
# ties) whose buyer has the cash and whose max_amount is not used up": max_amount as a total (a purchase that would take
# the total past it is not made), cash exactly the price, an offer that expired 1 ms before, industries must match;
# the money of each purchase (held until confirm), the pledgee's payout and the rule 17 fund share at confirmation.
from common import *
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    fund = await ctx.mk('risk_fund', fund=10_000_000)
    V = 10_000_000
    plan = {'risk_fund': {'participant_id': fund.pid, 'share_bp': 5000}}
    cases = [await new_case(ctx, bank, own, V, region='leshan', loan=5_000_000, plan=plan) for _ in range(4)]
    so_close = T0 + 107 * DAY
    bsA = await ctx.mk('backstop', fund=20_000_000); bsB = await ctx.mk('backstop', fund=2_500_000)
    bsE = await ctx.mk('backstop', fund=20_000_000); bsF = await ctx.mk('backstop', fund=20_000_000)
    await bsE.call('backstop.offer', price_bp=4000, max_amount=100_000_000, regions=['leshan'], expires_at=so_close - 1)
    await bsF.call('backstop.offer', price_bp=3500, max_amount=100_000_000, regions=['leshan'], industries=['medicine_health'])
    await bsA.call('backstop.offer', price_bp=3000, max_amount=5_000_000, regions=['leshan'])
    await bsB.call('backstop.offer', price_bp=2500, max_amount=100_000_000)
    await ctx.adv_to(so_close - 1)
    d = await bank.call('disposal.get', case_id=cases[0][1])
    g = await a.call('auction.get', auction_id=d['rounds'][-1]['auction_id'])
    check('sell-off of case 1 closes at 107 d', d['state'] == 'sell_off' and g['closes_at'] == so_close, (d['state'], g['closes_at'] - T0))
    await ctx.adv(1)
    res = []
    for asset, cid, _ in cases:
        d = await bank.call('disposal.get', case_id=cid)
        if d.get('settlement_id'):
            s = await a.call('settlement.get', settlement_id=d['settlement_id'])
            res.append((s['buyer'], s['price'], d['state'], s['state'], d['settlement_id'], cid))
        else:
            res.append((None, None, d['state'], d['outcome'], None, cid))
    names = {bsA.pid: 'A', bsB.pid: 'B', bsE.pid: 'E', bsF.pid: 'F', None: '-'}
    got = sorted((names[r[0]], r[1]) for r in res)
    print('  info:', [(names[r[0]],) + r[1:4] for r in res])
    check('A once (a second 3,000,000 would pass max_amount 5,000,000), B once (cash exactly 2,500,000), E (expired 1 ms before) and F (industry) never; two cases in lieu',
          got == [('-', None), ('-', None), ('A', 3_000_000), ('B', 2_500_000)], got)
    aA = await bsA.call('account.get'); aB = await bsB.call('account.get')
    check('A: 3,000,000 held until confirm', (aA['cash_available'], aA['cash_held']) == (17_000_000, 3_000_000), aA)
    check('B: all 2,500,000 held', (aB['cash_available'], aB['cash_held']) == (0, 2_500_000), aB)
    sold = [r for r in res if r[0]]
    check('backstop cases in settlement until confirm', all(r[2] == 'settlement' for r in sold), [r[2] for r in sold])
    b0 = (await bank.call('account.get'))['cash_available']
    check('bank paid nothing before confirm (escrow)', b0 == 0, b0)
    for r in sold: await a.call('settlement.confirm', settlement_id=r[4], registration_no='R' + r[5])
    b1 = (await bank.call('account.get'))['cash_available']; f1 = (await fund.call('account.get'))['cash_available']
    check('bank: 3,000,000 + 2,500,000 + fund 50% of shortfalls (1,000,000 + 1,250,000) = 7,750,000', b1 == 7_750_000, b1)
    check('fund paid 2,250,000', f1 == 10_000_000 - 2_250_000, f1)
    aA = await bsA.call('account.get'); aB = await bsB.call('account.get')
    check('A owns its asset, held 0', aA['cash_held'] == 0 and aA['cash_available'] == 17_000_000 and len([p for p in aA['positions'] if 'asset_id' in p]) == 1, aA)
    check('B owns its asset, cash 0', aB['cash_held'] == 0 and aB['cash_available'] == 0 and len([p for p in aB['positions'] if 'asset_id' in p]) == 1, aB)
    for r in sold:
        d = await bank.call('disposal.get', case_id=r[5])
        exp = 1_000_000 if r[1] == 3_000_000 else 1_250_000
        check(f'{r[5]}: closed backstop; recovery net {r[1]}, fund {exp}, rate {(r[1] + exp) / 5_000_000}',
              d['state'] == 'closed' and d['outcome'] == 'backstop' and d['recovery'].get('net_to_bank') == r[1] and d['recovery'].get('fund_share') == exp
              and abs(d['recovery'].get('recovery_rate', -1) - (r[1] + exp) / 5_000_000) < 1e-9, (d['state'], d['outcome'], d['recovery']))
    for r in res:
        if r[0] is None:
            check(f'{r[5]}: closed in_lieu', r[2] == 'closed' and r[3] == 'in_lieu', r)
    rep = await bank.call('report.disposals')
    outs = sorted(x['outcome'] for x in rep['rows'])
    check('report outcomes: backstop x2, in_lieu x2', outs == ['backstop', 'backstop', 'in_lieu', 'in_lieu'], outs)
run('u07', sc)
