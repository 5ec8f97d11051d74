# Invariants under concurrent randomized use: auctions of every format with registrations, bids, proxy bids, Dutch
# accepts, cancels, settlements paid / confirmed / failed (PROTOCOL methods auction.*, settlement.*, "Money flows
# visible in account.get", Defaults "Dutch" and "Sealed second-price", Channels auction.<id>, Idempotency).
# Two sellers, eight bidders and a backstop on their own connections, the admin (operator) creating auctions,
# cancelling, moving the manual clock, and settling; two phases of ~10 s of seeded random traffic, each ending with every
# auction closed and settled by the same seeded rules. Fees 0, no payment deadline reached (no defaults). Checks:
#  - replies: a documented code, never INTERNAL, each id once; retries of kept request_ids byte-identical;
#  - cash_available + cash_held per participant = funded - confirmed purchases + confirmed sales; sum = funded;
#  - cash_held = deposits of registrations in scheduled/open auctions + the winner's deposit while awaiting payment
#    + price (escrow) while paid; every title held by exactly one participant (seller, or buyer after confirm);
#  - English: accepted bids on the grid and rising in ts order; the price at close = the highest accepted bid, the
#    winner = its bidder; sealed first/second: price = highest / max(second, reserve, start), winner = highest bid
#    (earliest on ties); price, leader, min_next_bid null before close; Dutch accept price = the clock formula;
#  - auction.<id>: the watcher's snapshot + updates (fields merged) = auction.get at the end; seq +1 without gaps;
#    a late subscriber's snapshot = auction.get; sealed pushes before close reveal no amount or leader.
from common import *
import random, collections

SEED = int(os.environ.get('C02_SEED', '90210'))
FIELDS = ['auction_id', 'lot', 'purpose', 'format', 'state', 'start_price', 'increment', 'deposit', 'reserve', 'opens_at',
          'closes_at', 'price', 'bids', 'leader', 'min_next_bid', 'winner', 'settlement_id']

RC = RawClient

async def mkc(ctx, kind, name, login=True):
    if kind == 'admin':
        c = RC(await websockets.connect(ctx.url, max_size=None)); await c.login(ADMIN_KEY, ADMIN_SECRET); c.pid = None
    else:
        r = await ctx.adm.call('participant.create', name=name, kind=kind, region='chengdu', whitelisted=True)
        c = RC(await websockets.connect(ctx.url, max_size=None)); await c.login(r['api_key'], r['api_secret']); c.pid = r['participant_id']
    c.name = name; ctx.clients.append(c); return c

def gapfree(ps):
    s = [m['seq'] for m in ps]
    return not s or s == list(range(s[0], s[0] + len(s)))

