# Rule 12 traditional regime: start = valuation, 3 rounds each -20% of previous, sell-off 60 d at round-3 start; buyer commission caps
from common import *
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    X = await ctx.mk('enterprise', fund=20_000_000_000)
    V = 300_000_000  # 3M CNY
    asset, cid, aid = await new_case(ctx, bank, own, V, plan={'regime': 'traditional'}, loan=100_000_000)
    g = await a.call('auction.get', auction_id=aid)
    print('trad r1', g)
    check('traditional: start = reserve = valuation', g['start_price'] == V and g.get('reserve', V) == V, (g['start_price'], g.get('reserve')))
    check('traditional: increment tier 0.5%', g['increment'] == yuan_floor(V * 50 // 10000), g['increment'])
    # unsold cascade
    await ctx.adv(400 * DAY)
    d = await bank.call('disposal.get', case_id=cid)
    print(json.dumps(d['rounds']), d['state'], d['outcome'])
    kinds = [r['kind'] for r in d['rounds']]
    check('traditional: 3 auction rounds then sell_off', kinds == ['auction', 'auction', 'auction', 'sell_off'], kinds)
    st = [r['start_price'] for r in d['rounds']]
    exp = [V, V * 8 // 10, V * 64 // 100, V * 64 // 100]
    check('traditional: starts each -20% of previous; sell-off at round-3 start', st == exp, (st, exp))
    if len(d['rounds']) == 4:
        so = await a.call('auction.get', auction_id=d['rounds'][3]['auction_id'])
        r3 = await a.call('auction.get', auction_id=d['rounds'][2]['auction_id'])
        check('traditional sell-off 60 days from round-3 close', so['opens_at'] == r3['closes_at'] and so['closes_at'] == r3['closes_at'] + 60 * DAY,
              (so['opens_at'] - r3['closes_at'], (so['closes_at'] - r3['closes_at']) / DAY))
    tl = [t['state'] for t in d['timeline']]
    check('case passed through round_1, round_2, round_3, sell_off', all(s in tl for s in ('round_1', 'round_2', 'round_3', 'sell_off')), tl)
    # commission caps: sell traditional cases in round 1 at various prices, look at buyer_premium
    for V2 in (300_000_000, 1_500_000_000):
        asset, cid, aid = await new_case(ctx, bank, own, V2, plan={'regime': 'traditional'}, loan=100_000_000)
        g = await a.call('auction.get', auction_id=aid)
        await X.call('auction.register', auction_id=aid)
        await ctx.adv_to(g['opens_at']); await X.call('auction.bid', auction_id=aid, amount=g['start_price'])
        await ctx.adv_to(g['closes_at'])
        g = await a.call('auction.get', auction_id=aid)
        s = await a.call('settlement.get', settlement_id=g['settlement_id'])
        print('traditional sold at', g['price'], 'settlement', s)
        P = g['price'] // 100
        # caps: flat-by-bracket and marginal readings
        def marginal(p):
            br = [(2_000_000, 500), (10_000_000, 300), (50_000_000, 200), (100_000_000, 100), (10**18, 50)]
            tot, lo = 0, 0
            for hi, bp in br:
                if p > lo: tot += (min(p, hi) - lo) * bp / 10000
                lo = hi
            return tot * 100
        flat = {True: 500, False: 300}[P <= 2_000_000] if P <= 10_000_000 else 200
        check(f'buyer premium at {P} CNY within S2 cap (marginal {marginal(P)/100:.0f} / flat {P*flat/10000:.0f} CNY)',
              s['buyer_premium'] <= max(marginal(P), g['price'] * flat / 10000), s['buyer_premium'])
run('r07', sc)
