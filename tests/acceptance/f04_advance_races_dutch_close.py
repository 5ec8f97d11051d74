# Audit f: time.advance racing with bids over a real socket, and what a Dutch auction records when it ends before its
# closes_at. PROTOCOL "Time": "Engine time (now) stamps every command"; "time.advance, whose reply comes after every timer
# due up to the new time has fired and been committed"; "Edges": "an auction closes at exactly closes_at engine time (a bid
# at closes_at or later is AUCTION_CLOSED)", "A bid at time t is in the soft-close window when closes_at - t <=
# extend_window_ms", "what follows a close (payment due ...) counts from closes_at"; Defaults Dutch "unsold when the floor
# has stood for one interval unaccepted, or at closes_at"; "time.now may be called before login and returns {now, wall}
# (wall = the server's real clock)".
import time as _time
from common import *

async def bidder_loop(c, other_amounts, auction_id, log, stop):
    for amt in other_amounts:
        if stop.is_set(): return
        r = await c.raw('auction.bid', {'auction_id': auction_id, 'amount': amt})
        log.append((_time.monotonic(), c.pid, amt, r))

async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=100_000_000); Y = await ctx.mk('individual', fund=100_000_000)
    W = await ctx.mk('individual')
    now = await ctx.now()
    C = now + HOUR
    _, A = await new_auction(ctx, own, closes=C)                                             # no soft close
    CB = C + HOUR
    _, B = await new_auction(ctx, own, closes=CB, extend_window_ms=5 * MIN, extend_by_ms=5 * MIN)
    for c in (X, Y):
        for x in (A, B): await c.call('auction.register', auction_id=x)
    await W.call('subscribe', channels=[f'auction.{A}', f'auction.{B}']); await W.drain(0.2)
    # X bids 1,000,000 + 20k*k, Y 1,010,000 + 20k*k, each awaiting its reply; admin advances 2,000 ms mid-way
    for au, name, close in ((A, 'A (no soft close)', C), (B, 'B (5/5 soft close)', CB)):
        await ctx.adv_to(close - 1000)
        log = []; stop = asyncio.Event()
        xs = [1_000_000 + 20_000 * k for k in range(40)]; ys = [1_010_000 + 20_000 * k for k in range(40)]
        tx = asyncio.ensure_future(bidder_loop(X, xs, au, log, stop)); ty = asyncio.ensure_future(bidder_loop(Y, ys, au, log, stop))
        while len(log) < 12: await asyncio.sleep(0.001)      # the advance goes out while the bidders are mid-way
        t_adv = _time.monotonic(); r = await a.call('time.advance', ms=2000); t_rep = _time.monotonic()
        await asyncio.gather(tx, ty)
        ok = [(t, who, amt, x['result']) for t, who, amt, x in log if 'result' in x]
        errs = [x['error']['code'] for _, _, _, x in log if 'error' in x]
        print(f'  info {name}: {len(ok)} bids accepted, errors {sorted(set(errs))}')
        g = await a.call('auction.get', auction_id=au)
        if au == A:
            check(f'{name}: bids both before and after the advance', ok and len(ok) < len(log), (len(ok), len(log)))
            check(f'{name}: every accepted bid stamped before closes_at', all(res['ts'] < C for *_, res in ok), [res['ts'] - C for *_, res in ok])
            check(f'{name}: every bid answered after the advance reply is AUCTION_CLOSED',
                  all('error' in x and x['error']['code'] == 'AUCTION_CLOSED' for t, _, _, x in log if t > t_rep + 0.001), [(x.get('error') or x.get('result')) for t, _, _, x in log if t > t_rep][:3])
            check(f'{name}: sold at the last accepted amount, closes_at unchanged', g['state'] == 'sold' and ok and g['price'] == max(amt for _, _, amt, _ in ok) and g['closes_at'] == C, (g['state'], g['price'], g['closes_at'] - C))
        else:
            last = max(res['ts'] for *_, res in ok) if ok else 0
            check(f'{name}: accepted bids stamped closes_at - 1000 ms and closes_at + 1000 ms', {res['ts'] for *_, res in ok} == {CB - 1000, CB + 1000}, sorted({res['ts'] - CB for *_, res in ok}))
            check(f'{name}: each accepted bid moved the close to its ts + 5 min', all(res['closes_at'] == res['ts'] + 5 * MIN for *_, res in ok), [(res['ts'] - CB, res['closes_at'] - CB) for *_, res in ok][:4])
            check(f'{name}: still open after the 2 s advance; closes_at = last bid ts + 5 min', g['state'] == 'open' and g['closes_at'] == last + 5 * MIN and g['price'] == max(amt for _, _, amt, _ in ok),
                  (g['state'], g['closes_at'] - CB, g['price']))
            check(f'{name}: no bid refused for time reasons (all bids were in time)', not [e for e in errs if e in ('AUCTION_CLOSED', 'AUCTION_NOT_OPEN')], errs)
    p = await W.drain(0.4)
    cl = [q for q in p if q['channel'] == f'auction.{A}' and q['type'] == 'close']
    check('A: one close push, stamped closes_at', len(cl) == 1 and cl[0]['ts'] == C, [(q['ts'] - C) for q in cl])
    seqs = {}
    for q in p: seqs.setdefault(q['channel'], []).append(q['seq'])
    check('A, B: channel seqs gap-free through the race', all(s == list(range(s[0], s[0] + len(s))) for s in seqs.values()), seqs)

    # --- a Dutch auction that ends before its closes_at: what it records
    now = await ctx.now()
    I = 10 * MIN
    _, D1 = await new_auction(ctx, own, fmt='dutch', closes=now + DAY, dutch={'decrement': 100_000, 'interval_ms': I, 'floor': 800_000})
    _, D2 = await new_auction(ctx, own, fmt='dutch', closes=now + DAY, dutch={'decrement': 100_000, 'interval_ms': I, 'floor': 800_000})
    await X.call('auction.register', auction_id=D1)
    await ctx.adv(I + 123)
    r = await X.call('auction.accept', auction_id=D1)
    await ctx.adv(DAY)
    g1 = await a.call('auction.get', auction_id=D1); g2 = await a.call('auction.get', auction_id=D2)
    s1 = await a.call('settlement.get', settlement_id=g1['settlement_id'])
    t1 = now + I + 123; t2 = now + 3 * I   # floor at +20 min, stood one interval -> unsold at +30 min
    check('Dutch accept: sold at 900,000 at ts = now', g1['state'] == 'sold' and g1['price'] == 900_000 and r['ts'] == t1, (g1['state'], g1['price'], r['ts'] - t1))
    check('Dutch accept: payment due 10 d after the accept', s1['due_at'] == t1 + 10 * DAY, (s1['due_at'] - t1) / DAY)
    check('Dutch floor: unsold', g2['state'] == 'unsold', g2['state'])
    print('  info (open reading) Dutch closes_at after an accept at +10 min 123 ms:', (g1['closes_at'] - now) / MIN, 'min;',
          'after the floor-stood close at +30 min:', (g2['closes_at'] - now) / MIN, 'min (configured: 1440)')
    # --- open reading: an extension shorter than the window (window 5 min, extend_by 2 min), bid at closes_at - 5 min
    now = await ctx.now()
    _, K = await new_auction(ctx, own, closes=now + HOUR, extend_window_ms=5 * MIN, extend_by_ms=2 * MIN)
    await X.call('auction.register', auction_id=K)
    await ctx.adv(HOUR - 5 * MIN)
    r = await X.call('auction.bid', auction_id=K, amount=1_000_000)
    print('  info (open reading) window 5 min / extend_by 2 min, bid at closes_at - 5 min: closes_at moves by',
          (r['closes_at'] - (now + HOUR)) / MIN, 'min (literal rule 5: to ts + 2 min = -3 min)')
    # --- time.now before login; wall is the real clock whatever engine time is
    anon = await Client.connect(ctx.url); ctx.clients.append(anon)
    r0 = await anon.raw('time.now')
    n0 = await ctx.now()
    await ctx.adv(3650 * DAY)
    r1 = await anon.raw('time.now')
    real = int(_time.time() * 1000)
    check('time.now before login: now = engine time, wall = the real clock', r0.get('result', {}).get('now') == n0 and abs(r0['result']['wall'] - real) < 5_000, r0)
    check('after a 10-year advance: now moved by exactly 10 years, wall did not', r1['result']['now'] == n0 + 3650 * DAY and abs(r1['result']['wall'] - real) < 5_000 and r1['result']['wall'] >= r0['result']['wall'], (r0, r1))
    await anon.login(ADMIN_KEY, ADMIN_SECRET)            # ts from the real clock still accepted
    check('login after the 10-year advance (ts checked against wall)', True)

run('f04', sc)
