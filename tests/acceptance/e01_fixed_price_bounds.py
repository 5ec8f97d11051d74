# Audit e (least-covered DOMAIN rules at their bounds): rule 16 "Voluntary listings: a fixed-price listing open for a
# disclosure period ...; two or more qualified buyers by its end turn it into an English auction; one buyer buys at the
# listed price", with PROTOCOL fixed_price: "registering is the intent to buy; at closes_at a single registered buyer buys
# at start_price; two or more turn the same auction into english from start_price, open 24 h more with the 5 min / 5 min
# soft close"; Edges "an auction closes at exactly closes_at engine time (a bid at closes_at or later is AUCTION_CLOSED)";
# "A bid at time t is in the soft-close window when closes_at - t <= extend_window_ms"; rule 3 "Deposit ... held before
# the bidder may bid" (NOT_QUALIFIED: "not registered, deposit not held"); rule 4 "The first bid equals the starting
# price; later bids are start + k x increment; a bidder may not raise its own leading bid"; "BID_TOO_LOW before BAD_PRICE".
# Bounds: a registration at closes_at - 1 ms counts; one exactly at closes_at does not (the close has fired); a buyer one fen
# short of the deposit is refused (INSUFFICIENT_FUNDS) and does not count as a buyer; exactly the deposit is enough; the
# turned auction closes exactly 24 h after the listing's close; bids one fen around the grid; the 5-minute window at
# 5 min + 1 ms (no extension) and 1 ms before the close (extension), repeated; state at close - 1 ms and at close.
from common import *
S, INC, DEP = 2_000_000, 40_000, 200_000   # 20,000 CNY listed price, 2 % increment, 10 % deposit
async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=10_000_000); Y = await ctx.mk('individual', fund=10_000_000)
    Z = await ctx.mk('enterprise', fund=10_000_000); W = await ctx.mk('individual', fund=DEP - 1)
    now = await ctx.now(); C = now + 20 * DAY
    L = {}
    for k in ('L1', 'L2', 'L3', 'L4'):
        _, L[k] = await new_auction(ctx, own, fmt='fixed_price', start=S, inc=INC, dep=DEP, opens=now, closes=C)
    for k in ('L2', 'L3', 'L4'): await X.call('auction.register', auction_id=L[k])
    code = {}
    await ctx.adv_to(C - 2)
    # W one fen short of the deposit: refused, nothing held, not a buyer of L4
    wb = await W.call('account.get')
    e = await W.errm('auction.register', auction_id=L['L4'])
    wa = await W.call('account.get')
    check('deposit - 1 fen available: auction.register -> INSUFFICIENT_FUNDS', e[0] == 'INSUFFICIENT_FUNDS', e)
    check('refused registration holds nothing', (wa['cash_available'], wa['cash_held']) == (DEP - 1, 0) and wb == wa, (wb, wa))
    await a.call('account.fund', participant_id=W.pid, amount=1)
    await ctx.adv_to(C - 1)
    # at closes_at - 1 ms: Y (L1, the only buyer) and W (L2, second buyer, exactly the deposit) register
    r = await Y.errm('auction.register', auction_id=L['L1'])
    check('registration at closes_at - 1 ms accepted (L1)', r[0] == 'OK', r)
    r = await W.errm('auction.register', auction_id=L['L2'])
    check('exactly the deposit available at closes_at - 1 ms: registration accepted (L2)', r[0] == 'OK', r)
    w = await W.call('account.get')
    check('W: cash_available 0, cash_held = deposit 200,000', (w['cash_available'], w['cash_held']) == (0, DEP), w)
    for k in ('L1', 'L2'):
        g = await a.call('auction.get', auction_id=L[k])
        check(f'{k} at closes_at - 1 ms: still fixed_price, open, closes_at unchanged', (g['format'], g['state'], g['closes_at']) == ('fixed_price', 'open', C),
              (g['format'], g['state'], g['closes_at']))
    await ctx.adv(1)   # now = C
    zb = await Z.call('account.get')
    e = await Z.errm('auction.register', auction_id=L['L3'])
    za = await Z.call('account.get')
    check('registration exactly at closes_at refused (the close has fired)', e[0] != 'OK', e)
    print('  info: registration at closes_at on a sold fixed-price listing ->', e[0])
    check('refused registration at closes_at holds nothing', zb == za, (zb, za))
    # L1: one buyer (registered 1 ms before the end) buys at the listed price
    g1 = await a.call('auction.get', auction_id=L['L1'])
    check('L1 (one buyer, registered at C - 1 ms): sold at start_price at closes_at', (g1['state'], g1['price']) == ('sold', S), (g1['state'], g1['price']))
    st = await Y.call('settlement.get', settlement_id=g1['settlement_id'])
    check('L1 settlement: buyer Y, price 2,000,000, premium 0, due closes_at + 10 d',
          (st['buyer'], st['price'], st.get('buyer_premium'), st['due_at']) == (Y.pid, S, 0, C + 10 * DAY), st)
    # L3 (X only; Z's registration at C refused) and L4 (X only; W's refused) sell to X
    for k in ('L3', 'L4'):
        g = await a.call('auction.get', auction_id=L[k])
        sx = await X.errm('settlement.get', settlement_id=g.get('settlement_id') or 'none')
        check(f'{k}: the refused registrant did not count: sold to X alone at start_price',
              g['state'] == 'sold' and g['price'] == S and g['format'] == 'fixed_price' and sx[0] == 'OK' and sx[1]['buyer'] == X.pid, (g, sx))
    # L2: two buyers (the second at C - 1 ms) -> english from start_price, 24 h more
    g2 = await a.call('auction.get', auction_id=L['L2'])
    check('L2 turned english, open, price null, min_next_bid = start', (g2['format'], g2['state'], g2['price'], g2['min_next_bid']) == ('english', 'open', None, S),
          (g2['format'], g2['state'], g2['price'], g2['min_next_bid']))
    check('L2 closes exactly 24 h after the listing closed', g2['closes_at'] == C + DAY, g2['closes_at'] - C)
    C2 = C + DAY
    e = await W.err('auction.bid', auction_id=L['L2'], amount=S - 1)
    check('first bid start - 1 fen -> BID_TOO_LOW', e == 'BID_TOO_LOW', e)
    e = await W.err('auction.bid', auction_id=L['L2'], amount=S + 1)
    check('first bid start + 1 fen -> BAD_PRICE (the first bid equals the start)', e == 'BAD_PRICE', e)
    e = await W.err('auction.bid', auction_id=L['L2'], amount=S + INC)
    check('first bid start + increment -> BAD_PRICE (the first bid equals the start)', e == 'BAD_PRICE', e)
    r = await W.call('auction.bid', auction_id=L['L2'], amount=S)
    code['W'] = r['leader']
    check('first bid = start accepted, min_next_bid start + inc, closes_at unchanged', (r['amount'], r['min_next_bid'], r['closes_at']) == (S, S + INC, C2), r)
    e = await W.err('auction.bid', auction_id=L['L2'], amount=S + INC)
    check('leader raising its own bid -> ALREADY_LEADING', e == 'ALREADY_LEADING', e)
    e = await X.err('auction.bid', auction_id=L['L2'], amount=S + INC - 1)
    check('start + inc - 1 fen -> BID_TOO_LOW', e == 'BID_TOO_LOW', e)
    e = await X.err('auction.bid', auction_id=L['L2'], amount=S + INC + 1)
    check('start + inc + 1 fen -> BAD_PRICE', e == 'BAD_PRICE', e)
    e = await X.err('auction.bid', auction_id=L['L2'], amount=S - 1)
    check('below both the standing bid and the grid -> BID_TOO_LOW (before BAD_PRICE)', e == 'BID_TOO_LOW', e)
    await ctx.adv_to(C2 - 5 * MIN - 1)
    r = await X.call('auction.bid', auction_id=L['L2'], amount=S + INC)
    check('bid 5 min + 1 ms before the close: outside the window, close stays', r['closes_at'] == C2, r['closes_at'] - C2)
    await ctx.adv_to(C2 - 1)
    r = await W.call('auction.bid', auction_id=L['L2'], amount=S + 2 * INC)
    check('bid 1 ms before the close: close -> its ts + 5 min', r['ts'] == C2 - 1 and r['closes_at'] == C2 - 1 + 5 * MIN, (r['ts'] - C2, r['closes_at'] - C2))
    C3 = r['closes_at']
    await ctx.adv_to(C3 - 5 * MIN)
    r = await X.call('auction.bid', auction_id=L['L2'], amount=S + 3 * INC)
    check('bid exactly 5 min before the extended close: in the window (close = ts + 5 min = the same ms)', r['closes_at'] == C3, r['closes_at'] - C3)
    await ctx.adv_to(C3 - 1)
    r = await W.call('auction.bid', auction_id=L['L2'], amount=S + 4 * INC)
    check('the extension repeats: bid 1 ms before the extended close -> ts + 5 min', r['closes_at'] == C3 - 1 + 5 * MIN, r['closes_at'] - C3)
    C4 = r['closes_at']
    await ctx.adv_to(C4 - 1)
    g = await a.call('auction.get', auction_id=L['L2'])
    check('1 ms before the final close: open, W leading at start + 4 inc', (g['state'], g['price'], g['leader']) == ('open', S + 4 * INC, code['W']),
          (g['state'], g['price'], g['leader']))
    await ctx.adv(1)
    e = await X.err('auction.bid', auction_id=L['L2'], amount=S + 5 * INC)
    check('bid exactly at closes_at -> AUCTION_CLOSED', e == 'AUCTION_CLOSED', e)
    g = await a.call('auction.get', auction_id=L['L2'])
    check('L2 sold at closes_at to W at 2,160,000', (g['state'], g['price'], g['winner']) == ('sold', S + 4 * INC, code['W']), (g['state'], g['price'], g['winner']))
    st = await W.call('settlement.get', settlement_id=g['settlement_id'])
    check('L2 settlement: buyer W, price its bid, due the (extended) close + 10 d', (st['buyer'], st['price'], st['due_at']) == (W.pid, S + 4 * INC, C4 + 10 * DAY), st)
    x = await X.call('account.get')
    check("X (lost L2, won L3 and L4): only the two winners' deposits held", x['cash_held'] == 2 * DEP and x['cash_available'] == 10_000_000 - 2 * DEP, x)
    w = await W.call('account.get')
    check("W (winner): its deposit stays held toward the price", (w['cash_available'], w['cash_held']) == (0, DEP), w)
run('e01', sc)
