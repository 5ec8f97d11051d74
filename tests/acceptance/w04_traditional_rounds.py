# DOMAIN rule 12 (traditional regime): "reserve = valuation, up to 3 rounds, each <= 20% below the previous, 60-day
# sell-off" with PROTOCOL's disposal defaults applied to every round (deposit 10% of that round's start, increment by the
# rule 4 tier of that round's start, 15 days' notice counted from the unsold close, bidding 24 h, purpose disposal) and
# the case states round_1 -> round_2 -> round_3 -> settlement -> closed (outcome sold); a plan cut_bp applies between
# every pair of rounds; cut_bp above 20% refused; after_sell_off release -> outcome released.
from common import *
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=100_000_000)
    V = 10_000_000   # 100,000 CNY: 2% tier at every round
    asset, cid, aid = await new_case(ctx, bank, own, V, plan={'regime': 'traditional'}, loan=50_000_000)
    starts = [V, V * 8 // 10, V * 64 // 100]
    prev_close = None
    for i, st in enumerate(starts, 1):
        d = await bank.call('disposal.get', case_id=cid)
        check(f'case state round_{i} during round {i}', d['state'] == f'round_{i}', d['state'])
        check(f'{i} rounds listed during round {i}', len(d['rounds']) == i, d['rounds'])
        r = d['rounds'][-1]
        g = await a.call('auction.get', auction_id=r['auction_id'])
        check(f'round {i}: round number {i}, kind auction, start {st}', r['round'] == i and r['kind'] == 'auction' and r['start_price'] == st, r)
        check(f'round {i}: purpose disposal, format english, start {st}', g['purpose'] == 'disposal' and g['format'] == 'english'
              and g['start_price'] == st, g)
        check(f'round {i}: deposit 10% of its start', g['deposit'] == yuan_floor(st // 10), (g['deposit'], st))
        check(f'round {i}: increment 2% of its start', g['increment'] == tier_inc(st), (g['increment'], st))
        check(f'round {i}: bidding 24 h', g['closes_at'] - g['opens_at'] == DAY, g['closes_at'] - g['opens_at'])
        if prev_close is not None:
            check(f'round {i}: opens 15 days after round {i-1} closed (renotice)', g['opens_at'] == prev_close + 15 * DAY,
                  (g['opens_at'] - prev_close) / DAY)
        if i < 3:
            await ctx.adv_to(g['closes_at'])
            prev_close = g['closes_at']
            d = await bank.call('disposal.get', case_id=cid)
            check(f'round {i} recorded unsold', d['rounds'][i - 1]['state'] == 'unsold', d['rounds'])
    # round 3: X buys at the start
    await X.call('auction.register', auction_id=g['auction_id'])
    await ctx.adv_to(g['opens_at'])
    await X.call('auction.bid', auction_id=g['auction_id'], amount=starts[2])
    await ctx.adv_to(g['closes_at'])
    d = await bank.call('disposal.get', case_id=cid)
    check('sold in round 3: case state settlement, no sell-off round', d['state'] == 'settlement' and len(d['rounds']) == 3
          and d['rounds'][2]['state'] == 'sold' and d['rounds'][2].get('price') == starts[2], d)
    check('settlement_id on the case', d.get('settlement_id') is not None, d)
    await X.call('settlement.pay', settlement_id=d['settlement_id'])
    await a.call('settlement.confirm', settlement_id=d['settlement_id'], registration_no='REG-T')
    d = await bank.call('disposal.get', case_id=cid)
    check('after confirm: closed, outcome sold', d['state'] == 'closed' and d.get('outcome') == 'sold', d)
    # cut_bp 1000 applied round over round; release after the sell-off
    asset2, cid2, _ = await new_case(ctx, bank, own, V, plan={'regime': 'traditional', 'cut_bp': 1000, 'after_sell_off': 'release'})
    await ctx.adv(400 * DAY)
    d = await bank.call('disposal.get', case_id=cid2)
    st = [r['start_price'] for r in d['rounds']]
    check('traditional cut 10%: starts 100%, 90%, 81%, sell-off 81%', st == [V, V * 9 // 10, V * 81 // 100, V * 81 // 100], st)
    check('traditional release: closed, outcome released', d['state'] == 'closed' and d.get('outcome') == 'released', d)
    check('released: the pledgor keeps the title', pos(await own.call('account.get'), asset2) is not None)
    e = await bank.errm('disposal.open', assets=[await new_asset(ctx, own)], pledgee=bank.pid, pledgor=own.pid, valuation=V,
                        plan={'regime': 'traditional', 'cut_bp': 2001})
    check('traditional cut_bp 2001 (more than 20% below the previous) -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    # online regime: exactly two auction rounds, never round_3
    asset3, cid3, _ = await new_case(ctx, bank, own, V, plan={'regime': 'online'})
    await ctx.adv(200 * DAY)
    d = await bank.call('disposal.get', case_id=cid3)
    check('online regime: 2 auction rounds + sell-off', [r['kind'] for r in d['rounds']] == ['auction', 'auction', 'sell_off'], d['rounds'])
run('w04', sc)
