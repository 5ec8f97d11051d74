# Audit f: the f01 world built identically on two servers; one moves from S to the target in ONE time.advance, the other
# in ~150 small steps that land on every due time, 1 ms before and after it, plus seeded random steps. PROTOCOL "Time":
# "time.advance, whose reply comes after every timer due up to the new time has fired"; "Edges": "A timer fires at its
# own due time ... however far time.advance jumped". So the two servers must end in the same state: every auction.get,
# disposal.get (timeline included), settlement.get, account.get, report.disposals, every channel's final snapshot,
# and the same pushes (type, ts, data) on every auction / disposal / book channel and on the private channels.
import random
from common import *
from f01_one_advance_many_timers import build, expected, S, B, TARGET

def due_times():
    E2C, C2C, exp = expected()
    ds = {t for _, _, t, _ in exp} | {E2C, B + 90 * MIN + 7, B + 5 * HOUR + 1, B + 3 * HOUR, B + 2 * HOUR,
          C2C + DAY, C2C + DAY + 2 * HOUR, C2C + DAY + 2 * HOUR + 3 * DAY, E2C + 10 * DAY, B + 4 * HOUR + 10 * DAY,
          T0 + 46 * DAY, T0 + 47 * DAY, T0 + 107 * DAY}
    pts = set()
    for t in ds: pts |= {t - 1, t, t + 1}
    rnd = random.Random(7)
    pts |= {rnd.randrange(S + 1, TARGET) for _ in range(40)}
    pts |= set(range(B + 2 * HOUR - 3, B + 2 * HOUR + 4))       # 1 ms steps over three timers due at one ms
    return sorted(t for t in pts if S < t < TARGET) + [TARGET]

async def state(ctx, w):
    a = ctx.adm
    out = {}
    aids = set()
    for cid in ('C1', 'C2'):
        d = await a.call('disposal.get', case_id=w[cid]); out['case ' + cid] = d
        aids |= {r['auction_id'] for r in d['rounds']}
    aids |= {w[k] for k in ('E1', 'E2', 'E3', 'D', 'F1', 'F2')}
    sids = set()
    for x in sorted(aids):
        g = await a.call('auction.get', auction_id=x); out['auction ' + x] = g
        if g.get('settlement_id'): sids.add(g['settlement_id'])
    for cid in ('C1', 'C2'):
        if out['case ' + cid].get('settlement_id'): sids.add(out['case ' + cid]['settlement_id'])
    for x in sorted(sids):
        st = await a.call('settlement.get', settlement_id=x)
        for tr in st.get('transfers', []): tr.pop('id', None)     # ledger transfer ids are the server's own
        out['settlement ' + x] = st
    for k in ('bank', 'own', 'X', 'Y', 'Z', 'BK'): out['account ' + k] = await a.call('account.get', participant_id=w[k].pid)
    out['report'] = await a.call('report.disposals')
    # final channel snapshots on a fresh connection
    chans = [f'auction.{x}' for x in sorted(aids)] + ['book.T', 'trades.T', f'disposal.{w["C1"]}', f'disposal.{w["C2"]}']
    await a.call('subscribe', channels=chans); ps = await a.drain(0.5)
    await a.call('unsubscribe', channels=chans)
    for p in ps:
        if p['type'] == 'snapshot': out['snapshot ' + p['channel']] = (p['seq'], p['data'])
    for k in ('X', 'Y', 'Z', 'BK'):
        c = w[k]; await c.call('subscribe', channels=['private'])
        for p in await c.drain(0.3):
            if p['channel'] == 'private' and p['type'] == 'snapshot': out['snapshot private ' + k] = p['data']
    return out, chans

