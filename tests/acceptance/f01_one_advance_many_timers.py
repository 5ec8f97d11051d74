# Audit f (engine time and timers, to the ms), from PROTOCOL.md / DOMAIN.md only. ONE time.advance crosses ~40 timers
# of every kind: English closes (sold / unsold), a soft-close extension's new close, a sealed second-price close, Dutch
# ticks, its floor and the unsold close one interval later, a scheduled open, fixed-price closes (one buyer sells; two
# turn English for 24 h more), GTD expiries, payment deadlines and defaults (deposit forfeited), losers' deposits released
# at close, disposal rounds (open, unsold close, the next round announced with its notice, the sell-off opened at once
# and closing 60 d later, the sell-off closing 24 h after its first bid) and a backstop buying the unsold sell-off.
# PROTOCOL "Time": "time.advance, whose reply comes after every timer due up to the new time has fired and been
# committed"; "Edges": "A timer fires at its own due time ... what follows a close (payment due, the next round's notice)
# counts from closes_at, however far time.advance jumped". So each push's ts, every closes_at / due_at / opens_at and
# every timeline entry is the due time (never the advance target), and the pushes on a connection come in due-time order.
from common import *

V = 10_000_000
C2PLAN = dict(notice_ms=HOUR, renotice_ms=2 * HOUR, sell_off_ms=3 * DAY, payment_ms=DAY)
B = T0 + 60 * HOUR            # when the short-lived objects are made
S = B + HOUR                  # where the setup ends; the one big step starts here
TARGET = T0 + 110 * DAY + 12_345   # nothing is due at this ms

async def build(ctx, adv_to=None):
    """The same world on any server; returns names -> ids. adv_to(t) moves the clock during the setup."""
    adv_to = adv_to or ctx.adv_to
    a = ctx.adm
    w = {}
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=100_000_000); Y = await ctx.mk('individual', fund=100_000_000)
    Z = await ctx.mk('individual', fund=100_000_000); BK = await ctx.mk('backstop', fund=100_000_000)
    Wt = await ctx.mk('individual')
    w.update(bank=bank, own=own, X=X, Y=Y, Z=Z, BK=BK, W=Wt)
    _, w['C1'], w['C1r1'] = await new_case(ctx, bank, own, V)                 # default plan, no bidder ever
    _, w['C2'], w['C2r1'] = await new_case(ctx, bank, own, V, plan=C2PLAN)    # short plan: sell-off bid before S
    await BK.call('backstop.offer', price_bp=5000, max_amount=100_000_000)
    # C2: r1 1h..25h unsold, r2 27h..51h unsold, sell-off 51h..51h+3d; X's first bid at 60h moves its close to 84h
    await adv_to(T0 + 60 * HOUR)
    d = await bank.call('disposal.get', case_id=w['C2'])
    w['C2so'] = d['rounds'][-1]['auction_id']
    await X.call('auction.register', auction_id=w['C2so'])
    await X.call('auction.bid', auction_id=w['C2so'], amount=5_600_000)
    # short-lived objects at B
    _, w['E1'] = await new_auction(ctx, own, closes=B + 2 * HOUR, payment_ms=HOUR)
    _, w['E2'] = await new_auction(ctx, own, closes=B + HOUR, extend_window_ms=5 * MIN, extend_by_ms=5 * MIN)
    _, w['E3'] = await new_auction(ctx, own, fmt='sealed_second', closes=B + 90 * MIN, payment_ms=30 * MIN)
    _, w['D'] = await new_auction(ctx, own, fmt='dutch', opens=B + 2 * HOUR, closes=B + DAY,
                                  dutch={'decrement': 100_000, 'interval_ms': 7 * MIN, 'floor': 700_000})
    _, w['F2'] = await new_auction(ctx, own, fmt='fixed_price', closes=B + 3 * HOUR)
    _, w['F1'] = await new_auction(ctx, own, fmt='fixed_price', closes=B + 4 * HOUR)
    for who, au in ((X, 'E1'), (Y, 'E1'), (X, 'E2'), (Y, 'E2'), (X, 'E3'), (Y, 'E3'), (X, 'F2'), (Y, 'F2'), (Y, 'F1')):
        await who.call('auction.register', auction_id=w[au])
    await X.call('auction.bid', auction_id=w['E1'], amount=1_000_000)
    await X.call('auction.bid', auction_id=w['E3'], amount=1_100_000)
    await Y.call('auction.bid', auction_id=w['E3'], amount=1_000_000)
    asset = await new_asset(ctx, own)
    await own.call('market.create', market_id='T', asset_id=asset, licence=LIC, tick=100, min_qty=10)
    await X.call('order.place', market_id='T', side='buy', type='limit', price=100, qty=10, tif='gtd', expire_at=B + 90 * MIN + 7, client_order_id='g1')
    await Z.call('order.place', market_id='T', side='buy', type='limit', price=200, qty=20, tif='gtd', expire_at=B + 5 * HOUR + 1, client_order_id='g2')
    await adv_to(B + HOUR - 1)
    await Y.call('auction.bid', auction_id=w['E2'], amount=1_000_000)      # in the window: close -> B+65min-1ms
    await adv_to(S)
    return w

