# PROTOCOL "Defaults" for auction.create and DOMAIN rules 4-6 (eleventh audit): opens at exactly opens_at (at once when
# opens_at == now); no soft close without extend_window_ms; fees 0; payment due closes_at + 10 d or + payment_ms;
# extend_by_ms defaults to 5 min (docs); rule 4 first bid = start, later start + k x inc (grid anchored at start),
# ALREADY_LEADING for the leader whatever the amount; rule 5 with a 3-min window / 7-min extension, bids exactly at the
# window's edge repeated; rule 6 holders of ranks 1, 2, 3 matching the standing bid.
from common import *

async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise')
    X = await ctx.mk('enterprise', fund=100_000_000); Y = await ctx.mk('individual', fund=100_000_000)
    H1 = await ctx.mk('individual', fund=100_000_000); H2 = await ctx.mk('individual', fund=100_000_000); H3 = await ctx.mk('enterprise', fund=100_000_000)
    now = await ctx.now()
    # --- A1: opens_at == now -> open at once; no soft close by default; fees 0; payment 10 d
    _, A1 = await new_auction(ctx, own, start=1_000_000, inc=30_000, dep=100_000, opens=now, closes=now + DAY)
    g = await a.call('auction.get', auction_id=A1)
    check('A1 opens_at == now: open at once', g['state'] == 'open', g['state'])
    await X.call('auction.register', auction_id=A1); await Y.call('auction.register', auction_id=A1)
    e = await X.errm('auction.bid', auction_id=A1, amount=1_030_000)
    check('rule 4: first bid start + inc refused (first bid equals start)', e[0] in ('BAD_PRICE', 'BID_TOO_LOW'), e)
    e = await X.errm('auction.bid', auction_id=A1, amount=1_000_000)
    check('rule 4: first bid = start accepted, min_next_bid = start + inc', e[0] == 'OK' and e[1]['min_next_bid'] == 1_030_000 and e[1]['leader'], e)
    e = await X.err('auction.bid', auction_id=A1, amount=1_060_000)
    check('rule 4: the leader raising its own bid -> ALREADY_LEADING', e == 'ALREADY_LEADING', e)
    e = await X.err('auction.bid', auction_id=A1, amount=1_000_100)
    check('docs: leader bidding below the minimum and off grid -> ALREADY_LEADING (checked first)', e == 'ALREADY_LEADING', e)
    e = await Y.err('auction.bid', auction_id=A1, amount=1_045_000)
    check('rule 4: start + 1.5 inc (above min, off the start-anchored grid) -> BAD_PRICE', e == 'BAD_PRICE', e)
    e = await Y.errm('auction.bid', auction_id=A1, amount=1_000_000 + 5 * 30_000)
    check('rule 4: jump to start + 5 inc accepted, min_next = start + 6 inc', e[0] == 'OK' and e[1]['min_next_bid'] == 1_180_000, e)
    e = await X.err('auction.bid', auction_id=A1, amount=1_180_000 + 15_000)
    check('rule 4: after a jump the grid stays start + k x inc (min + inc/2 -> BAD_PRICE)', e == 'BAD_PRICE', e)
    await ctx.adv(DAY - 1)
    r = await X.call('auction.bid', auction_id=A1, amount=1_180_000)
    check('no extend_window_ms: bid 1 ms before the close does not move it', r['closes_at'] == now + DAY, r['closes_at'] - now)
    await ctx.adv(1)
    g = await a.call('auction.get', auction_id=A1)
    check('A1 sold at exactly closes_at to X at 1,180,000', g['state'] == 'sold' and g['price'] == 1_180_000, g)
    st = await X.call('settlement.get', settlement_id=g['settlement_id'])
    check('default payment deadline: closes_at + 10 d', st['due_at'] == now + DAY + 10 * DAY, st['due_at'] - now - DAY)
    check('fees 0 by default: buyer_premium 0', st['buyer_premium'] == 0, st)
    accX = await X.call('account.get')
    await X.call('settlement.pay', settlement_id=g['settlement_id'])
    accX2 = await X.call('account.get')
    check('pay moves price + 0 premium - deposit into escrow', accX['cash_available'] - accX2['cash_available'] == 1_180_000 - 100_000
          and accX2['cash_held'] == 1_180_000, (accX, accX2))

    # --- A2: scheduled; opens at exactly opens_at; payment_ms honoured; window 3 min / extension 7 min
    now = await ctx.now()
    O = now + HOUR; C = O + DAY
    _, A2 = await new_auction(ctx, own, start=500_000, inc=10_000, dep=50_000, opens=O, closes=C,
                              extend_window_ms=3 * MIN, extend_by_ms=7 * MIN, payment_ms=2 * DAY)
    await X.call('auction.register', auction_id=A2); await Y.call('auction.register', auction_id=A2)
    await ctx.adv_to(O - 1)
    e = await X.err('auction.bid', auction_id=A2, amount=500_000)
    check('bid 1 ms before opens_at -> AUCTION_NOT_OPEN', e == 'AUCTION_NOT_OPEN', e)
    await ctx.adv(1)
    e = await X.errm('auction.bid', auction_id=A2, amount=500_000)
    check('bid at exactly opens_at accepted', e[0] == 'OK', e)
    await ctx.adv_to(C - 3 * MIN - 1)
    r = await Y.call('auction.bid', auction_id=A2, amount=510_000)
    check('3-min window: bid at close - 3 min - 1 ms: no extension', r['closes_at'] == C, r['closes_at'] - C)
    close = C; amt = 510_000; who = [X, Y]
    for k in range(4):
        await ctx.adv_to(close - 3 * MIN)
        amt += 10_000
        r = await who[k % 2].call('auction.bid', auction_id=A2, amount=amt)
        check(f'3/7: bid {k + 1} at exactly the window edge -> close = ts + 7 min (= old close + 4 min)',
              r['closes_at'] == close + 4 * MIN and r['closes_at'] == r['ts'] + 7 * MIN, r['closes_at'] - close)
        close = r['closes_at']
    await ctx.adv_to(close - 3 * MIN - 1)
    r = await X.call('auction.bid', auction_id=A2, amount=amt + 10_000)   # last bidder k=3 -> Y; X bids now
    check('3/7: bid 1 ms outside the moved window: no extension', r['closes_at'] == close, r['closes_at'] - close)
    await ctx.adv_to(close)
    g = await a.call('auction.get', auction_id=A2)
    check('A2 sold at the last moved close to X', g['state'] == 'sold' and g['price'] == amt + 10_000, g)
    st = await X.call('settlement.get', settlement_id=g['settlement_id'])
    check('payment_ms 2 d: due_at = close + 2 d', st['due_at'] == close + 2 * DAY, st['due_at'] - close)

    # --- A3: extend_window_ms without extend_by_ms -> 5 min (docs/protocol.md)
    now = await ctx.now()
    _, A3 = await new_auction(ctx, own, start=500_000, inc=10_000, dep=0, opens=now, closes=now + DAY, extend_window_ms=10 * MIN)
    await X.call('auction.register', auction_id=A3)
    await ctx.adv(DAY - 10 * MIN)
    r = await X.call('auction.bid', auction_id=A3, amount=500_000)
    # the docs' default of 5 min would move the close to ts + 5 min, i.e. before the old close: report either reading
    print('  info: window 10 min, no extend_by_ms, bid at the edge: closes_at - ts =', (r['closes_at'] - r['ts']) // 1000, 's')
    await ctx.adv_to(now + DAY - MIN)
    r = await a.call('auction.get', auction_id=A3)
    await Y.call('auction.register', auction_id=A3)
    r = await Y.call('auction.bid', auction_id=A3, amount=510_000)
    check('extend_by_ms defaults to 5 min: bid 1 min before close -> ts + 5 min', r['closes_at'] == r['ts'] + 5 * MIN, r['closes_at'] - r['ts'])

    # --- A4: rule 6 with three ranks
    now = await ctx.now()
    _, A4 = await new_auction(ctx, own, start=2_000_000, inc=50_000, dep=0, opens=now, closes=now + DAY,
                              priority_holders=[{'participant_id': H1.pid, 'rank': 1}, {'participant_id': H2.pid, 'rank': 2},
                                                {'participant_id': H3.pid, 'rank': 3}])
    code = {}
    for c in (X, Y, H1, H2, H3): code[c.pid] = (await c.call('auction.register', auction_id=A4))['bidder_code']
    async def lead(): return (await a.call('auction.get', auction_id=A4))
    await X.call('auction.bid', auction_id=A4, amount=2_000_000)
    e = await Y.err('auction.bid', auction_id=A4, amount=2_000_000)
    check('rule 6: a non-holder matching -> BID_TOO_LOW', e == 'BID_TOO_LOW', e)
    e = await H3.errm('auction.bid', auction_id=A4, amount=2_000_000)
    g = await lead()
    check('rule 6: rank-3 holder matching the first bid (= start) takes the lead', e[0] == 'OK' and g['leader'] == code[H3.pid] and g['price'] == 2_000_000, (e, g['leader']))
    check('rule 6: min_next_bid for others = price + inc', g['min_next_bid'] == 2_050_000, g['min_next_bid'])
    e = await H2.errm('auction.bid', auction_id=A4, amount=2_000_000)
    g = await lead()
    check('rule 6: rank-2 matching a rank-3 leader takes the lead', e[0] == 'OK' and g['leader'] == code[H2.pid], (e, g['leader']))
    e = await H3.err('auction.bid', auction_id=A4, amount=2_000_000)
    check('rule 6: rank-3 cannot retake a rank-2 lead by matching', e == 'BID_TOO_LOW', e)
    check('...and the lead stays with rank 2', (await lead())['leader'] == code[H2.pid])
    await Y.call('auction.bid', auction_id=A4, amount=2_100_000)
    e = await H3.errm('auction.bid', auction_id=A4, amount=2_100_000)
    check('rule 6: rank-3 matches a non-holder at a higher price', e[0] == 'OK' and (await lead())['leader'] == code[H3.pid], e)
    e = await H1.errm('auction.bid', auction_id=A4, amount=2_100_000)
    check('rule 6: rank-1 matches a rank-3 leader and leads', e[0] == 'OK' and (await lead())['leader'] == code[H1.pid], e)
    for h, nm in ((H2, 'rank-2'), (H3, 'rank-3')):
        e = await h.err('auction.bid', auction_id=A4, amount=2_100_000)
        check(f'rule 6: {nm} cannot match a rank-1 leader', e == 'BID_TOO_LOW', e)
    e = await H1.err('auction.bid', auction_id=A4, amount=2_150_000)
    check('rule 4: the rank-1 leader raising its own bid -> ALREADY_LEADING', e == 'ALREADY_LEADING', e)
    g = await lead()
    check('bids counted: every accepted bid (X, H3, H2, Y, H3, H1 = 6)', g['bids'] == 6, g['bids'])
    await ctx.adv_to(g['closes_at'])
    g = await lead()
    check('rule 6: rank-1 holder wins at the matched 2,100,000', g['state'] == 'sold' and g['winner'] == code[H1.pid] and g['price'] == 2_100_000, g)
run('n02', sc)
