# Audit a (reads, visibility, access): auction.get and the auction.<id> channel seen by every role (admin, operator,
# bank, the seller, a bidder, a non-bidder trader, backstop, risk_fund). PROTOCOL "auction.get | anyone logged in";
# "leader and winner are bidder codes ... names are never shown to other bidders"; "For sealed formats, price, leader and
# min_next_bid stay null until close, for everyone, the operator included"; "sealed: auction_id, amount, ts only";
# "auction.<id>: snapshot data = auction.get's result; updates ... each carrying the fields that changed".
# Reads change nothing.
from common import *

FIELDS = ('auction_id', 'lot', 'purpose', 'format', 'state', 'start_price', 'increment', 'deposit', 'opens_at', 'closes_at',
          'price', 'bids', 'leader', 'min_next_bid')

def is_int(v): return isinstance(v, int) and not isinstance(v, bool)

async def sc(ctx):
    a = ctx.adm
    op = await ctx.mk('operator', name='OperatorOlga'); bank = await ctx.mk('bank', name='BankBeta')
    own = await ctx.mk('enterprise', name='SellerSong')
    X = await ctx.mk('individual', fund=50_000_000, name='BidderXiao'); Y = await ctx.mk('enterprise', fund=50_000_000, name='BidderYang')
    N = await ctx.mk('individual', fund=50_000_000, name='WatcherNi')
    bs = await ctx.mk('backstop', fund=50_000_000, name='BackstopBo'); rf = await ctx.mk('risk_fund', name='FundFang')
    viewers = {'admin': a, 'operator': op, 'bank': bank, 'seller': own, 'bidderX': X, 'bidderY': Y, 'nonbidder': N,
               'backstop': bs, 'risk_fund': rf}
    secrets = [c.pid for c in (X, Y, N, bs, own)] + ['BidderXiao', 'BidderYang', 'WatcherNi', 'BackstopBo', 'SellerSong']

    async def views(aid):
        out = {}
        for k, c in viewers.items():
            out[k] = await c.errm('auction.get', auction_id=aid)
        return out

    def same_for_all(name, vs):
        base = vs['nonbidder']
        check(f'{name}: every role reads auction.get', all(v[0] == 'OK' for v in vs.values()), {k: v[0] for k, v in vs.items()})
        diff = {k: {f: (v[1].get(f), base[1].get(f)) for f in set(v[1]) | set(base[1]) if v[1].get(f) != base[1].get(f)}
                for k, v in vs.items() if v[0] == 'OK' and v[1] != base[1]}
        print(f'  info: {name}: fields differing from the non-bidder view:', diff or 'none')
        return base[1]

    def no_ids(name, obj):
        s = json.dumps(obj)
        leaked = [x for x in secrets if x in s]
        check(f'{name}: no participant id or name', not leaked, (leaked, s[:400]))

    # ---------- English with a proxy: every role reads the same public view
    _, E = await new_auction(ctx, own, start=1_000_000, inc=10_000, dep=100_000)
    await a.call('subscribe', channels=[f'auction.{E}']); await N.call('subscribe', channels=[f'auction.{E}'])
    await bs.call('subscribe', channels=[f'auction.{E}']); await rf.call('subscribe', channels=[f'auction.{E}'])
    snaps = {'admin': await a.drain(0.3), 'nonbidder': await N.drain(0.05), 'backstop': await bs.drain(0.05), 'risk_fund': await rf.drain(0.05)}
    cx = (await X.call('auction.register', auction_id=E))['bidder_code']
    cy = (await Y.call('auction.register', auction_id=E))['bidder_code']
    check('bidder codes are not names', all(n not in (cx, cy) for n in ('BidderXiao', 'BidderYang')), (cx, cy))
    await X.call('auction.proxy', auction_id=E, max_amount=1_230_000)
    await Y.call('auction.bid', auction_id=E, amount=1_100_000)
    vs = await views(E)
    g = same_for_all('english after bids', vs)
    check('english: every role sees the same public fields', all(v[1] == g for k, v in vs.items() if k not in ('admin', 'operator')),
          {k: v[1] for k, v in vs.items() if v[1] != g})
    check('english: operator/admin see the PROTOCOL fields with the same values', all(vs[k][1].get(f) == g.get(f) for k in ('admin', 'operator') for f in FIELDS),
          {k: vs[k][1] for k in ('admin', 'operator')})
    check('english: all named fields present, money/time ints', all(f in g for f in FIELDS) and all(is_int(g[f]) for f in ('start_price', 'increment', 'deposit', 'opens_at', 'closes_at', 'price', 'bids', 'min_next_bid')), g)
    check('english: proxy answered: X leads at 1,110,000 (bidder code), min_next 1,120,000', g['leader'] == cx and g['price'] == 1_110_000 and g['min_next_bid'] == 1_120_000, g)
    for k, v in vs.items(): no_ids(f'english auction.get by {k}', v[1])
    for k, v in vs.items():
        check(f'english auction.get by {k}: proxy max 1,230,000 not shown', '1230000' not in json.dumps(v[1]), v[1])
    pushes = {'admin': await a.drain(0.3), 'nonbidder': await N.drain(0.05), 'backstop': await bs.drain(0.05), 'risk_fund': await rf.drain(0.05)}
    for k, p in pushes.items():
        no_ids(f'english auction channel pushes to {k}', [m for m in snaps[k] + p])
        check(f'english channel pushes to {k}: proxy max not shown', '1230000' not in json.dumps(p), p)
    seqs = {k: [m['seq'] for m in snaps[k] + p] for k, p in pushes.items()}
    check('english channel: every role gets the same seq numbers', len({tuple(s) for s in seqs.values()}) == 1, seqs)
    print('  info: english channel pushes (types, data):', [(m['type'], m['data']) for m in pushes['nonbidder']])
    # snapshot for a late subscriber of each role = that role's auction.get
    for k in ('operator', 'bank', 'risk_fund', 'seller'):
        c = viewers[k]
        await c.call('subscribe', channels=[f'auction.{E}'])
        s = [m for m in await c.drain(0.3) if m['channel'] == f'auction.{E}']
        gg = await c.call('auction.get', auction_id=E)
        check(f'english late snapshot for {k} = its auction.get', s and s[0]['type'] == 'snapshot' and s[0]['data'] == gg, (s, gg))
    # reads change nothing
    before = await snap(ctx, [X, Y, own], auctions=[E])
    n0 = await ctx.now()
    for c in viewers.values():
        for _ in range(3): await c.call('auction.get', auction_id=E)
    after = await snap(ctx, [X, Y, own], auctions=[E])
    check('27 auction.get calls changed no account, no auction, not the clock', before == after and await ctx.now() == n0,
          {k: (before[k], after[k]) for k in before if before[k] != after[k]})
    await ctx.adv(DAY)
    vs = await views(E)
    g = same_for_all('english after close', vs)
    check('english closed: sold, price 1,110,000, winner = X code for every role', all(v[1]['state'] == 'sold' and v[1]['price'] == 1_110_000 and v[1].get('winner') == cx for v in vs.values()), g)
    for k, v in vs.items(): no_ids(f'closed english auction.get by {k}', v[1])
    p = await N.drain(0.3)
    no_ids('english close pushes', p)

    # ---------- sealed_first: nothing before close, for everyone, on auction.get and on live channel pushes
    for fmt in ('sealed_first', 'sealed_second'):
        _, S = await new_auction(ctx, own, fmt=fmt, start=1_000_000, inc=10_000, dep=100_000)
        for c in (a, N, op, X): await c.call('subscribe', channels=[f'auction.{S}'])
        for c in (a, N, op, X): await c.drain(0.1)
        codes = {}
        for c in (X, Y): codes[c.pid] = (await c.call('auction.register', auction_id=S))['bidder_code']
        rx = await X.call('auction.bid', auction_id=S, amount=1_350_000)
        ry = await Y.call('auction.bid', auction_id=S, amount=1_270_000)
        print(f'  info: {fmt} bid reply keys:', sorted(rx))
        check(f'{fmt} bid reply: auction_id, amount, ts; no leader, no min_next_bid',
              rx.get('auction_id') == S and rx.get('amount') == 1_350_000 and is_int(rx.get('ts')) and rx.get('leader') is None and rx.get('min_next_bid') is None, rx)
        check(f'{fmt} bid reply carries "auction_id, amount, ts only"', set(rx) <= {'auction_id', 'amount', 'ts'}, sorted(rx))
        vs = await views(S)
        for k, v in vs.items():
            d = v[1]
            check(f'{fmt} open, auction.get by {k}: price/leader/min_next_bid null, bids 2',
                  v[0] == 'OK' and d['price'] is None and d['leader'] is None and d['min_next_bid'] is None and d['bids'] == 2, d)
            check(f'{fmt} open, auction.get by {k}: no bid amount anywhere', '1350000' not in json.dumps(d) and '1270000' not in json.dumps(d), d)
        for k, c in (('admin', a), ('nonbidder', N), ('operator', op), ('bidderX', X)):
            ps = [m for m in await c.drain(0.2) if m['channel'] == f'auction.{S}']
            bad = [m for m in ps if '1350000' in json.dumps(m['data']) or '1270000' in json.dumps(m['data'])
                   or any(m['data'].get(f) is not None for f in ('price', 'leader', 'min_next_bid', 'amount'))]
            check(f'{fmt} live channel pushes to {k}: no amount, price, leader, min_next_bid', ps and not bad, [(m['type'], m['data']) for m in ps])
            no_ids(f'{fmt} live channel pushes to {k}', ps)
        await ctx.adv(DAY)
        vs = await views(S)
        want = 1_350_000 if fmt == 'sealed_first' else 1_270_000
        check(f'{fmt} closed: every role sees sold at {want}, winner = X code',
              all(v[1]['state'] == 'sold' and v[1]['price'] == want and v[1].get('winner') == codes[X.pid] for v in vs.values()),
              {k: v[1] for k, v in vs.items()})
        for k, v in vs.items(): no_ids(f'{fmt} closed auction.get by {k}', v[1])
        ps = await N.drain(0.3)
        no_ids(f'{fmt} close pushes', ps)
        print(f'  info: {fmt} close pushes:', [(m['type'], m['data']) for m in ps if m['channel'] == f'auction.{S}'])

    # ---------- NOT_FOUND / BAD_REQUEST on auction.get, and on subscribing to a missing auction
    for k, c in viewers.items():
        e = await c.errm('auction.get', auction_id='A-nope-1')
        check(f'auction.get of a missing auction by {k} -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    e = await N.errm('auction.get', auction_id=7)
    check('auction.get auction_id as integer -> BAD_REQUEST naming auction_id', e[0] == 'BAD_REQUEST' and 'auction_id' in e[1], e)
    e = await N.errm('auction.get')
    check('auction.get without auction_id -> BAD_REQUEST naming auction_id', e[0] == 'BAD_REQUEST' and 'auction_id' in e[1], e)
    e = await N.errm('auction.get', auction_id=E, verbose=True)
    check('auction.get with an unknown field -> BAD_REQUEST naming it', e[0] == 'BAD_REQUEST' and 'verbose' in e[1], e)
    e = await N.errm('subscribe', channels=['auction.A-nope-1'])
    check('subscribe to a missing auction -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    check('...and no push follows', not await N.drain(0.2))
run('a01', sc)
