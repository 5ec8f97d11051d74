# Races between clients (PROTOCOL, as clients meet them on separate sockets at the same moment):
# - Dutch: four bidders auction.accept at once: one buys at the clock price, the others AUCTION_CLOSED; one deposit kept.
# - auction.cancel ("before any bid") against a first bid, five times: never both; cancel releases the deposit.
# - auth.login with the same nonce on two connections at once: one succeeds ("a nonce is refused if seen in the
#   last 5 minutes"), the other UNAUTHENTICATED with the connection left open.
# - settlement.pay against time.advance reaching due_at: paid or defaulted, never both, money to match.
# - subscribe in the middle of a bid race: the snapshot (seq s) + later pushes (s+1, ...) give auction.get.
# - fixed_price: three buyers register at once; at closes_at the auction turns english from start_price, open 24 h.
# - sealed: five sealed bids at once are all counted; price, leader and min_next_bid stay null until close.
from common import *

async def sc(ctx):
    a = ctx.adm
    a2 = await Client.connect(ctx.url); await a2.login(ADMIN_KEY, ADMIN_SECRET); ctx.clients.append(a2)
    own = await ctx.mk('enterprise')
    B = [await ctx.mk('individual', fund=20_000_000) for _ in range(5)]
    now = await ctx.now()

    # Dutch accept race
    _, D = await new_auction(ctx, own, fmt='dutch', start=2_000_000, inc=10_000, dep=100_000, opens=now, closes=now + DAY,
                             dutch={'decrement': 100_000, 'interval_ms': 10 * MIN, 'floor': 1_000_000})
    for c in B[:4]: await c.call('auction.register', auction_id=D)
    await ctx.adv(25 * MIN)             # price 2,000,000 - 2 x 100,000
    rs = await asyncio.gather(*(c.raw('auction.accept', {'auction_id': D}) for c in B[:4]))
    ok = [i for i, r in enumerate(rs) if 'result' in r]
    check('Dutch: four accepts at once, exactly one succeeds', len(ok) == 1, rs)
    check('Dutch: the others AUCTION_CLOSED', sorted(r['error']['code'] for r in rs if 'error' in r) == ['AUCTION_CLOSED'] * 3, rs)
    if ok:
        check('Dutch: bought at the clock price 1,800,000', rs[ok[0]]['result']['price'] == 1_800_000, rs[ok[0]])
    g = await a.call('auction.get', auction_id=D)
    check('Dutch: sold, price 1,800,000, bids 1', g['state'] == 'sold' and g['price'] == 1_800_000, g)
    held = [(await a.call('account.get', participant_id=c.pid))['cash_held'] for c in B[:4]]
    check('Dutch: only the buyer keeps a deposit held', sorted(held) == [0, 0, 0, 100_000] and (not ok or held[ok[0]] == 100_000), held)
    sid = g['settlement_id']
    await B[ok[0] if ok else 0].call('settlement.pay', settlement_id=sid)

    # cancel vs first bid
    for k in range(5):
        now = await ctx.now()
        _, C = await new_auction(ctx, own, opens=now, closes=now + DAY)
        h0 = (await a.call('account.get', participant_id=B[4].pid))['cash_held']
        await B[4].call('auction.register', auction_id=C)
        rc, rb = await asyncio.gather(a2.raw('auction.cancel', {'auction_id': C, 'reason': 'withdrawn'}),
                                      B[4].raw('auction.bid', {'auction_id': C, 'amount': 1_000_000}))
        g = await a.call('auction.get', auction_id=C)
        acc = await a.call('account.get', participant_id=B[4].pid)
        if 'result' in rc:
            check(f'cancel/bid race {k}: cancel won -> bid refused (AUCTION_CLOSED or AUCTION_NOT_OPEN), cancelled, deposit released',
                  'error' in rb and rb['error']['code'] in ('AUCTION_CLOSED', 'AUCTION_NOT_OPEN') and g['state'] == 'cancelled' and g['bids'] == 0
                  and acc['cash_held'] == h0, (rb, g['state'], acc['cash_held'], h0))
        else:
            check(f'cancel/bid race {k}: bid won -> cancel INVALID_STATE, auction open with 1 bid',
                  rc['error']['code'] == 'INVALID_STATE' and 'result' in rb and g['state'] == 'open' and g['bids'] == 1, (rc, rb, g['state']))
            await ctx.adv_to(g['closes_at'])
            g = await a.call('auction.get', auction_id=C)
            await B[4].call('settlement.pay', settlement_id=g['settlement_id'])

    # login with one nonce on two connections at once
    P = await ctx.mk('individual')
    c1 = await Client.connect(ctx.url); c2 = await Client.connect(ctx.url); ctx.clients += [c1, c2]
    ts = int(time.time() * 1000); nonce = os.urandom(10).hex()
    sig = hmac.new(P.secret.encode(), f'{P.key}\n{ts}\n{nonce}'.encode(), hashlib.sha256).hexdigest()
    lp = {'key': P.key, 'ts': ts, 'nonce': nonce, 'sig': sig}
    r1, r2 = await asyncio.gather(c1.raw('auth.login', dict(lp)), c2.raw('auth.login', dict(lp)))
    codes = sorted('OK' if 'result' in r else r['error']['code'] for r in (r1, r2))
    check('one nonce on two connections at once: one login OK, the other UNAUTHENTICATED', codes == ['OK', 'UNAUTHENTICATED'], (r1, r2))
    loser = c2 if 'result' in r1 else c1
    e = await loser.err('time.now')
    check('the refused connection stays open (time.now answers)', e == 'OK', e)
    e = await loser.err('account.get')
    check('... and is not logged in (account.get UNAUTHENTICATED)', e == 'UNAUTHENTICATED', e)

    # settlement.pay vs the default at due_at, three times
    for k in range(3):
        now = await ctx.now()
        _, S = await new_auction(ctx, own, opens=now, closes=now + HOUR, payment_ms=DAY)
        buyer = B[k]
        await buyer.call('auction.register', auction_id=S); await buyer.call('auction.bid', auction_id=S, amount=1_000_000)
        await ctx.adv_to(now + HOUR)
        sid = (await a.call('auction.get', auction_id=S))['settlement_id']
        st = await a.call('settlement.get', settlement_id=sid)
        await ctx.adv_to(st['due_at'] - 1)
        b0 = await a.call('account.get', participant_id=buyer.pid)
        rp, ra = await asyncio.gather(buyer.raw('settlement.pay', {'settlement_id': sid}), a2.raw('time.advance', {'ms': 1}))
        st = await a.call('settlement.get', settlement_id=sid)
        b1 = await a.call('account.get', participant_id=buyer.pid)
        if 'result' in rp:
            check(f'pay/default race {k}: pay won -> paid; 900,000 moved into escrow', st['state'] == 'paid'
                  and b0['cash_available'] - b1['cash_available'] == 900_000 and b1['cash_held'] - b0['cash_held'] == 900_000, (st['state'], b0, b1))
        else:
            check(f'pay/default race {k}: default won -> pay INVALID_STATE; defaulted; deposit forfeited, nothing else moved',
                  rp['error']['code'] == 'INVALID_STATE' and st['state'] == 'defaulted' and b1['cash_available'] == b0['cash_available']
                  and b0['cash_held'] - b1['cash_held'] == 100_000, (rp, st['state'], b0, b1))
        print(f'  info: pay/default race {k}:', 'pay first' if 'result' in rp else 'default first')

    # subscribe in the middle of a bid race
    now = await ctx.now()
    _, R = await new_auction(ctx, own, start=1_000_000, inc=10_000, opens=now, closes=now + DAY)
    for c in B: await c.call('auction.register', auction_id=R)
    W = await ctx.mk('individual')
    half = asyncio.Event()
    async def bidder(i, c):
        for j in range(6):
            if j == 3 and i == 0: half.set()
            g = await c.call('auction.get', auction_id=R)
            amt = g['min_next_bid'] + i * 10_000
            await c.raw('auction.bid', {'auction_id': R, 'amount': amt})
    async def late_sub():
        await half.wait()
        await W.call('subscribe', channels=[f'auction.{R}'])
    await asyncio.gather(*(bidder(i, c) for i, c in enumerate(B)), late_sub())
    await asyncio.sleep(0.3)
    ps = [m for m in W.pushes if m['channel'] == f'auction.{R}']
    g = await a.call('auction.get', auction_id=R)
    check('late subscriber: snapshot first, then seq one higher each push', ps and ps[0]['type'] == 'snapshot'
          and all(ps[i + 1]['seq'] == ps[i]['seq'] + 1 for i in range(len(ps) - 1)), [(m['seq'], m['type']) for m in ps])
    view = dict(ps[0]['data']) if ps else {}
    for m in ps[1:]: view.update({k: v for k, v in m['data'].items() if k in view})
    diff = {k: (view.get(k), g.get(k)) for k in ('price', 'bids', 'leader', 'min_next_bid', 'closes_at', 'state') if view.get(k) != g.get(k)}
    print(f'  info: late snapshot at bids={ps[0]["data"].get("bids") if ps else None}, then {len(ps) - 1} pushes, final bids {g["bids"]}')
    check('late subscriber: snapshot + later pushes = auction.get (price, bids, leader, min_next_bid)', not diff, diff)
    nb = sum(1 for m in ps[1:] if m['type'] == 'bid')
    check('late subscriber: snapshot bids + bid pushes after it = bids', ps and ps[0]['data'].get('bids', 0) + nb == g['bids'], (nb, g['bids']))

    # fixed_price: three buyers register at once
    now = await ctx.now()
    _, F = await new_auction(ctx, own, fmt='fixed_price', start=1_500_000, opens=now, closes=now + 2 * DAY)
    rs = await asyncio.gather(*(c.raw('auction.register', {'auction_id': F}) for c in B[:3]))
    check('fixed_price: three registrations at once, all accepted with distinct codes',
          all('result' in r for r in rs) and len({r['result']['bidder_code'] for r in rs}) == 3, rs)
    await ctx.adv_to(now + 2 * DAY)
    g = await a.call('auction.get', auction_id=F)
    check('fixed_price with three buyers: english from start_price, open, closes 24 h later', g['format'] == 'english' and g['state'] == 'open'
          and g['closes_at'] == now + 3 * DAY and g['min_next_bid'] == 1_500_000 and g['bids'] == 0, g)

    # sealed: five bids at once
    now = await ctx.now()
    _, Z = await new_auction(ctx, own, fmt='sealed_first', start=1_000_000, opens=now, closes=now + DAY)
    for c in B: await c.call('auction.register', auction_id=Z)
    rs = await asyncio.gather(*(c.raw('auction.bid', {'auction_id': Z, 'amount': 1_000_000 + 10_000 * i}) for i, c in enumerate(B)))
    check('sealed: five bids at once all accepted; replies carry auction_id, amount, ts only (no leader)',
          all('result' in r and 'leader' not in r['result'] and 'min_next_bid' not in r['result'] for r in rs), rs)
    g = await a.call('auction.get', auction_id=Z)
    check('sealed: bids 5; price, leader, min_next_bid null', g['bids'] == 5 and g['price'] is None and g['leader'] is None and g['min_next_bid'] is None, g)
    await ctx.adv_to(now + DAY)
    g = await a.call('auction.get', auction_id=Z)
    check('sealed first-price: the highest (1,040,000) wins', g['state'] == 'sold' and g['price'] == 1_040_000, g)

run('z05', sc)