async def sc(ctx):
    # server 1: built here, one big step
    w1 = await build(ctx)
    E2C, C2C, _ = expected()
    watch1 = await watch(ctx, w1)
    r = await ctx.adm.call('time.advance', ms=TARGET - S)
    check('server 1: one step to the target', r['now'] == TARGET, r)
    p1 = await collect(w1, watch1)
    st1, chans1 = await state(ctx, w1)
    # server 2: same world, many small steps
    srv2 = Server('f02b')
    ctx2 = Ctx(srv2.url)
    try:
        await ctx2.admin()
        import common; common._n[0] = 0; common._m[0] = 0     # the same asset ids on server 2
        w2 = await build(ctx2)
        watch2 = await watch(ctx2, w2)
        steps = due_times(); bad = []
        for t in steps:
            n = await ctx2.now()
            r = await ctx2.adm.call('time.advance', ms=t - n)
            if r['now'] != t: bad.append((t, r))
        check(f'server 2: {len(steps)} small steps, each answered with its own target', not bad, bad[:3])
        p2 = await collect(w2, watch2)
        st2, chans2 = await state(ctx2, w2)
        check('both servers made the same objects', sorted(st1) == sorted(st2) and chans1 == chans2, set(st1) ^ set(st2))
        for k in sorted(st1):
            if k not in st2: continue
            a_, b_ = st1[k], st2[k]
            check(f'same final {k}', a_ == b_, diff(a_, b_))
        bal = []
        check('pushes seen on both servers', len(p1) >= 10 and len(p2) >= 10, (len(p1), len(p2)))
        for ch in sorted(set(p1) | set(p2)):
            x = [(p['seq'], p['type'], p['ts'], p['data']) for p in p1.get(ch, [])]
            y = [(p['seq'], p['type'], p['ts'], p['data']) for p in p2.get(ch, [])]
            if ch.startswith('private'):
                # 'balance' pushes are compared below: one per participant per batch
                xb = [(t, ts) for _, t, ts, _ in x if t == 'balance']; yb = [(t, ts) for _, t, ts, _ in y if t == 'balance']
                bal.append((ch, [ts - T0 for _, ts in xb], [ts - T0 for _, ts in yb]))
                x = [(t, ts, d) for _, t, ts, d in x if t != 'balance']; y = [(t, ts, d) for _, t, ts, d in y if t != 'balance']
                check(f'{ch}: same pushes other than balance (type, ts, data)', x == y, diff(x, y))
            else:
                check(f'{ch}: same pushes (seq, type, ts, data)', x == y, diff(x, y))
        # A private 'balance' push sums up a batch (one per participant per time.advance), stamped with the time of
        # the participant's last change in it (session 13: it was the advance's target, a time when nothing happened).
        # So one step gives one push and small steps one per step with a change (the contract does not say how many);
        # the last one agrees: the same final balance, at the same time.
        check('private channels: the last balance push (ts) is the same in both runs',
              all(x[-1:] == y[-1:] for _, x, y in bal), [(ch, 'one step:', x, 'small steps:', y) for ch, x, y in bal if x[-1:] != y[-1:]])
        check('private channels: every balance push is at the time of a change, never an advance target',
              all(set(x) <= set(y) for _, x, y in bal), bal)
    finally:
        for c in ctx2.clients:
            try: await c.close()
            except Exception: pass
        srv2.stop()

def diff(a, b, path=''):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k): return diff(a.get(k), b.get(k), f'{path}.{k}')
        return None
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y: return diff(x, y, f'{path}[{i}]')
        return None
    return (path, str(a)[:300], str(b)[:300])

async def watch(ctx, w):
    """every channel of the world, on the world's own connections (W: auctions and book; bank: cases; X..BK: private)"""
    au = [w[k] for k in ('E1', 'E2', 'E3', 'D', 'F1', 'F2', 'C1r1', 'C2so')]
    await w['W'].call('subscribe', channels=[f'auction.{x}' for x in au] + ['book.T', 'trades.T'])
    await w['bank'].call('subscribe', channels=[f'disposal.{w["C1"]}', f'disposal.{w["C2"]}'])
    for k in ('X', 'Y', 'Z', 'BK'): await w[k].call('subscribe', channels=['private'])
    for k in ('W', 'bank', 'X', 'Y', 'Z', 'BK'): await w[k].drain(0.1)
    return True

async def collect(w, _):
    out = {}
    for k in ('W', 'bank', 'X', 'Y', 'Z', 'BK'):
        for p in await w[k].drain(0.2):
            ch = p['channel'] + ('' if p['channel'] != 'private' else ' ' + k)
            for tr in (p['data'].get('transfers') or []) if isinstance(p['data'], dict) else []: tr.pop('id', None)
            if p['type'] != 'snapshot': out.setdefault(ch, []).append(p)
    return out

if __name__ == '__main__':
    run('f02', sc)
