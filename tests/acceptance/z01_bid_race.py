# Concurrency as clients meet it (a ninth audit): five bidders, each on its own WebSocket, race bids on one English
# auction while four other connections watch its channel. PROTOCOL "auction.bid", "auction.get" fields, DOMAIN rule 4
# (later bids are start + k x increment, strictly above the standing bid; a leader may not raise its own bid),
# rule 5 (soft close: a bid in the window moves the close to its time + 5 min), Channels (every subscriber gets
# the snapshot, then each later push has seq one higher, no gaps; updates for each bid, extension and close).
# Checks: each accepted bid is strictly above the previous one on the grid, refusals are BID_TOO_LOW or
# ALREADY_LEADING and consistent with the standing bid; of equal racing amounts exactly one is accepted; every
# watcher sees the same pushes in the same order; replies, pushes and auction.get agree; money is conserved.
from common import *

START, INC, DEP = 1_000_000, 10_000, 100_000

async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise')
    B = [await ctx.mk('individual', fund=20_000_000) for _ in range(5)]
    W = await ctx.mk('individual')                 # a watcher, not registered
    a2 = await Client.connect(ctx.url); await a2.login(ADMIN_KEY, ADMIN_SECRET); ctx.clients.append(a2)
    now = await ctx.now()
    _, A = await new_auction(ctx, own, start=START, inc=INC, dep=DEP, opens=now, closes=now + DAY,
                             extend_window_ms=5 * MIN, extend_by_ms=5 * MIN)
    ch = f'auction.{A}'
    code = {}
    for c in B:
        code[c.pid] = (await c.call('auction.register', auction_id=A))['bidder_code']
    check('five distinct bidder codes', len(set(code.values())) == 5, code)
    watchers = [W, a2, B[0], B[3]]
    await asyncio.gather(*(w.call('subscribe', channels=[ch]) for w in watchers))
    await asyncio.sleep(0.2)
    total0 = 0
    for c in B + [own]:
        acc = await a.call('account.get', participant_id=c.pid); total0 += acc['cash_available'] + acc['cash_held']

    accepted = []      # (participant, amount, reply)
    refused = []       # (participant, amount, code, round)
    async def bid(c, amount, rnd):
        r = await c.raw('auction.bid', {'auction_id': A, 'amount': amount})
        if 'error' in r: refused.append((c.pid, amount, r['error']['code'], rnd)); return None
        accepted.append((c.pid, amount, r['result'])); return r['result']

    # round 0: all five race the first bid at the starting price: exactly one is accepted
    await asyncio.gather(*(bid(c, START, 0) for c in B))
    acc0 = [x for x in accepted if x[1] == START]
    check('race on the first bid (start price, 5 bidders): exactly one accepted', len(acc0) == 1, (accepted, refused))
    check('the four others: BID_TOO_LOW', sorted(r[2] for r in refused if r[3] == 0) == ['BID_TOO_LOW'] * 4, refused)

    # rounds 1..6: everyone (the leader too) bids the standing min_next_bid + i x increment, distinct amounts
    for rnd in range(1, 7):
        g = await a.call('auction.get', auction_id=A)
        lead0, mnb0 = g['leader'], g['min_next_bid']
        check(f'round {rnd}: min_next_bid = price + increment', mnb0 == g['price'] + INC, g)
        n_acc = len(accepted)
        amounts = {c.pid: mnb0 + ((i + rnd) % 5) * INC for i, c in enumerate(B)}
        await asyncio.gather(*(bid(c, amounts[c.pid], rnd) for c in B))
        g2 = await a.call('auction.get', auction_id=A)
        mine = accepted[n_acc:]
        nonleaders = [c for c in B if code[c.pid] != lead0]
        top = max(nonleaders, key=lambda c: amounts[c.pid])
        check(f'round {rnd}: the highest bid by a non-leader ({amounts[top.pid]}) is accepted',
              any(p == top.pid and amt == amounts[top.pid] for p, amt, _ in mine), (mine, [r for r in refused if r[3] == rnd]))
        leaders_seen = {lead0} | {code[p] for p, _, _ in mine}
        for p, amt, cd, r in refused:
            if r != rnd: continue
            if cd == 'BID_TOO_LOW':
                check(f'round {rnd}: BID_TOO_LOW for {amt} is below the final min_next_bid {g2["min_next_bid"]}', amt < g2['min_next_bid'], (p, amt))
            elif cd == 'ALREADY_LEADING':
                check(f'round {rnd}: ALREADY_LEADING only for a bidder that led in this round', code[p] in leaders_seen, (p, leaders_seen))
            else:
                check(f'round {rnd}: a refused bid is BID_TOO_LOW or ALREADY_LEADING', False, (p, amt, cd))
        check(f'round {rnd}: auction.get price = the highest accepted amount', g2['price'] == max(x[1] for x in accepted), (g2['price'], mine))

    # equal amounts racing (every non-leader sends the same amount)
    g = await a.call('auction.get', auction_id=A)
    n_acc = len(accepted)
    same = g['min_next_bid'] + 2 * INC
    nonleaders = [c for c in B if code[c.pid] != g['leader']]
    await asyncio.gather(*(bid(c, same, 7) for c in nonleaders))
    check(f'{len(nonleaders)} non-leaders race the same amount {same}: exactly one accepted', len(accepted) - n_acc == 1, accepted[n_acc:])
    check('the others: BID_TOO_LOW', sorted(r[2] for r in refused if r[3] == 7) == ['BID_TOO_LOW'] * (len(nonleaders) - 1), [r for r in refused if r[3] == 7])

    # soft close race: all bid inside the window at the same engine time
    g = await a.call('auction.get', auction_id=A)
    t = await ctx.adv_to(g['closes_at'] - 2 * MIN)
    n_acc = len(accepted)
    mnb = g['min_next_bid']
    await asyncio.gather(*(bid(c, mnb + i * INC, 8) for i, c in enumerate(B)))
    g = await a.call('auction.get', auction_id=A)
    check('soft close race: closes_at = bid time + 5 min', g['closes_at'] == t + 5 * MIN, (g['closes_at'] - t))
    check('soft close race: at least one accepted', len(accepted) > n_acc, refused[-5:])
    for p, amt, r in accepted[n_acc:]:
        check(f'soft close race: accepted bid ts = engine time, reply closes_at = ts + 5 min', r['ts'] == t and r['closes_at'] == t + 5 * MIN, r)

    # every accepted reply: leader = its own code, min_next_bid = amount + increment, amount echoed
    for p, amt, r in accepted:
        if not check(f'reply of accepted bid {amt}: amount, leader = own code, min_next_bid = amount + increment',
                     r['amount'] == amt and r['leader'] == code[p] and r['min_next_bid'] == amt + INC and r['auction_id'] == A, (code[p], r)):
            break
    amts = sorted(x[1] for x in accepted)
    check('accepted amounts are distinct and on the grid start + k x increment',
          len(set(amts)) == len(amts) and all((x - START) % INC == 0 and x >= START for x in amts), amts)

    await ctx.adv_to(g['closes_at'])
    await asyncio.sleep(0.3)
    gf = await a.call('auction.get', auction_id=A)
    best = max(accepted, key=lambda x: x[1])
    check('close: sold to the highest accepted bid; winner = its code; bids = accepted count',
          gf['state'] == 'sold' and gf['price'] == best[1] and gf['winner'] == code[best[0]] and gf['leader'] == code[best[0]]
          and gf['bids'] == len(accepted), (gf, best, len(accepted)))

    # pushes: every watcher the same list, seq gap-free from the snapshot
    lists = {}
    for w in watchers:
        ps = [m for m in w.pushes if m.get('channel') == ch]
        lists[id(w)] = ps
    ref = lists[id(W)]
    check('watcher: first push is the snapshot', ref and ref[0]['type'] == 'snapshot', ref[:1])
    check('watcher: seq one higher each push, no gaps', all(ref[i + 1]['seq'] == ref[i]['seq'] + 1 for i in range(len(ref) - 1)),
          [m['seq'] for m in ref])
    for w in watchers[1:]:
        o = lists[id(w)]
        check('every watcher sees the same pushes (seq, type, data) in the same order',
              [(m['seq'], m['type'], m['data']) for m in o] == [(m['seq'], m['type'], m['data']) for m in ref],
              (len(o), len(ref)))
    bids = [m for m in ref if m['type'] == 'bid']
    check('one bid push per accepted bid', len(bids) == len(accepted), (len(bids), len(accepted)))
    pa = [m['data'].get('price', m['data'].get('amount')) for m in bids]
    check('bid pushes: prices strictly increasing, each >= previous + increment',
          all(pa[i + 1] >= pa[i] + INC for i in range(len(pa) - 1)) and pa and pa[0] == START, pa)
    check('bid pushes carry the amounts the replies accepted', sorted(pa) == amts, (pa, amts))
    check('bid pushes: bids count runs 1..n', [m['data'].get('bids') for m in bids] == list(range(1, len(bids) + 1)),
          [m['data'].get('bids') for m in bids])
    # the leader after each pushed bid is the bidder whose reply carried that amount
    who = {amt: code[p] for p, amt, _ in accepted}
    check('bid pushes: leader = the code of the bidder of that amount', all(m['data'].get('leader') == who.get(pa[i]) for i, m in enumerate(bids)),
          [(pa[i], m['data'].get('leader'), who.get(pa[i])) for i, m in enumerate(bids)])
    # replies' ts are non-decreasing in push order
    tsr = {amt: r['ts'] for _, amt, r in accepted}
    check('bid ts non-decreasing along the push order', all(tsr[pa[i]] <= tsr[pa[i + 1]] for i in range(len(pa) - 1)), [tsr[x] for x in pa])
    closes = [m for m in ref if m['type'] == 'close']
    check('one close push: sold, winner and price as auction.get', len(closes) == 1 and closes[0]['data'].get('winner') == gf['winner']
          and closes[0]['data'].get('price') == gf['price'] and closes[0]['data'].get('state') == 'sold', closes)
    ext = [m for m in ref if m['type'] == 'extension']
    check('extension push(es) during the soft-close race end at closes_at = t + 5 min', ext and ext[-1]['data'].get('closes_at') == t + 5 * MIN, ext)
    pids = {c.pid for c in B}
    leak = [m for m in ref if any(p in json.dumps(m['data']) for p in pids)]
    check('no push names a bidder by participant id (codes only)', not leak, leak[:2])

    # money: losers' deposits released at close, the winner's held; nothing created or lost
    total1 = 0
    for c in B + [own]:
        acc = await a.call('account.get', participant_id=c.pid); total1 += acc['cash_available'] + acc['cash_held']
        if c in B:
            exp_held = DEP if c.pid == best[0] else 0
            check(f'{code[c.pid]}: cash_held {exp_held} after close', acc['cash_held'] == exp_held, acc)
    check('total cash of bidders and seller unchanged by the race and the close', total1 == total0, (total0, total1))

    # race of bids with time.advance across closes_at (a second auction, no soft close)
    now = await ctx.now()
    _, A2 = await new_auction(ctx, own, start=START, inc=INC, dep=DEP, opens=now, closes=now + HOUR)
    for c in B: await c.call('auction.register', auction_id=A2)
    await B[0].call('auction.bid', auction_id=A2, amount=START)
    await ctx.adv_to(now + HOUR - 1)
    res = {}
    async def late(c, amt):
        res[c.pid] = (amt, await c.raw('auction.bid', {'auction_id': A2, 'amount': amt}))
    await asyncio.gather(a2.call('time.advance', ms=1), *(late(c, START + (i + 1) * INC) for i, c in enumerate(B[1:])))
    await asyncio.sleep(0.2)
    g = await a.call('auction.get', auction_id=A2)
    ok_amts = [amt for amt, r in res.values() if 'result' in r]
    codes_ = [r['error']['code'] for amt, r in res.values() if 'error' in r]
    print('  info: bids racing time.advance over closes_at: accepted', ok_amts, 'refused', codes_)
    check('bids racing the close: accepted ones are stamped before closes_at',
          all(r['result']['ts'] < now + HOUR for amt, r in res.values() if 'result' in r), res)
    check('bids racing the close: refusals are AUCTION_CLOSED or BID_TOO_LOW', all(c in ('AUCTION_CLOSED', 'BID_TOO_LOW') for c in codes_), codes_)
    check('bids racing the close: closed sold at the highest accepted bid', g['state'] == 'sold' and g['price'] == max([START] + ok_amts)
          and g['closes_at'] == now + HOUR, g)

run('z01', sc)
