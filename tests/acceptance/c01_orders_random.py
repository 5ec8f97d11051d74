# Invariants under concurrent randomized use: orders on three licence-unit markets (PROTOCOL "Orders", Defaults
# "Orders", "Idempotency", "Channels", "Error codes"). Fourteen connections (two licensors, eight traders, a bank,
# the operator's admin moving the manual clock and funding, two book/trades watchers, one late subscriber) run a seeded
# random mix of valid orders (limit gtc/ioc/fok/gtd, market ioc/fok, post_only, every stp), cancels (by order_id and
# client_order_id), cancel+replace, units.issue, and invalid requests whose code the contract fixes, for three
# phases of ~8 s. After each phase (quiescent) the checks are:
#  - every reply answered exactly once, a documented code, never INTERNAL; invalid requests get their code;
#  - per participant: cash_available + cash_held = funded + sells - buys (from private fill pushes, fees 0) and the
#    sum over everyone = what was funded; units = issued + bought - sold, sum = issued; nothing negative;
#  - cash_held = limit x leaves of open buys, units_held = leaves of open sells (open = last private order push);
#  - account.get = the last private balance push; GTD orders past expire_at are expired, none resting;
#  - each trade: exactly one buy fill and one sell fill in private pushes, two different participants, same
#    price/qty as on trades.<m>; trades.<m> ids = private fill ids;
#  - book.<m>: snapshot + updates (watcher) = fresh snapshot = open orders aggregated by price; never crossed;
#  - every channel's seq +1 without gaps per subscriber; the late subscriber's snapshot = the state the early watcher
#    had reached at that seq; afterwards both see identical pushes;
#  - retries of earlier requests with the same request_id and params: byte-identical reply frames; different params:
#    DUPLICATE, nothing applied.
from common import *
import random, collections

SEED = int(os.environ.get('C01_SEED', '4711'))
PHASES, PHASE_S = 3, 8.0
MK = {'MA': dict(tick=100, min_qty=10, lo=800, hi=1800), 'MB': dict(tick=50, min_qty=5, lo=400, hi=900),
      'MC': dict(tick=10, min_qty=1, lo=100, hi=200)}

RC = RawClient

async def mkc(ctx, kind, name):
    r = await ctx.adm.call('participant.create', name=name, kind=kind, region='chengdu', whitelisted=True)
    c = RC(await websockets.connect(ctx.url, max_size=None)); await c.login(r['api_key'], r['api_secret'])
    c.pid = r['participant_id']; c.name = name; ctx.clients.append(c); return c

def gapfree(ps):
    s = [m['seq'] for m in ps]
    return not s or s == list(range(s[0], s[0] + len(s)))
def apply_book(book, changes):
    for side, price, qty in changes:
        d = book['bids' if side == 'bid' else 'asks']
        if qty == 0: d.pop(price, None)
        else: d[price] = qty
def levels(book):
    return {'bids': [[p, book['bids'][p]] for p in sorted(book['bids'], reverse=True)[:50]],
            'asks': [[p, book['asks'][p]] for p in sorted(book['asks'])[:50]]}