async def sc(ctx):
    print(f'  info: seed {SEED}')
    rnd = random.Random(SEED)
    a = await mkc(ctx, 'admin', 'ADM')
    S = [await mkc(ctx, 'enterprise', f'S{i}') for i in range(2)]
    B = [await mkc(ctx, 'individual' if i % 2 else 'enterprise', f'B{i}') for i in range(8)] + [await mkc(ctx, 'backstop', 'BS')]
    W = await mkc(ctx, 'individual', 'W')
    everyone = S + B + [W]
    funded = collections.Counter()
    for c in B:
        amt = 20_000_000 + 100 * rnd.randint(0, 50_000)
        await a.call('account.fund', participant_id=c.pid, amount=amt); funded[c.pid] += amt
    bad = []; log = []; idem = []; nreq = [0]; offgrid = []; cur_ph = [0]
    async def send(c, method, params, expect=None, keep=False):
        nreq[0] += 1; i = next(c.ids)
        r = await c.raw(method, params, id_=i)
        log.append((nreq[0], c.name, method, params, r))
        code = r['error']['code'] if 'error' in r else 'OK'
        if code not in CODES and code != 'OK': bad.append(('undocumented code', (c.name, method, params, r)))
        elif expect is not None and code not in expect: bad.append((f'expected {sorted(expect)}', (c.name, method, params, r)))
        if keep and 'request_id' in params: idem.append((c, i, method, dict(params), c.rawrep[json.dumps(i)], cur_ph[0]))
        return r

    A = {}            # auction_id -> dict(p=params, seller, asset, regs{pid: code}, bids[(ts, amount, pid)], proxies, accept)
    owner_of = {}     # asset -> pid (expected title holder)
    asset_n = [0]
    async def create(ph, k):
        seller = rnd.choice(S)
        asset_n[0] += 1; aid = f'C2-{asset_n[0]}'
        await a.call('asset.register', asset_id=aid, kind='invention_patent', title='t' + aid, owner=seller.pid, region='chengdu',
                     industry='other', valuation=10_000_000, expires_at=T0 + 3650 * DAY)
        owner_of[aid] = seller.pid
        now = await ctx.now()
        fmt = ['english', 'english', 'dutch', 'sealed_first', 'sealed_second', 'fixed_price'][k % 6]
        start = 100_000 * rnd.randint(5, 30); inc = 10_000 * rnd.randint(1, 5); dep = start // 10
        p = dict(lot=[aid], purpose='transfer', format=fmt, start_price=start, increment=inc, deposit=dep,
                 opens_at=now + rnd.choice([0, 0, 2 * MIN]), closes_at=now + rnd.randint(20, 40) * MIN)
        if fmt == 'english' and rnd.random() < 0.5: p.update(extend_window_ms=2 * MIN, extend_by_ms=3 * MIN)
        if fmt in ('english', 'sealed_second', 'sealed_first') and rnd.random() < 0.4: p['reserve'] = start + inc * rnd.randint(0, 10)
        if fmt == 'dutch': p['dutch'] = {'decrement': inc * 5, 'interval_ms': 3 * MIN, 'floor': start // 2}
        by = a if rnd.random() < 0.6 else seller
        r = await send(by, 'auction.create', p, {'OK'})
        if 'result' in r:
            A[r['result']['auction_id']] = dict(p=p, seller=seller, asset=aid, regs={}, bids=[], proxies=[], accept=None, ph=ph, cancelled=False)
            await W.call('subscribe', channels=[f'auction.{r["result"]["auction_id"]}'])

    async def bidder_loop(c, rng, until, ph):
        while time.monotonic() < until:
            live = [x for x, v in A.items() if v['ph'] == ph]
            if not live: await asyncio.sleep(0.05); continue
            x = rng.choice(live); v = A[x]; fmt = v['p']['format']; u = rng.random()
            if c.pid not in v['regs'] or u < 0.05:
                rid = f'reg-{c.name}-{x}' if rng.random() < 0.3 else None
                p = {'auction_id': x, **({'request_id': rid} if rid else {})}
                r = await send(c, 'auction.register', p, {'OK', 'DUPLICATE', 'AUCTION_CLOSED', 'INVALID_STATE', 'INSUFFICIENT_FUNDS', 'AUCTION_NOT_OPEN'}, keep=True)
                if 'result' in r: v['regs'][c.pid] = r['result']['bidder_code']
                continue
            g = (await send(c, 'auction.get', {'auction_id': x}, {'OK'})).get('result')
            if not g: continue
            if fmt in ('sealed_first', 'sealed_second') and g['state'] == 'open' and any(g[k] is not None for k in ('price', 'leader', 'min_next_bid')):
                bad.append(('sealed auction.get shows price/leader/min_next_bid before close', g))
            exp = {'OK', 'BID_TOO_LOW', 'ALREADY_LEADING', 'AUCTION_CLOSED', 'AUCTION_NOT_OPEN', 'INVALID_STATE', 'INSUFFICIENT_FUNDS'}
            if fmt == 'dutch':
                if u < 0.15:
                    r = await send(c, 'auction.accept', {'auction_id': x}, {'OK', 'AUCTION_CLOSED', 'AUCTION_NOT_OPEN'})
                    if 'result' in r: v['accept'] = (c.pid, r['result'])
                else:
                    await send(c, 'auction.bid', {'auction_id': x, 'amount': v['p']['start_price']}, {'INVALID_STATE', 'BAD_REQUEST', 'AUCTION_CLOSED', 'AUCTION_NOT_OPEN'})
                continue
            st, inc = v['p']['start_price'], v['p']['increment']
            if fmt in ('sealed_first', 'sealed_second'):
                amt = st + inc * rng.randint(0, 20)
                if u < 0.1: amt += 1; e2 = exp | {'BAD_PRICE'}    # open reading: the contract does not say whether sealed bids keep the increment grid
                elif u < 0.15: amt = st - inc; e2 = {'BID_TOO_LOW', 'AUCTION_CLOSED', 'AUCTION_NOT_OPEN', 'INVALID_STATE'}
                else: e2 = exp
                r = await send(c, 'auction.bid', {'auction_id': x, 'amount': amt}, e2)
                if 'result' in r:
                    v['bids'].append((r['result']['ts'], amt, c.pid))
                    if (amt - st) % inc: offgrid.append((x, fmt, c.name, amt))
                    if any(r['result'].get(k) is not None for k in ('leader', 'min_next_bid')): bad.append(('sealed bid reply carries leader/min_next_bid', r))
                continue
            # english (or fixed_price turned english)
            mn = g.get('min_next_bid') or st
            if u < 0.12:
                mx = mn + inc * rng.randint(0, 8)
                r = await send(c, 'auction.proxy', {'auction_id': x, 'max_amount': mx}, exp | {'BAD_PRICE'})
                if 'result' in r: v['proxies'].append((c.pid, mx, r['result']))
                continue
            amt = mn + inc * rng.randint(0, 2)
            e2 = exp | ({'BAD_PRICE'} if g['bids'] == 0 else set())    # DOMAIN 4: the first bid equals the starting price
            if u < 0.2: amt += 1; e2 = {'BAD_PRICE', 'BID_TOO_LOW', 'ALREADY_LEADING', 'AUCTION_CLOSED', 'AUCTION_NOT_OPEN', 'INVALID_STATE'}
            elif u < 0.25: amt = mn - inc; e2 = {'BID_TOO_LOW', 'ALREADY_LEADING', 'AUCTION_CLOSED', 'AUCTION_NOT_OPEN', 'INVALID_STATE'}
            p = {'auction_id': x, 'amount': amt}
            if rng.random() < 0.2: p['request_id'] = f'bid-{c.name}-{nreq[0]}'
            r = await send(c, 'auction.bid', p, e2, keep=True)
            if 'result' in r: v['bids'].append((r['result']['ts'], amt, c.pid))
            if rng.random() < 0.1 and [y for y in idem if y[0] is c and y[5] == ph]:
                _, i, method, params, raw0, _ = rng.choice([y for y in idem if y[0] is c and y[5] == ph])
                r = await c.raw(method, params, id_=i)
                if c.rawrep[json.dumps(i)] != raw0: bad.append(('retry not byte-identical', (c.name, method, params, raw0, c.rawrep[json.dumps(i)])))
                q = dict(params, auction_id=params['auction_id'] + 'x')
                r = await c.raw(method, q, id_=i)
                if r.get('error', {}).get('code') != 'DUPLICATE': bad.append(('same request_id, other params not DUPLICATE', (c.name, method, q, r)))
            await asyncio.sleep(rng.random() * 0.03)

    async def admin_loop(rng, until, ph):
        while time.monotonic() < until:
            u = rng.random()
            if u < 0.1:
                nob = [x for x, v in A.items() if v['ph'] == ph and not v['bids'] and not v['cancelled'] and v['p']['format'] != 'fixed_price']
                if nob:
                    x = rng.choice(nob)
                    r = await send(a, 'auction.cancel', {'auction_id': x, 'reason': 'withdrawn'}, {'OK', 'INVALID_STATE', 'AUCTION_CLOSED'})
                    if 'result' in r: A[x]['cancelled'] = True
            else:
                await send(a, 'time.advance', {'ms': rng.randint(5, 40) * 1000}, {'OK'})
            await asyncio.sleep(0.1 + rng.random() * 0.15)

    settled = {}   # sid -> dict(buyer, seller, price, deposit, state, auction)
    async def settle_all(ph, rng):
        # close everything: advance past every closes_at (fixed_price turned english: +24 h; soft close: repeat)
        for _ in range(8):
            gs = {x: await a.call('auction.get', auction_id=x) for x in A if A[x]['ph'] == ph}
            for x, g in gs.items():
                v = A[x]
                if v['p']['format'] == 'fixed_price' and g['format'] == 'english' and g['state'] == 'open' and not v.get('turned'):
                    regs = [c for c in B if c.pid in v['regs']][:2]
                    for k, c in enumerate(regs):
                        r = await send(c, 'auction.bid', {'auction_id': x, 'amount': v['p']['start_price'] + k * v['p']['increment']}, {'OK'})
                        if 'result' in r: v['bids'].append((r['result']['ts'], r['result']['amount'], c.pid))
                    v['turned'] = True
                    gs[x] = await a.call('auction.get', auction_id=x)
            openish = [g for g in gs.values() if g['state'] in ('scheduled', 'open')]
            if not openish: break
            await ctx.adv_to(max(g['closes_at'] for g in openish) + 1)
        await asyncio.sleep(0.3)
        for x, v in A.items():
            if v['ph'] != ph: continue
            g = await a.call('auction.get', auction_id=x); v['g'] = g
            if g['state'] == 'sold' and g.get('settlement_id'):
                s = await a.call('settlement.get', settlement_id=g['settlement_id'])
                buyer = next((c for c in B if c.pid == s['buyer']), None)
                settled[s['settlement_id']] = dict(buyer=s['buyer'], seller=v['seller'].pid, price=s['price'], deposit=v['p']['deposit'], state=s['state'], auction=x, asset=v['asset'])
                u = rng.random()
                if u < 0.8 and buyer:
                    r = await send(buyer, 'settlement.pay', {'settlement_id': s['settlement_id']}, {'OK', 'INSUFFICIENT_FUNDS'})
                    if 'result' in r:
                        settled[s['settlement_id']]['state'] = 'paid'
                        if u < 0.55:
                            r = await send(a, 'settlement.confirm', {'settlement_id': s['settlement_id'], 'registration_no': f'REG-{x}'}, {'OK'})
                            if 'result' in r: settled[s['settlement_id']]['state'] = 'confirmed'; owner_of[v['asset']] = s['buyer']
                        elif u < 0.7:
                            r = await send(a, 'settlement.fail', {'settlement_id': s['settlement_id'], 'reason': 'registration refused'}, {'OK'})
                            if 'result' in r: settled[s['settlement_id']]['state'] = 'failed'
                # the wrong party: another bidder paying, a seller confirming
                other = rng.choice([c for c in B if c.pid != s['buyer']])
                await send(other, 'settlement.pay', {'settlement_id': s['settlement_id']}, {'NOT_FOUND'})
                await send(v['seller'], 'settlement.confirm', {'settlement_id': s['settlement_id'], 'registration_no': 'x'}, {'FORBIDDEN'})

    async def checks(ph):
        await asyncio.sleep(0.4)
        un = [(c.name, c.unmatched[:2]) for c in everyone + [a] if c.unmatched]
        check(f'p{ph}: no reply without a waiting request', not un, un[:3])
        retried = {json.dumps(y[1]) for y in idem}
        multi = [(c.name, k, n) for c in everyone + [a] for k, n in c.nrep.items() if n > 1 and k not in retried]
        check(f'p{ph}: each request id answered once', not multi, multi[:5])
        check(f'p{ph}: every reply a documented code as expected ({nreq[0]} requests)', not bad, bad[:6])
        # per-auction outcome
        ob = []
        for x, v in A.items():
            if v['ph'] != ph: continue
            g = v['g']; fmt = v['p']['format']; code2pid = {cd: pid for pid, cd in v['regs'].items()}
            if v['cancelled']:
                if g['state'] != 'cancelled': ob.append((x, 'cancelled?', g))
                continue
            bids = sorted(v['bids'])
            if v.get('turned'):
                if g['format'] != 'english' or g['state'] != 'sold' or g['price'] != v['p']['start_price'] + v['p']['increment'] or len(bids) != 2 \
                   or code2pid.get(g['winner']) != bids[-1][2]:
                    ob.append((x, 'fixed_price with 2+ buyers: english from start_price, sold to the higher bid', g, bids))
            if fmt == 'english' and not v['proxies'] and v['p'].get('extend_window_ms'):
                cl = v['p']['closes_at']
                for t, _, _ in bids:
                    if cl - t <= v['p']['extend_window_ms']: cl = t + v['p']['extend_by_ms']
                if g['closes_at'] != cl: ob.append((x, 'soft close: closes_at', g['closes_at'], cl, bids[-3:]))
            if g['format'] == 'english' and fmt == 'english':
                amts = [b[1] for b in bids]
                if amts != sorted(set(amts)): ob.append((x, 'english accepted bids not rising in ts order', bids))
                if any((b - v['p']['start_price']) % v['p']['increment'] for b in amts): ob.append((x, 'english bid off the grid', amts))
                if not v['proxies'] and g['bids'] != len(bids): ob.append((x, 'bids count', g['bids'], len(bids)))
                if not v['proxies'] and bids:
                    top = bids[-1]; res = v['p'].get('reserve') or 0
                    want = 'sold' if top[1] >= res else 'unsold'
                    if g['state'] != want or g['price'] != top[1] or (want == 'sold' and code2pid.get(g['winner']) != top[2]):
                        ob.append((x, 'english outcome', g, top))
            if fmt in ('sealed_first', 'sealed_second'):
                if g['bids'] != len(bids): ob.append((x, 'sealed bids count', g['bids'], len(bids)))
                if bids:
                    order = sorted(bids, key=lambda b: (-b[1], b[0])); top = order[0]
                    res = v['p'].get('reserve') or 0
                    if top[1] < max(res, v['p']['start_price']):
                        if g['state'] != 'unsold': ob.append((x, 'sealed below reserve not unsold', g, top))
                    else:
                        sec = order[1][1] if len(order) > 1 else 0
                        price = top[1] if fmt == 'sealed_first' else max(sec, res, v['p']['start_price'])
                        firsts = {b[2] for b in order if b[1] == top[1] and b[0] == top[0]}   # same engine ts: arrival order unknown to us
                        if g['state'] != 'sold' or g['price'] != price or code2pid.get(g['winner']) not in firsts:
                            ob.append((x, f'{fmt} outcome (winner {g["winner"]} = {code2pid.get(g["winner"])}; earliest highest {sorted(firsts)})', g, order[:4],
                                       [b for b in bids if b[2] == code2pid.get(g['winner'])]))
            if fmt == 'dutch' and v['accept']:
                pid, r = v['accept']; d = v['p']['dutch']
                want = max(d['floor'], v['p']['start_price'] - ((r['ts'] - v['p']['opens_at']) // d['interval_ms']) * d['decrement'])
                if r['price'] != want or g['state'] != 'sold' or g['price'] != want or code2pid.get(g['winner']) != pid:
                    ob.append((x, 'dutch accept price/winner', r, want, g))
            if g['state'] == 'sold' and not g.get('settlement_id'): ob.append((x, 'sold without settlement_id', g))
            if g['state'] not in ('sold', 'unsold', 'cancelled'): ob.append((x, 'not closed', g))
        check(f'p{ph}: auction outcomes follow the accepted bids (english, sealed, dutch)', not ob, ob[:4])
        # money
        accs = {c.pid: await a.call('account.get', participant_id=c.pid) for c in everyone}
        cash_exp = collections.Counter(funded); held_exp = collections.Counter()
        for s in settled.values():
            if s['state'] == 'confirmed': cash_exp[s['buyer']] -= s['price']; cash_exp[s['seller']] += s['price']
            if s['state'] == 'awaiting_payment': held_exp[s['buyer']] += s['deposit']
            if s['state'] == 'paid': held_exp[s['buyer']] += s['price']
        for x, v in A.items():
            st = (v.get('g') or {}).get('state')
            if st in (None, 'scheduled', 'open'):
                for pid in v['regs']: held_exp[pid] += v['p']['deposit']
        mb = [(c.name, accs[c.pid]['cash_available'], accs[c.pid]['cash_held'], cash_exp[c.pid], held_exp[c.pid]) for c in everyone
              if accs[c.pid]['cash_available'] + accs[c.pid]['cash_held'] != cash_exp[c.pid] or accs[c.pid]['cash_held'] != held_exp[c.pid]]
        check(f'p{ph}: per participant: cash = funded - confirmed purchases + confirmed sales; held = deposits + escrow', not mb, mb[:6])
        tot = sum(x['cash_available'] + x['cash_held'] for x in accs.values())
        check(f'p{ph}: money conserved: sum of cash = funded', tot == sum(funded.values()), tot - sum(funded.values()))
        neg = [(p, x['cash_available'], x['cash_held']) for p, x in accs.items() if x['cash_available'] < 0 or x['cash_held'] < 0]
        check(f'p{ph}: no negative balance', not neg, neg)
        tb = []
        for aid, pid in owner_of.items():
            holders = [c.name for c in everyone if pos(accs[c.pid], aid) and pos(accs[c.pid], aid).get('units') == 1]
            want = next(c.name for c in everyone if c.pid == pid)
            if holders != [want]: tb.append((aid, holders, want))
        check(f'p{ph}: every title held by exactly one participant: the seller, or the buyer after confirm', not tb, tb[:5])
        # channels
        cb = []; leak = []
        for x, v in A.items():
            if v['ph'] != ph: continue
            ps = [m for m in W.pushes if m['channel'] == f'auction.{x}']
            if not ps or ps[0]['type'] != 'snapshot' or not gapfree(ps): cb.append((x, 'seq', [(m['seq'], m['type']) for m in ps])); continue
            stt = dict(ps[0]['data'])
            for m in ps[1:]:
                for k, val in m['data'].items():
                    if k in FIELDS: stt[k] = val
                if v['p']['format'].startswith('sealed') and m['type'] == 'bid' and any(m['data'].get(k) is not None for k in ('amount', 'price', 'leader', 'min_next_bid')):
                    leak.append((x, m))
            g = await W.call('auction.get', auction_id=x)
            diff = {k: (stt.get(k), g.get(k)) for k in FIELDS if stt.get(k) != g.get(k)}
            if diff: cb.append((x, v['p']['format'], diff, [(m['type'], m['data']) for m in ps][-4:]))
        check(f'p{ph}: auction.<id>: snapshot first, seq +1 without gaps, snapshot + merged updates = auction.get', not cb, cb[:3])
        check(f'p{ph}: sealed: no bid push reveals an amount or leader before close', not leak, leak[:2])
        V = await mkc(ctx, 'individual', f'V{ph}')
        xs = [x for x, v in A.items() if v['ph'] == ph]
        await V.call('subscribe', channels=[f'auction.{x}' for x in xs]); await asyncio.sleep(0.3)
        lb = []
        for x in xs:
            sn = [m for m in V.pushes if m['channel'] == f'auction.{x}']
            g = await V.call('auction.get', auction_id=x)
            wl = [m for m in W.pushes if m['channel'] == f'auction.{x}']
            if not sn or sn[0]['type'] != 'snapshot' or {k: sn[0]['data'].get(k) for k in FIELDS} != {k: g.get(k) for k in FIELDS} or sn[0]['seq'] != wl[-1]['seq']:
                lb.append((x, sn[:1], g, wl[-1]['seq']))
        check(f'p{ph}: a late subscriber\'s snapshot = auction.get, with the seq the watcher reached', not lb, lb[:2])

    for ph in range(2):
        cur_ph[0] = ph
        for k in range(6): await create(ph, k + ph)
        until = time.monotonic() + 10
        await asyncio.gather(*[bidder_loop(c, random.Random(SEED * 7 + ph * 31 + i), until, ph) for i, c in enumerate(B)],
                             admin_loop(random.Random(SEED + ph), until, ph))
        await settle_all(ph, random.Random(SEED - ph))
        await checks(ph)
        if offgrid: print(f'  info (open reading): {len(offgrid)} sealed bids off the start + k x increment grid were accepted, e.g. {offgrid[:3]}')
        hist = collections.Counter((x[2], x[4]['error']['code'] if 'error' in x[4] else 'OK') for x in log)
        print(f'  info: after phase {ph}: {nreq[0]} requests; {dict(hist)}')
        print('  info: outcomes', [(v['p']['format'], v['g']['format'], v['g']['state'], v['g']['price'], v['g']['bids']) for v in A.values() if v['ph'] == ph])
    if os.environ.get('C02_DUMP'):
        x0 = os.environ['C02_DUMP']; print('   DUMP', A[x0]['p'])
        for x in log:
            if x[2].startswith('auction.') and x[3].get('auction_id') == x0 and x[2] != 'auction.get': print('   DUMP', x[0], x[1], x[2], x[3], x[4].get('error', {}).get('code', 'OK'), x[4].get('result') or x[4]['error'].get('message'))
    if any(not r[1] for r in RESULTS):
        print(f'  info: seed {SEED}')

run('c02', sc, sound=True)
