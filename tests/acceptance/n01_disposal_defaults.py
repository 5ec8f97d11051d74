# PROTOCOL "Defaults" for disposal.open, literally, with awkward amounts (eleventh audit): round-1 start 70% of the
# valuation, deposit 10% of start, increment by tier, each rounded down to a whole yuan; opens_at = now + 30 d, bidding
# 24 h, soft close 5 min / 5 min repeated (bid 1 ms before the close, the window's edge); round 2 at close + 15 d with
# start cut by 20% of round 1's start (docs: the cut rounded down); sell-off at round 2's start, open at once for 60 d;
# payment due 10 days after the (extended) close; plan start_bp / deposit_bp / cut_bp rounding across a tier.
from common import *

def bp_yuan(x, bp): return (x * bp // 1_000_000) * 100   # floor(x * bp / 10000) to a whole yuan (fen -> fen)

async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    X = await ctx.mk('enterprise', fund=1_000_000_000); Y = await ctx.mk('individual', fund=1_000_000_000)
    T = await ctx.now()
    # --- case A: V = 1,234,567.89 CNY, no plan; unsold twice -> sell-off
    V = 123_456_789
    s1 = bp_yuan(V, 7000); d1 = bp_yuan(s1, 1000); i1 = tier_inc(s1)
    assert (s1, d1, i1) == (86_419_700, 8_641_900, 864_100)
    _, cA, aA = await new_case(ctx, bank, own, V)
    g = await a.call('auction.get', auction_id=aA)
    check('A r1: start 70% floored to yuan = 864,197 CNY', g['start_price'] == s1, g['start_price'])
    check('A r1: deposit 10% of start floored = 86,419 CNY', g['deposit'] == d1, g['deposit'])
    check('A r1: increment 1% tier floored = 8,641 CNY', g['increment'] == i1, g['increment'])
    check('A r1: opens_at = now + 30 d, closes_at = opens_at + 24 h', g['opens_at'] == T + 30 * DAY and g['closes_at'] == T + 31 * DAY,
          (g['opens_at'] - T, g['closes_at'] - T))
    check('A r1: purpose disposal, format english, scheduled', (g['purpose'], g['format'], g['state']) == ('disposal', 'english', 'scheduled'), g)
    check('A r1: min_next_bid = start (first bid equals start)', g['min_next_bid'] == s1, g['min_next_bid'])
    await ctx.adv_to(T + 30 * DAY - 1)
    check('A r1 still scheduled 1 ms before opens_at', (await a.call('auction.get', auction_id=aA))['state'] == 'scheduled')
    await ctx.adv(1)
    check('A r1 open at exactly opens_at', (await a.call('auction.get', auction_id=aA))['state'] == 'open')
    await ctx.adv_to(T + 31 * DAY)
    d = await bank.call('disposal.get', case_id=cA)
    check('A r1 unsold at exactly closes_at; case in round_2', d['state'] == 'round_2' and d['rounds'][0]['state'] == 'unsold', d['rounds'])
    r2 = d['rounds'][1]
    s2 = s1 - bp_yuan(s1, 2000)          # docs/protocol.md: the cut is rounded down, so round 2 = 691,358 CNY
    check('A r2: start = r1 start - floor(20% of r1 start) = 691,358 CNY', r2['start_price'] == s2, r2['start_price'])
    g2 = await a.call('auction.get', auction_id=r2['auction_id'])
    check('A r2: deposit 10% floored, increment 1% floored', g2['deposit'] == bp_yuan(s2, 1000) and g2['increment'] == tier_inc(s2),
          (g2['deposit'], g2['increment'], bp_yuan(s2, 1000), tier_inc(s2)))
    check('A r2: opens 15 d after r1 close, bidding 24 h', g2['opens_at'] == T + 46 * DAY and g2['closes_at'] == T + 47 * DAY,
          (g2['opens_at'] - T, g2['closes_at'] - T))
    # jump past round 2's close: the timer still fires at its own time, and the sell-off counts from closes_at
    await ctx.adv_to(T + 47 * DAY + 3 * HOUR)
    d = await bank.call('disposal.get', case_id=cA)
    check('A: sell_off after r2 unsold', d['state'] == 'sell_off' and d['rounds'][-1]['kind'] == 'sell_off', d['rounds'])
    gs = await a.call('auction.get', auction_id=d['rounds'][-1]['auction_id'])
    check('A sell-off: fixed price = r2 start, open at once (r2 close), 60 d', gs['start_price'] == s2 and gs['state'] == 'open'
          and gs['opens_at'] == T + 47 * DAY and gs['closes_at'] == T + 107 * DAY, (gs['start_price'], gs['opens_at'] - T, gs['closes_at'] - T))

    # --- case B: V = 2,000,000.37 CNY -> start 1,400,000 CNY -> 0.5% tier; soft close repeated; payment 10 d
    Vb = 200_000_037
    sb = bp_yuan(Vb, 7000); ib = tier_inc(sb)
    assert (sb, ib) == (140_000_000, 700_000)
    _, cB, aB = await new_case(ctx, bank, own, Vb)
    g = await a.call('auction.get', auction_id=aB)
    TB = g['opens_at'] - 30 * DAY
    check('B: start 1,400,000 CNY, deposit 140,000 CNY, increment 0.5% = 7,000 CNY',
          (g['start_price'], g['deposit'], g['increment']) == (sb, 14_000_000, ib), (g['start_price'], g['deposit'], g['increment']))
    await X.call('auction.register', auction_id=aB); await Y.call('auction.register', auction_id=aB)
    C = g['closes_at']
    await ctx.adv_to(C - 5 * MIN - 1)
    r = await X.call('auction.bid', auction_id=aB, amount=sb)
    check('B: bid 5 min + 1 ms before the close: outside the default window, no extension', r['closes_at'] == C, r['closes_at'] - C)
    await ctx.adv_to(C - 1)
    r = await Y.call('auction.bid', auction_id=aB, amount=sb + ib)
    check('B: bid 1 ms before close: close = ts + 5 min (default soft close)', r['closes_at'] == C - 1 + 5 * MIN, r['closes_at'] - C)
    close = r['closes_at']
    amt = sb + ib; bidders = [X, Y]
    for k in range(3):
        await ctx.adv_to(close - 3 * MIN)
        amt += ib
        r = await bidders[k % 2].call('auction.bid', auction_id=aB, amount=amt)
        check(f'B: extension {k + 2}: bid 3 min before the moved close -> close = ts + 5 min', r['closes_at'] == r['ts'] + 5 * MIN and r['ts'] == close - 3 * MIN,
              (r['ts'] - close, r['closes_at'] - r['ts']))
        close = r['closes_at']
    # a bid at exactly the window's edge (closes_at - 5 min) is in the window; with 5/5 its new close equals the old one
    await ctx.adv_to(close - 5 * MIN)
    amt += ib
    r = await Y.call('auction.bid', auction_id=aB, amount=amt)  # last bidder above was X (k=2 -> X)
    check('B: bid at exactly closes_at - 5 min accepted, close = ts + 5 min (= the old close)', r['closes_at'] == close, (r['closes_at'] - close))
    await ctx.adv_to(close - 1)
    check('B: still open 1 ms before the final close', (await a.call('auction.get', auction_id=aB))['state'] == 'open')
    await ctx.adv(1)
    e = await X.err('auction.bid', auction_id=aB, amount=amt + ib)
    check('B: bid at exactly the moved closes_at -> AUCTION_CLOSED', e == 'AUCTION_CLOSED', e)
    g = await a.call('auction.get', auction_id=aB)
    check('B: sold to the last bidder at the last amount', g['state'] == 'sold' and g['price'] == amt, (g['state'], g['price']))
    st = await a.call('settlement.get', settlement_id=g['settlement_id'])
    check('B: payment due 10 days after the (extended) close', st['due_at'] == close + 10 * DAY, st['due_at'] - close)
    check('B: buyer is Y (participant id), price = hammer', st['buyer'] == Y.pid and st['price'] == amt, st)
    accX = await X.call('account.get')
    check("B: loser's deposit released at close", accX['cash_held'] == 0 and accX['cash_available'] == 1_000_000_000, accX)

    # --- case C: plan overrides with rounding across the 1M CNY tier
    pc = {'start_bp': 8123, 'deposit_bp': 1777, 'cut_bp': 1500}
    sc_ = bp_yuan(V, 8123); dc = bp_yuan(sc_, 1777); ic = tier_inc(sc_)
    assert (sc_, dc, ic) == (100_283_900, 17_820_400, 501_400)
    _, cC, aC = await new_case(ctx, bank, own, V, plan=pc)
    g = await a.call('auction.get', auction_id=aC)
    check('C: start_bp 8123 -> 1,002,839 CNY (above 1M: 0.5% tier -> 5,014 CNY), deposit_bp 1777 -> 178,204 CNY',
          (g['start_price'], g['deposit'], g['increment']) == (sc_, dc, ic), (g['start_price'], g['deposit'], g['increment']))
    await ctx.adv_to(g['closes_at'])
    d = await bank.call('disposal.get', case_id=cC)
    sc2 = sc_ - bp_yuan(sc_, 1500)
    check('C: r2 start = start - floor(15%) = 852,414 CNY (now 1% tier)', d['rounds'][1]['start_price'] == sc2, d['rounds'][1]['start_price'])
    g2 = await a.call('auction.get', auction_id=d['rounds'][1]['auction_id'])
    check('C: r2 deposit_bp kept (17.77%), increment re-tiered to 1%', g2['deposit'] == bp_yuan(sc2, 1777) and g2['increment'] == tier_inc(sc2),
          (g2['deposit'], g2['increment'], bp_yuan(sc2, 1777), tier_inc(sc2)))
    # --- case D: tiers at exactly 100,000 / 1,000,000 CNY and one fen over the valuation (start_bp 10000 floors it back)
    for Vd, (st, dep, inc) in ((10_000_000, (10_000_000, 1_000_000, 200_000)), (10_000_001, (10_000_000, 1_000_000, 200_000)),
                               (10_000_100, (10_000_100, 1_000_000, 100_000)), (100_000_000, (100_000_000, 10_000_000, 1_000_000)),
                               (100_000_001, (100_000_000, 10_000_000, 1_000_000)), (100_000_100, (100_000_100, 10_000_000, 500_000)),
                               (100_001_900, (100_001_900, 10_000_100, 500_000))):
        _, _, aD = await new_case(ctx, bank, own, Vd, plan={'start_bp': 10000})
        g = await a.call('auction.get', auction_id=aD)
        check(f'D: valuation {Vd} fen at 100%: start {st}, deposit {dep}, increment {inc}', (g['start_price'], g['deposit'], g['increment']) == (st, dep, inc),
              (g['start_price'], g['deposit'], g['increment']))
run('n01', sc)