def expected():
    """(channel key, type, ts, data subset) the contract implies, from the numbers alone."""
    E2C = B + HOUR + 5 * MIN - 1
    C2C = T0 + 84 * HOUR
    return E2C, C2C, [
        ('E2', 'close', E2C, {'state': 'sold', 'price': 1_000_000, 'closes_at': E2C}),
        ('E3', 'close', B + 90 * MIN, {'state': 'sold', 'price': 1_000_000}),
        ('E1', 'close', B + 2 * HOUR, {'state': 'sold', 'price': 1_000_000}),
        ('D', 'open', B + 2 * HOUR, {'state': 'open'}),
        ('D', 'price', B + 2 * HOUR + 7 * MIN, {'price': 900_000}),
        ('D', 'price', B + 2 * HOUR + 14 * MIN, {'price': 800_000}),
        ('D', 'price', B + 2 * HOUR + 21 * MIN, {'price': 700_000}),
        ('D', 'close', B + 2 * HOUR + 28 * MIN, {'state': 'unsold'}),
        ('F2', None, B + 3 * HOUR, {'format': 'english', 'closes_at': B + 27 * HOUR}),
        ('F1', 'close', B + 4 * HOUR, {'state': 'sold', 'price': 1_000_000}),
        ('F2', 'close', B + 27 * HOUR, {'state': 'unsold'}),
        ('C2so', 'close', C2C, {'state': 'sold', 'price': 5_600_000}),
        ('C1r1', 'open', T0 + 30 * DAY, {'state': 'open'}),
        ('C1r1', 'close', T0 + 31 * DAY, {'state': 'unsold'}),
    ]