async def sc(ctx):
    print(f'  info: seed {SEED}')
    rnd = random.Random(SEED)
    a = RC(await websockets.connect(ctx.url, max_size=None)); await a.login(ADMIN_KEY, ADMIN_SECRET); a.name = 'ADM'; a.pid = None
    ctx.clients.append(a)
    L1 = await mkc(ctx, 'enterprise', 'L1'); L2 = await mkc(ctx, 'enterprise', 'L2')
    T = [await mkc(ctx, 'individual' if i % 2 else 'enterprise', f'T{i}') for i in range(8)]
    BK = await mkc(ctx, 'bank', 'BK')
    W1 = await mkc(ctx, 'individual', 'W1'); W2 = await mkc(ctx, 'individual', 'W2')
    traders = [L1, L2] + T
    everyone = traders + [BK, W1, W2]
    funded = collections.Counter()
    for c in T:
        amt = 3_000_000 + 100 * rnd.randint(0, 20000)
        await a.call('account.fund', participant_id=c.pid, amount=amt); funded[c.pid] += amt
    await a.call('account.fund', participant_id=L2.pid, amount=500_000); funded[L2.pid] += 500_000
    issued = collections.Counter()       # (pid, market) -> units issued
    owner = {'MA': L1, 'MB': L1, 'MC': L2}
    for m, spec in MK.items():
        asset = await new_asset(ctx, owner[m])
        await owner[m].call('market.create', market_id=m, asset_id=asset, licence=LIC, tick=spec['tick'], min_qty=spec['min_qty'])
        q = spec['min_qty'] * 300
        await owner[m].call('units.issue', market_id=m, qty=q); issued[(owner[m].pid, m)] += q
    chans = [f'{k}.{m}' for m in MK for k in ('book', 'trades')]
    for c in traders: await c.call('subscribe', channels=['private'])
    await W1.call('subscribe', channels=chans)
    await asyncio.sleep(0.3)

    log = []                 # (seq, who, method, params, reply)
    orders = {}              # order_id -> dict(owner, params, reply)
    accepted_cids = collections.defaultdict(list)   # pid -> [client_order_id]
    idem = []                # (client, envelope id, method, params, raw reply)
    bad = []                 # (what, detail)
    nreq = [0]; cidn = [0]
    async def send(c, method, params, expect=None, keep=False):
        nreq[0] += 1
        i = next(c.ids)
        r = await c.raw(method, params, id_=i)
        log.append((nreq[0], c.name, method, params, r))
        code = r['error']['code'] if 'error' in r else 'OK'
        if code not in CODES and code != 'OK': bad.append(('undocumented code', (c.name, method, params, r)))
        if expect is not None and code not in expect: bad.append((f'expected {expect}', (c.name, method, params, r)))
        if keep and 'request_id' in params and code not in ('UNAVAILABLE', 'RATE_LIMITED', 'TOO_LARGE', 'INTERNAL'):
            idem.append((c, i, method, dict(params), c.rawrep[json.dumps(i)]))
        if method == 'order.place' and code == 'OK':
            res = r['result']
            orders[res['order_id']] = dict(owner=c, params=params, reply=res)
            accepted_cids[c.pid].append(params['client_order_id'])
        return r

    def cid():
        cidn[0] += 1; return f'c{cidn[0]}'
    def price(rng, m, side):
        s = MK[m]; mid = (s['lo'] + s['hi']) // 2
        lo, hi = (s['lo'], mid + (s['hi'] - mid) // 3) if side == 'buy' else (mid - (mid - s['lo']) // 3, s['hi'])
        return s['tick'] * rng.randint(lo // s['tick'], hi // s['tick'])
    def qty(rng, m, k=8): return MK[m]['min_qty'] * rng.randint(1, k)
    clock = {'now': await ctx.now()}

    def open_of(c, m=None):
        return [oid for oid, o in orders.items() if o['owner'] is c and o.get('state', o['reply'])['status'] in ('open', 'partially_filled')
                and (m is None or o['params']['market_id'] == m)]

    async def valid_order(c, rng):
        m = rng.choice(list(MK)); side = rng.choice(['buy', 'sell'])
        p = dict(market_id=m, side=side, client_order_id=cid(), stp=rng.choice(['cancel_incoming', 'cancel_resting', 'cancel_both', 'reject']))
        x = rng.random()
        if x < 0.15:
            p.update(type='market', tif=rng.choice(['ioc', 'fok']), qty=qty(rng, m, 4))
        else:
            p.update(type='limit', price=price(rng, m, side), qty=qty(rng, m))
            tif = rng.choice(['gtc', 'gtc', 'gtc', 'ioc', 'fok', 'gtd'])
            p['tif'] = tif
            if tif == 'gtd': p['expire_at'] = clock['now'] + rng.randint(2, 40) * 1000
            if tif in ('gtc', 'gtd') and rng.random() < 0.2: p['post_only'] = True
        if rng.random() < 0.2: p['request_id'] = f'rq-{c.name}-{p["client_order_id"]}'
        exp = {'OK', 'INSUFFICIENT_FUNDS', 'WOULD_CROSS', 'SELF_TRADE'}
        if p['tif'] == 'gtd': exp.add('BAD_REQUEST')   # expire_at already passed (the clock moves concurrently)
        r = await send(c, 'order.place', p, exp, keep=True)
        if 'error' in r and r['error']['code'] == 'BAD_REQUEST' and 'expire' not in r['error'].get('message', ''):
            bad.append(('gtd BAD_REQUEST not about expire_at', (c.name, p, r)))
        return r

    async def invalid_order(c, rng):
        m = rng.choice(list(MK)); s = MK[m]
        base = dict(market_id=m, side=rng.choice(['buy', 'sell']), type='limit', price=price(rng, m, 'buy'), qty=qty(rng, m), tif='gtc', client_order_id=cid())
        k = rng.randrange(11)
        if k == 0 and s['min_qty'] > 1: p = dict(base, qty=base['qty'] + 1); exp = 'BAD_REQUEST'
        elif k == 1 and s['tick'] > 1: p = dict(base, price=base['price'] + 1, qty=s['min_qty'] * 10**6); exp = 'BAD_PRICE'   # BAD_PRICE before INSUFFICIENT_FUNDS
        elif k == 2: p = dict(base, price=0); exp = 'BAD_REQUEST'
        elif k == 3: p = dict(base, type='market', tif='ioc'); exp = 'BAD_REQUEST'           # market with a price
        elif k == 4: p = dict(base, type='market', tif='gtc'); p.pop('price'); exp = 'BAD_REQUEST'
        elif k == 5: p = dict(base, tif='ioc', post_only=True); exp = 'BAD_REQUEST'
        elif k == 6: p = dict(base, market_id='NOPE'); exp = 'NOT_FOUND'
        elif k == 7: p = dict(base, market_id='NOPE', qty=0); exp = 'BAD_REQUEST'             # shape before NOT_FOUND
        elif k == 8 and accepted_cids[c.pid]: p = dict(base, client_order_id=rng.choice(accepted_cids[c.pid])); exp = 'DUPLICATE'
        elif k == 9: p = dict(base, colour='red'); exp = 'BAD_REQUEST'
        else: p = dict(base, side='sideways'); exp = 'BAD_REQUEST'
        await send(c, 'order.place', p, {exp})

    async def cancel(c, rng):
        mine = open_of(c)
        x = rng.random()
        if x < 0.1:
            others = [oid for oid, o in orders.items() if o['owner'] is not c]
            if others:
                oid = rng.choice(others)
                await send(c, 'order.cancel', dict(market_id=orders[oid]['params']['market_id'], order_id=oid), {'NOT_FOUND'}); return
        if x < 0.15:
            await send(c, 'order.cancel', dict(market_id=rng.choice(list(MK)), order_id=f'O-x{rng.randint(1, 10**6)}'), {'NOT_FOUND'}); return
        if not mine: return await valid_order(c, rng)
        oid = rng.choice(mine); o = orders[oid]
        if rng.random() < 0.5: p = dict(market_id=o['params']['market_id'], order_id=oid)
        else: p = dict(market_id=o['params']['market_id'], client_order_id=o['params']['client_order_id'])
        if rng.random() < 0.2: p['request_id'] = f'rc-{c.name}-{nreq[0]}'
        r = await send(c, 'order.cancel', p, {'OK', 'INVALID_STATE'}, keep=True)
        if 'result' in r and (r['result'].get('status') != 'cancelled' or r['result'].get('leaves_qty') != 0):
            bad.append(('cancel reply not cancelled/leaves 0', (c.name, p, r)))
        if 'result' in r and rng.random() < 0.5:       # replace: a new order at another price
            q = dict(o['params']); q.pop('request_id', None); q['client_order_id'] = cid()
            if q.get('type') == 'limit': q['price'] = price(rng, q['market_id'], q['side'])
            if q.get('tif') == 'gtd': q['expire_at'] = clock['now'] + rng.randint(2, 40) * 1000
            await send(c, 'order.place', q, {'OK', 'INSUFFICIENT_FUNDS', 'WOULD_CROSS', 'SELF_TRADE', 'BAD_REQUEST'})

    async def retry(c, rng):
        mine = [x for x in idem if x[0] is c]
        if not mine: return
        _, i, method, params, raw0 = rng.choice(mine)
        if rng.random() < 0.7:
            r = await c.raw(method, params, id_=i)
            raw1 = c.rawrep[json.dumps(i)]
            log.append((nreq[0], c.name, 'RETRY ' + method, params, r))
            if raw1 != raw0: bad.append(('retry not byte-identical', (c.name, method, params, raw0, raw1)))
        else:
            q = dict(params)
            if method == 'order.place': q['client_order_id'] = q['client_order_id'] + 'x'
            else: q['market_id'] = q['market_id']; q['order_id'] = 'O-zz'; q.pop('client_order_id', None)
            r = await c.raw(method, q, id_=i)
            log.append((nreq[0], c.name, 'RETRY-DIFF ' + method, q, r))
            if r.get('error', {}).get('code') != 'DUPLICATE': bad.append(('same request_id, other params not DUPLICATE', (c.name, method, q, r)))

    async def misc(c, rng):
        x = rng.random()
        if x < 0.3: await send(c, 'account.get', {}, {'OK'})
        elif x < 0.45: await send(c, 'account.get', {'participant_id': rng.choice([t for t in traders if t is not c]).pid}, {'NOT_FOUND'})
        elif x < 0.6:
            m = rng.choice(list(MK))
            if owner[m] is c:
                q = MK[m]['min_qty'] * rng.randint(1, 20)
                r = await send(c, 'units.issue', dict(market_id=m, qty=q), {'OK'})
                if 'result' in r: issued[(c.pid, m)] += q
            else:
                await send(c, 'units.issue', dict(market_id=m, qty=MK[m]['min_qty']), {'NOT_FOUND', 'FORBIDDEN'})
        else:
            await send(c, 'order.cancel', dict(market_id='NOPE', order_id='O-1'), {'NOT_FOUND'})

    async def trader_loop(c, rng, until):
        while time.monotonic() < until:
            x = rng.random()
            if x < 0.50: await valid_order(c, rng)
            elif x < 0.68: await cancel(c, rng)
            elif x < 0.80: await invalid_order(c, rng)
            elif x < 0.90: await retry(c, rng)
            else: await misc(c, rng)
            await asyncio.sleep(rng.random() * 0.02)

    async def bank_loop(rng, until):
        while time.monotonic() < until:
            m = rng.choice(list(MK))
            await send(BK, 'order.place', dict(market_id=m, side='buy', type='limit', price=MK[m]['tick'] * 10, qty=MK[m]['min_qty'], tif='gtc', client_order_id=cid()), {'FORBIDDEN'})
            await send(BK, 'order.place', dict(market_id=m, side='buy', type='limit', price=MK[m]['tick'] * 10, qty=0, tif='gtc', client_order_id=cid()), {'BAD_REQUEST'})
            await asyncio.sleep(0.2 + rng.random() * 0.3)

    async def admin_loop(rng, until):
        while time.monotonic() < until:
            x = rng.random()
            if x < 0.1 and [y for y in idem if y[0] is a]:
                _, i, method, params, raw0 = rng.choice([y for y in idem if y[0] is a])
                r = await a.raw(method, params, id_=i)
                log.append((nreq[0], 'ADM', 'RETRY ' + method, params, r))
                if a.rawrep[json.dumps(i)] != raw0: bad.append(('retry not byte-identical', ('ADM', method, params, raw0, a.rawrep[json.dumps(i)])))
            elif x < 0.6:
                ms = rng.randint(1, 30) * 100
                r = await send(a, 'time.advance', {'ms': ms}, {'OK'})
                if 'result' in r: clock['now'] = r['result']['now']
            else:
                c = rng.choice(T); amt = rng.randint(1, 1000) * 100
                r = await send(a, 'account.fund', dict(participant_id=c.pid, amount=amt, request_id=f'f-{nreq[0]}'), {'OK'}, keep=True)
                if 'result' in r: funded[c.pid] += amt
            await asyncio.sleep(0.1 + rng.random() * 0.2)

    async def quiescent_checks(ph):
        await asyncio.sleep(0.6)
        now = await ctx.now()
        # replies
        un = [(c.name, c.unmatched) for c in everyone + [a] if c.unmatched]
        check(f'p{ph}: no reply without a waiting request (no duplicate/unknown ids)', not un, un[:3])
        multi = [(c.name, k, n) for c in everyone + [a] for k, n in c.nrep.items() if n > 1 and not any(x[0] is c and json.dumps(x[1]) == k for x in idem)]
        check(f'p{ph}: each request id answered exactly once', not multi, multi[:5])
        check(f'p{ph}: every reply a documented code, invalid requests their stated code ({nreq[0]} requests)', not bad,
              [(w, d) for w, d in bad[:6]])
        intern = [x for x in log if 'error' in x[4] and x[4]['error']['code'] == 'INTERNAL']
        check(f'p{ph}: no INTERNAL', not intern, intern[:3])
        # private pushes: order states, fills, balances
        last_order = {}; fills = collections.defaultdict(list); last_bal = {}; priv_bad = []
        for c in traders:
            ps = [m for m in c.pushes if m['channel'] == 'private']
            if not (ps and ps[0]['type'] == 'snapshot' and gapfree(ps)): priv_bad.append((c.name, [(m['seq'], m['type']) for m in ps][:40]))
            for m in ps:
                if m['type'] == 'order': last_order[m['data']['order_id']] = m['data']
                elif m['type'] == 'fill': fills[(orders.get(m['data']['order_id'], {}).get('params', {}).get('market_id'), m['data']['trade_id'])].append((c.pid, m['data']))
                if m['type'] in ('snapshot', 'balance'): last_bal[c.pid] = m['data']
        check(f'p{ph}: private: snapshot first, then seq +1 without gaps, per participant', not priv_bad, priv_bad[:2])
        nopush = [oid for oid in orders if oid not in last_order]
        check(f'p{ph}: every accepted order has an order push on its owner\'s private channel', not nopush, nopush[:5])
        for oid, o in orders.items(): o['state'] = last_order.get(oid, o['reply'])
        # trades channel
        tp = {}; trade_mkt = {}; tdup = []
        for m in MK:
            ps = [x for x in W1.pushes if x['channel'] == f'trades.{m}']
            check(f'p{ph}: trades.{m} (W1): snapshot first, seq +1 without gaps', ps and ps[0]['type'] == 'snapshot' and gapfree(ps), [(x['seq'], x['type']) for x in ps][:30])
            for x in ps[1:]:
                k = (m, x['data']['trade_id'])
                if k in tp: tdup.append(x)
                tp[k] = x['data']; trade_mkt[k] = m
        check(f'p{ph}: trades.<m>: each trade id pushed once per market (ids are per market)', not tdup, tdup[:3])
        fbad = []
        for tid, fl in fills.items():
            sides = sorted(d['side'] for _, d in fl)
            pids = {p for p, _ in fl}
            t = tp.get(tid)
            if sides != ['buy', 'sell'] or len(pids) != 2 or t is None or any((d['price'], d['qty']) != (t['price'], t['qty']) for _, d in fl) \
               or tid[0] is None:
                fbad.append((tid, fl, t))
        check(f'p{ph}: each trade: one buy fill + one sell fill, two participants, price/qty/market = trades push', not fbad, fbad[:3])
        check(f'p{ph}: trades pushes = private fills (same trade ids; {len(tp)} trades)', set(tp) == set(fills), (set(tp) ^ set(fills)))
        # money and units, per participant, from fills
        accs = {c.pid: await a.call('account.get', participant_id=c.pid) for c in everyone}
        cash_exp = collections.Counter(funded); units_exp = collections.Counter()
        for (pid, m), q in issued.items(): units_exp[(pid, m)] += q
        for tid, fl in fills.items():
            for pid, d in fl:
                m = trade_mkt.get(tid); sgn = 1 if d['side'] == 'buy' else -1
                cash_exp[pid] -= sgn * d['price'] * d['qty']; units_exp[(pid, m)] += sgn * d['qty']
        mb = []
        for c in everyone:
            x = accs[c.pid]
            if x['cash_available'] + x['cash_held'] != cash_exp[c.pid]: mb.append((c.name, 'cash', x['cash_available'], x['cash_held'], cash_exp[c.pid]))
            for m in MK:
                if mp(x, m)[0] != units_exp[(c.pid, m)]: mb.append((c.name, m, mp(x, m), units_exp[(c.pid, m)]))
        check(f'p{ph}: per participant: cash = funded + sells - buys; units = issued + bought - sold', not mb, mb[:5])
        tot = sum(x['cash_available'] + x['cash_held'] for x in accs.values())
        check(f'p{ph}: money conserved: sum of cash = funded ({sum(funded.values())})', tot == sum(funded.values()), tot - sum(funded.values()))
        for m in MK:
            u = sum(mp(x, m)[0] for x in accs.values()); iss = sum(q for (p, mm), q in issued.items() if mm == m)
            check(f'p{ph}: units of {m} conserved: sum of positions = issued ({iss})', u == iss, u)
        neg = [(p, x) for p, x in accs.items() if x['cash_available'] < 0 or x['cash_held'] < 0 or
               any(q.get('units', 0) < 0 or q.get('units_held', 0) < 0 or q.get('units_held', 0) > q.get('units', 0) for q in x['positions'])
               or not all(isinstance(v, int) for v in (x['cash_available'], x['cash_held']))]
        check(f'p{ph}: balances non-negative integers, 0 <= units_held <= units', not neg, neg[:3])
        # holds from open orders
        held = collections.Counter(); uheld = collections.Counter(); book_exp = {m: {'bids': {}, 'asks': {}} for m in MK}
        stale = []
        for oid, o in orders.items():
            s = o['state']
            if s['status'] in ('open', 'partially_filled'):
                m = o['params']['market_id']
                if s['leaves_qty'] != o['params']['qty'] - s['filled_qty']: stale.append((oid, s))
                if o['params'].get('tif') == 'gtd' and o['params']['expire_at'] <= now: stale.append(('gtd past expire_at still open', oid, o['params'], s))
                if o['params']['type'] != 'limit' or o['params']['tif'] in ('ioc', 'fok'): stale.append(('ioc/fok/market resting', oid, s))
                if o['params']['side'] == 'buy':
                    held[o['owner'].pid] += o['params']['price'] * s['leaves_qty']; bk = book_exp[m]['bids']
                else:
                    uheld[(o['owner'].pid, m)] += s['leaves_qty']; bk = book_exp[m]['asks']
                bk[o['params']['price']] = bk.get(o['params']['price'], 0) + s['leaves_qty']
            elif s['status'] == 'expired' and not (o['params'].get('tif') == 'gtd' and o['params']['expire_at'] <= now):
                stale.append(('expired but not a gtd past expire_at', oid, o['params'], s))
            elif s['status'] in ('filled', 'cancelled', 'expired') and s['leaves_qty'] != 0:
                stale.append(('done with leaves', oid, s))
        check(f'p{ph}: order states coherent (leaves = qty - filled; GTD past expire_at expired; only gtc/gtd limits rest)', not stale, stale[:4])
        hb = [(c.name, accs[c.pid]['cash_held'], held[c.pid]) for c in everyone if accs[c.pid]['cash_held'] != held[c.pid]]
        check(f'p{ph}: cash_held = limit x leaves of open buys', not hb, hb[:5])
        ub = [(c.name, m, mp(accs[c.pid], m)[1], uheld[(c.pid, m)]) for c in everyone for m in MK if mp(accs[c.pid], m)[1] != uheld[(c.pid, m)]]
        check(f'p{ph}: units_held = leaves of open sells', not ub, ub[:5])
        bb = [(c.name, last_bal.get(c.pid), accs[c.pid]) for c in traders if last_bal.get(c.pid) and norm(last_bal[c.pid]) != norm(accs[c.pid])]
        check(f'p{ph}: account.get = the last private balance push', not bb, bb[:2])
        # books
        V = await mkc(ctx, 'individual', f'V{ph}')
        await V.call('subscribe', channels=[f'book.{m}' for m in MK]); await asyncio.sleep(0.3)
        for m in MK:
            ps = [x for x in W1.pushes if x['channel'] == f'book.{m}']
            check(f'p{ph}: book.{m} (W1): snapshot first, seq +1 without gaps', ps and ps[0]['type'] == 'snapshot' and gapfree(ps), [(x['seq'], x['type']) for x in ps][:30])
            book = {'bids': {}, 'asks': {}}
            apply_book(book, [['bid', p, q] for p, q in ps[0]['data']['bids']] + [['ask', p, q] for p, q in ps[0]['data']['asks']])
            for x in ps[1:]: apply_book(book, x['data']['changes'])
            fresh = [x for x in V.pushes if x['channel'] == f'book.{m}'][0]
            check(f'p{ph}: book.{m}: fresh snapshot seq = W1 last seq', fresh['seq'] == ps[-1]['seq'], (fresh['seq'], ps[-1]['seq']))
            check(f'p{ph}: book.{m}: W1 snapshot + updates = fresh snapshot', levels(book) == {'bids': fresh['data']['bids'], 'asks': fresh['data']['asks']},
                  (levels(book), fresh['data']))
            check(f'p{ph}: book.{m}: fresh snapshot = open orders by price', levels(book_exp[m]) == {'bids': fresh['data']['bids'], 'asks': fresh['data']['asks']},
                  (levels(book_exp[m]), fresh['data']))
            fb, fa = fresh['data']['bids'], fresh['data']['asks']
            check(f'p{ph}: book.{m} not crossed', not fb or not fa or fb[0][0] < fa[0][0], (fb[:1], fa[:1]))
        await V.close(); ctx.clients.remove(V)
        return accs

    late = {}
    for ph in range(PHASES):
        until = time.monotonic() + PHASE_S
        jobs = [trader_loop(c, random.Random(SEED * 100 + ph * 20 + i), until) for i, c in enumerate(traders)]
        jobs += [bank_loop(random.Random(SEED + ph), until), admin_loop(random.Random(SEED - ph), until)]
        if ph == 1:
            async def late_sub():
                await asyncio.sleep(PHASE_S / 2)
                await W2.call('subscribe', channels=chans)
            jobs.append(late_sub())
        await asyncio.gather(*jobs)
        await quiescent_checks(ph)
        hist = collections.Counter((x[2].split()[-1], x[4]['error']['code'] if 'error' in x[4] else 'OK') for x in log)
        st = collections.Counter(o['state']['status'] for o in orders.values())
        print(f'  info: after phase {ph}: {nreq[0]} requests, {len(orders)} orders accepted, {len(idem)} kept request_ids; {dict(hist)}; {dict(st)}')
    # the late subscriber W2 (subscribed mid-phase 1 while orders flowed)
    for chn in chans:
        p1 = [x for x in W1.pushes if x['channel'] == chn]; p2 = [x for x in W2.pushes if x['channel'] == chn]
        if not p2:
            check(f'late {chn}: W2 got a snapshot', False, 'none'); continue
        s = p2[0]
        check(f'late {chn}: first push a snapshot, then seq +1 without gaps', s['type'] == 'snapshot' and gapfree(p2), [(x['seq'], x['type']) for x in p2][:20])
        upto = [x for x in p1 if x['seq'] <= s['seq']]
        check(f'late {chn}: W1 saw seq {s["seq"]}', upto and upto[-1]['seq'] == s['seq'], (s['seq'], [x['seq'] for x in p1][:3]))
        if chn.startswith('book.'):
            book = {'bids': {}, 'asks': {}}
            apply_book(book, [['bid', p, q] for p, q in upto[0]['data']['bids']] + [['ask', p, q] for p, q in upto[0]['data']['asks']])
            for x in upto[1:]: apply_book(book, x['data']['changes'])
            check(f'late {chn}: snapshot = the book W1 had rebuilt at that seq', levels(book) == {'bids': s['data']['bids'], 'asks': s['data']['asks']}, (levels(book), s['data']))
        after1 = [(x['seq'], x['type'], x['data']) for x in p1 if x['seq'] > s['seq']]
        after2 = [(x['seq'], x['type'], x['data']) for x in p2[1:]]
        check(f'late {chn}: after the snapshot W1 and W2 see identical pushes ({len(after2)})', after1 == after2, (after1[:2], after2[:2]))
    # finally cancel everything: nothing held, books empty
    for oid, o in list(orders.items()):
        if o['state']['status'] in ('open', 'partially_filled'):
            await send(o['owner'], 'order.cancel', dict(market_id=o['params']['market_id'], order_id=oid), {'OK'})
    accs = await quiescent_checks('end')
    check('end: after cancelling every open order nothing is held', all(x['cash_held'] == 0 and all(q.get('units_held', 0) == 0 for q in x['positions']) for x in accs.values()),
          [(p, x['cash_held']) for p, x in accs.items() if x['cash_held']])
    if any(not r[1] for r in RESULTS):
        print(f'  info: seed {SEED}; last 30 requests:')
        for x in log[-30:]: print('   ', x)

run('c01', sc, sound=True)
