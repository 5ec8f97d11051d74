# DOMAIN rules 1, 3, 5, 9 at their exact bounds (eleventh audit): plan start_bp 7000 with cut_bp 2000 lands round 2 on
# the online 56 % floor, never below it, with odd valuations (PROTOCOL "Amounts derived from percentages ... rounded down
# to a whole yuan"; docs/protocol.md: the cut is the amount rounded down, so 100,001 CNY is followed by 80,001 CNY);
# deposit_bp 500 / 2000 and the tier of each round's own start; renotice_ms 30 days accepted (round 2 opens exactly 30 d
# after the unsold close), 30 days + 1 ms refused (rule 9 "round 2 within 30 days"); cut_bp and start_bp out of range
# (negative, start_bp 6999) refused with BAD_REQUEST naming the field, nothing opened; a refused plan leaves the asset free.
from common import *
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')

    # V = 142,858.58 CNY: 70 % = 100,001.006 CNY -> start 100,001 CNY (1 % tier: 1,000.01 -> 1,000 CNY);
    # cut 20 % = 20,000.2 -> 20,000 CNY -> round 2 = 80,001 CNY (2 % tier: 1,600.02 -> 1,600 CNY); 56 % V = 80,000.80 CNY.
    V = 14_285_858
    plan = {'start_bp': 7000, 'cut_bp': 2000, 'deposit_bp': 2000, 'renotice_ms': 30 * DAY}
    asset, cid, aid = await new_case(ctx, bank, own, V, plan=plan)
    g = await a.call('auction.get', auction_id=aid)
    check('r1 start 100,001 CNY (70 % floored to yuan)', g['start_price'] == 10_000_100, g['start_price'])
    check('r1 deposit 20 % = 20,000.02 -> 20,000 CNY', g['deposit'] == 2_000_000, g['deposit'])
    check('r1 increment 1 % tier = 1,000 CNY', g['increment'] == 100_000, g['increment'])
    await ctx.adv_to(g['closes_at'])
    d = await bank.call('disposal.get', case_id=cid)
    check('after r1 unsold: state round_2, rounds [auction unsold, auction]', d['state'] == 'round_2' and len(d['rounds']) == 2
          and d['rounds'][0]['state'] == 'unsold' and d['rounds'][1]['kind'] == 'auction', d['rounds'])
    g2 = await a.call('auction.get', auction_id=d['rounds'][-1]['auction_id'])
    check('r2 start 80,001 CNY (cut of 20,000 CNY; >= 56 % floor of 80,000.80 CNY)', g2['start_price'] == 8_000_100, g2['start_price'])
    check('r2 start not below 56 % of valuation', g2['start_price'] * 10000 >= V * 5600 - 10000 * 99, (g2['start_price'], V * 0.56))
    check('r2 deposit 20 % of its start = 16,000.02 -> 16,000 CNY', g2['deposit'] == 1_600_000, g2['deposit'])
    check('r2 increment 2 % tier of its own start = 1,600 CNY', g2['increment'] == 160_000, g2['increment'])
    check('r2 opens exactly 30 d after the r1 close (renotice_ms at its bound)', g2['opens_at'] == g['closes_at'] + 30 * DAY,
          (g2['opens_at'] - g['closes_at']) / DAY)
    check('r2 bidding 24 h', g2['closes_at'] - g2['opens_at'] == DAY, g2['closes_at'] - g2['opens_at'])

    # V = 142,857.15 CNY: start 100,000 CNY, cut 20,000 -> 80,000 CNY; 56 % V = 80,000.004 CNY, floored 80,000 CNY.
    V2 = 14_285_715
    _, cid2, aid2 = await new_case(ctx, bank, own, V2, plan={'start_bp': 7000, 'cut_bp': 2000, 'deposit_bp': 500})
    g = await a.call('auction.get', auction_id=aid2)
    check('V2 r1 start 100,000 CNY, deposit 5 % = 5,000 CNY, increment 2 % = 2,000 CNY',
          (g['start_price'], g['deposit'], g['increment']) == (10_000_000, 500_000, 200_000), (g['start_price'], g['deposit'], g['increment']))
    await ctx.adv_to(g['closes_at'])
    d = await bank.call('disposal.get', case_id=cid2)
    r2 = d['rounds'][-1]
    check('V2 r2 start exactly 80,000 CNY (= the 56 % floor rounded down to a yuan)', r2['start_price'] == 8_000_000, r2)
    g2 = await a.call('auction.get', auction_id=r2['auction_id'])
    check('V2 r2 deposit 5 % = 4,000 CNY, opens 15 d after r1 close (default renotice)',
          g2['deposit'] == 400_000 and g2['opens_at'] == g['closes_at'] + 15 * DAY, (g2['deposit'], (g2['opens_at'] - g['closes_at']) / DAY))

    # cut_bp 0: round 2 at round 1's start (0 % is "at most 20 % below")
    _, cid3, aid3 = await new_case(ctx, bank, own, 10_000_000, plan={'cut_bp': 0})
    g = await a.call('auction.get', auction_id=aid3)
    await ctx.adv_to(g['closes_at'])
    d = await bank.call('disposal.get', case_id=cid3)
    check('cut_bp 0: round 2 starts at round 1 start 70,000 CNY', [r['start_price'] for r in d['rounds']] == [7_000_000, 7_000_000], d['rounds'])

    # refusals: BAD_REQUEST, field named, no case opened, asset still free for a correct plan afterwards
    for bad, field in (({'renotice_ms': 30 * DAY + 1}, 'renotice_ms'), ({'cut_bp': -1}, 'cut_bp'), ({'start_bp': 6999}, 'start_bp'),
                       ({'deposit_bp': 0}, 'deposit_bp'), ({'bidding_ms': 0}, 'bidding_ms'), ({'start_bp': 7000.0}, 'start_bp'),
                       ({'cut_bp': '2000'}, 'cut_bp')):
        aid_ = await new_asset(ctx, own)
        await bank.call('pledge.register', asset_id=aid_, pledgee=bank.pid, loan_outstanding=1_000_000, registration_no='RX' + aid_)
        before = await bank.call('disposal.list')
        e = await bank.errm('disposal.open', assets=[aid_], pledgee=bank.pid, pledgor=own.pid, valuation=10_000_000, plan=bad)
        check(f'plan {bad} -> BAD_REQUEST naming {field}', e[0] == 'BAD_REQUEST' and field in str(e[1]), e)
        after = await bank.call('disposal.list')
        check(f'plan {bad}: no case opened', len(after['cases']) == len(before['cases']), (len(before['cases']), len(after['cases'])))
        e2 = await bank.errm('disposal.open', assets=[aid_], pledgee=bank.pid, pledgor=own.pid, valuation=10_000_000)
        check(f'plan {bad}: asset still free, a default plan opens', e2[0] == 'OK', e2)
run('p01', sc)