async def sc(ctx):
    a = ctx.adm
    w = await build(ctx)
    X, Y, Z, BK, Wt, bank = w['X'], w['Y'], w['Z'], w['BK'], w['W'], w['bank']
    E2C, C2C, exp = expected()
    auc = ['E1', 'E2', 'E3', 'D', 'F1', 'F2', 'C1r1', 'C2so']
    chan = {f'auction.{w[k]}': k for k in auc}
    await Wt.call('subscribe', channels=list(chan) + ['book.T'])
    await bank.call('subscribe', channels=[f'disposal.{w["C1"]}', f'disposal.{w["C2"]}'])
    for c in (X, Y, Z, BK): await c.call('subscribe', channels=['private'])
    for c in (Wt, bank, X, Y, Z, BK): await c.drain(0.2)
    n0 = await ctx.now()
    check('setup ends at S', n0 == S, n0 - S)
    r = await a.call('time.advance', ms=TARGET - S)
    check('one time.advance of ~107 d answers now = target', r['now'] == TARGET, r)
    # the reply comes after every timer has fired and been committed: reads right after it show them all
    g = {k: await a.call('auction.get', auction_id=w[k]) for k in auc}
    pw = await Wt.drain(0.8); pb = await bank.drain(0.1)
    pp = {k: await w[k].drain(0.05) for k in ('X', 'Y', 'Z', 'BK')}
    # --- each expected push, stamped with its own due time
    for key, typ, ts, sub in exp:
        ch = f'auction.{w[key]}'
        hits = [p for p in pw if p['channel'] == ch and p['ts'] == ts and (typ is None or p['type'] == typ)
                and all(p['data'].get(k2) == v for k2, v in sub.items())]
        check(f'{key}: {typ or "conversion"} push stamped its due time (+{(ts - T0) / MIN:.3f} min) with {sub}', hits,
              [(p['type'], p['ts'] - ts, {k2: p['data'].get(k2) for k2 in sub}) for p in pw if p['channel'] == ch])
    # --- nothing stamped with the advance target; each connection's pushes in due-time order; seqs gap-free
    at_target = []
    for name, ps in (('W', pw), ('bank', pb), *pp.items()):
        ts = [p['ts'] for p in ps]
        at_target += [(name, p['channel'], p['type'], json.dumps(p['data'])[:100]) for p in ps if p['ts'] == TARGET]
        check(f'{name}: pushes arrive in due-time order', ts == sorted(ts), [(p['channel'], p['type'], p['ts'] - T0) for p in ps])
        by = {}
        for p in ps: by.setdefault(p['channel'], []).append(p['seq'])
        check(f'{name}: every channel seq one higher each push', all(s == list(range(s[0], s[0] + len(s))) for s in by.values()), by)
    # Each private channel gets one 'balance' push for the advance; it was stamped with the advance target, where nothing
    # is due (the changes it reports happened at the closes, defaults and expiries); since session 13 it carries the time
    # of the participant's last change (see f02 for the small-step run)
    check('no push stamped with the advance target (nothing is due at it)', not at_target, at_target)
    # --- recorded times
    check('E2 closes_at = the extended close (B + 65 min - 1 ms), sold', g['E2']['closes_at'] == E2C and g['E2']['state'] == 'sold', (g['E2']['closes_at'] - E2C, g['E2']['state']))
    s = {k: await a.call('settlement.get', settlement_id=g[k]['settlement_id']) for k in ('E1', 'E2', 'E3', 'F1', 'C2so')}
    due = {'E1': B + 3 * HOUR, 'E2': E2C + 10 * DAY, 'E3': B + 2 * HOUR, 'F1': B + 4 * HOUR + 10 * DAY, 'C2so': C2C + DAY}
    for k, d in due.items():
        check(f'{k}: due_at counted from its close (+{(d - T0) / HOUR:.4f} h), defaulted by the target', s[k]['due_at'] == d and s[k]['state'] == 'defaulted', (s[k]['due_at'] - d, s[k]['state']))
    # default pushes on the private channels, stamped due_at
    for k, who in (('E1', 'X'), ('E2', 'Y'), ('E3', 'X'), ('F1', 'Y'), ('C2so', 'X')):
        hits = [p for p in pp[who] if p['type'] == 'settlement' and p['data'].get('settlement_id') == s[k]['settlement_id'] and p['data'].get('state') == 'defaulted']
        check(f'{k}: the defaulted push to {who} stamped due_at', hits and hits[0]['ts'] == due[k], [(p['ts'] - due[k]) for p in hits])
    # GTD expiries
    for who, coid, t in ((X, 'g1', B + 90 * MIN + 7), (Z, 'g2', B + 5 * HOUR + 1)):
        ex = [p for p in pp['X' if who is X else 'Z'] if p['type'] == 'order' and p['data'].get('client_order_id') == coid and p['data'].get('status') == 'expired']
        check(f'GTD {coid}: expired push stamped expire_at', ex and ex[0]['ts'] == t, [p['ts'] - t for p in ex])
    bk = [p for p in pw if p['channel'] == 'book.T' and p['type'] == 'update']
    check('book.T: the two expiries removed at their expire_at', [(p['ts'], p['data']['changes']) for p in bk] == [(B + 90 * MIN + 7, [['bid', 100, 0]]), (B + 5 * HOUR + 1, [['bid', 200, 0]])], [(p['ts'] - T0, p['data']) for p in bk])
    # deposits released at close: Y's at E1 (B+2h) and E3 (B+90min), X's and Y's at F2 (B+27h)
    for who, au, t in (('Y', 'E3', B + 90 * MIN), ('Y', 'E1', B + 2 * HOUR), ('X', 'E2', E2C), ('X', 'F2', B + 27 * HOUR), ('Y', 'F2', B + 27 * HOUR)):
        rel = [p['ts'] for p in pp[who] if p['type'] == 'deposit' and p['data'].get('auction_id') == w[au] and p['data'].get('state') == 'released']
        check(f"{who}'s deposit on {au} released at that close (+{(t - T0) / MIN:.3f} min)", rel == [t], [(x - t) for x in rel])
    for k in ('X', 'Y', 'Z'):
        acc = await w[k].call('account.get')
        check(f'{k}: nothing held at the end (deposits released or forfeited, GTD holds freed)', acc['cash_held'] == 0, acc)
    # disposal C1 timeline: every entry at its due time
    d1 = await bank.call('disposal.get', case_id=w['C1'])
    rs = d1['rounds']
    r2 = await a.call('auction.get', auction_id=rs[1]['auction_id']) if len(rs) > 1 else {}
    so = await a.call('auction.get', auction_id=rs[2]['auction_id']) if len(rs) > 2 else {}
    check('C1 round 2: opens 15 d after the round-1 close (46 d), closes 47 d', (r2.get('opens_at'), r2.get('closes_at')) == (T0 + 46 * DAY, T0 + 47 * DAY), r2)
    check('C1 sell-off: opens at the round-2 close (47 d), closes 60 d later (107 d)', (so.get('opens_at'), so.get('closes_at')) == (T0 + 47 * DAY, T0 + 107 * DAY), so)
    check('C1 after the unsold sell-off: backstop buys at 50% of the valuation', d1['state'] == 'settlement' and so.get('state') in ('sold', 'unsold'), (d1['state'], d1.get('outcome'), so.get('state')))
    tl = [(e['ts'] - T0, e['event']) for e in d1.get('timeline', [])]
    print('  info C1 timeline (ms after T0)', tl)
    want = {T0 + 31 * DAY, T0 + 47 * DAY, T0 + 107 * DAY, T0}
    check('C1 timeline entries stamped with due times (31 d, 47 d, 107 d), none with the target', all(e['ts'] in want for e in d1.get('timeline', [])), tl)
    check('C1 timeline in time order', [e['ts'] for e in d1['timeline']] == sorted(e['ts'] for e in d1['timeline']), tl)
    if d1.get('settlement_id'):
        sb = await a.call('settlement.get', settlement_id=d1['settlement_id'])
        check('C1 backstop settlement: price 5,000,000 (rule 11: the offer\'s own price)', sb['price'] == 5_000_000, sb)
        print('  info (open reading) C1 backstop settlement state', sb['state'], 'due_at - T0 =', (sb['due_at'] - T0) / DAY, 'd')
    for p in pb:
        check(f'disposal push {p["type"]} stamped a due time, not the target', p['ts'] != TARGET, p)
    d2 = await bank.call('disposal.get', case_id=w['C2'])
    print('  info C2', d2['state'], [(e['ts'] - T0, e['event'], e.get('reason')) for e in d2['timeline']])
    for rr in d2['rounds']:
        g_ = await a.call('auction.get', auction_id=rr['auction_id'])
        print('  info C2 round', rr['round'], rr['kind'], g_['state'], g_['opens_at'] - T0, g_['closes_at'] - T0)
    rr = d2['rounds'][-1]
    g_ = await a.call('auction.get', auction_id=rr['auction_id'])
    check('C2 sell-off re-run after the default opens renotice_ms (2 h) after due_at', g_['opens_at'] == C2C + DAY + 2 * HOUR, (g_['opens_at'] - T0) / HOUR)
    check('C2 sell-off re-run closes sell_off_ms (3 d) later; unsold -> the backstop buys then',
          g_['closes_at'] == C2C + DAY + 2 * HOUR + 3 * DAY and d2['state'] == 'settlement' and d2['timeline'][-1]['ts'] == g_['closes_at'], ((g_['closes_at'] - T0) / HOUR, d2['state']))
    check('X (the C2 defaulter) lost exactly the forfeited deposits (560,000 + 100,000 + 100,000)', (await X.call('account.get'))['cash_available'] == 100_000_000 - 760_000, None)

if __name__ == '__main__':
    run('f01', sc)
