# Timers around kill -9 (manual clock, restarted with the same --manual-clock start): PROTOCOL Time "time.advance ...
# reply comes after every timer due up to the new time has fired and been committed", Envelope "A reply is sent only
# after the command's effects are durable", Edges "A timer fires at its own due time ... what follows a close (payment
# due ...) counts from closes_at". Timers: English closes (sold / unsold) at 1 h, 2 h, 3 h, 4 h, payment deadlines
# (payment_ms 1 h) at 2 h and 4 h, GTD expiries at 1 h 30 and 2 h 30. Kill 1: right after time.advance's reply (to
# 1 h 30): everything due by then fired and survives. Kill 2: a few ms after sending time.advance to 5 h, unanswered:
# after the restart engine time is somewhere in [1 h 30, 5 h] and the state is exactly the one due at that time; then
# each remaining timer fires at its own ms (state at due - 1 and at due), once (deposits forfeited once, holds exact).
from mcrash import *

KILL2_DELAY = float(os.environ.get("M02_DELAY", "0.0005"))
DEP = 100_000; START = 1_000_000; INC = 10_000; FUND = 10_000_000
E_CLOSE = [T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR, T0 + 4 * HOUR]
G1, G2 = T0 + 90 * MIN, T0 + 150 * MIN
YG = [G1 + k * 50_000 + k % 7 for k in range(1, 201)]   # 200 GTD expiries of Y (hold 1,000 each), so time.advance has work
DUES = sorted({*E_CLOSE, E_CLOSE[0] + HOUR, E_CLOSE[2] + HOUR, G1, G2, *YG[::25], YG[-1]})

def expect(t):
    e = {}
    e['E0'] = 'open' if t < E_CLOSE[0] else 'sold'
    e['E1'] = 'open' if t < E_CLOSE[1] else 'unsold'
    e['E2'] = 'open' if t < E_CLOSE[2] else 'sold'
    e['E3'] = 'open' if t < E_CLOSE[3] else 'unsold'
    e['S0'] = None if t < E_CLOSE[0] else ('awaiting_payment' if t < E_CLOSE[0] + HOUR else 'defaulted')
    e['S2'] = None if t < E_CLOSE[2] else ('awaiting_payment' if t < E_CLOSE[2] + HOUR else 'defaulted')
    e['Xheld'] = DEP * (t < E_CLOSE[0] + HOUR) + DEP * (t < E_CLOSE[2] + HOUR) + 10_000 * (t < G1) + 20_000 * (t < G2)
    e['Xtotal'] = FUND - DEP * (t >= E_CLOSE[0] + HOUR) - DEP * (t >= E_CLOSE[2] + HOUR)
    e['Yheld'] = DEP * (t < E_CLOSE[1]) + 1000 * sum(1 for g in YG if t < g)
    e['Ytotal'] = FUND
    return e

async def observe(a, st):
    o = {}
    sids = {}
    for i, A in enumerate(st['E']):
        g = await a.call('auction.get', auction_id=A); o[f'E{i}'] = g['state']
        if g['closes_at'] != E_CLOSE[i]: o[f'E{i}closes'] = g['closes_at']
        sids[i] = g.get('settlement_id')
    for i in (0, 2):
        if sids[i]:
            s = await a.call('settlement.get', settlement_id=sids[i]); o[f'S{i}'] = s['state']
            if s['due_at'] != E_CLOSE[i] + HOUR: o[f'S{i}due'] = s['due_at']
        else: o[f'S{i}'] = None
    x = await a.call('account.get', participant_id=st['X'].pid); y = await a.call('account.get', participant_id=st['Y'].pid)
    o['Xheld'] = x['cash_held']; o['Xtotal'] = x['cash_available'] + x['cash_held']
    o['Yheld'] = y['cash_held']; o['Ytotal'] = y['cash_available'] + y['cash_held']
    return o

async def scenario(srv):
    ctx = Ctx(srv.url); await ctx.admin(); a = ctx.adm
    O = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=FUND); Y = await ctx.mk('individual', fund=FUND)
    st = {'X': who('X', X), 'Y': who('Y', Y), 'E': []}
    for c in E_CLOSE:
        st['E'].append((await new_auction(ctx, O, start=START, inc=INC, dep=DEP, closes=c, payment_ms=HOUR))[1])
    for i in (0, 2):
        await X.call('auction.register', auction_id=st['E'][i]); await X.call('auction.bid', auction_id=st['E'][i], amount=START)
    await Y.call('auction.register', auction_id=st['E'][1])
    asset = await new_asset(ctx, O)
    await O.call('market.create', market_id='G', asset_id=asset, licence=LIC, tick=100, min_qty=10)
    await X.call('order.place', market_id='G', side='buy', type='limit', price=1000, qty=10, tif='gtd', expire_at=G1, client_order_id='g1')
    await X.call('order.place', market_id='G', side='buy', type='limit', price=1000, qty=20, tif='gtd', expire_at=G2, client_order_id='g2')
    for k, g in enumerate(YG):
        await Y.call('order.place', market_id='G', side='buy', type='limit', price=100, qty=10, tif='gtd', expire_at=g, client_order_id=f'y{k}')
    o = await observe(a, st)
    check('setup: state at T0 as expected', o == expect(T0), (o, expect(T0)))
    # kill 1: right after time.advance's reply
    r = await a.call('time.advance', ms=G1 - T0)
    srv.proc.send_signal(signal.SIGKILL); srv.proc.wait()
    check('time.advance to 1 h 30 answered with now', r['now'] == G1, r)
    await close_all(ctx.clients)
    srv._start('m02-b', T0, ())
    a = await login(srv.url, ADMIN)
    n = (await a.call('time.now'))['now']
    check('after kill 1: engine time = the answered time.advance (1 h 30)', n == G1, (n - T0) / MIN)
    o = await observe(a, st)
    check('after kill 1: every timer due by 1 h 30 fired and survived (E0 sold, GTD 1 expired), nothing later', o == expect(G1), (o, expect(G1)))
    sn = await snapshot_of(srv.url, ADMIN, f'auction.{st["E"][0]}')
    g = await a.call('auction.get', auction_id=st['E'][0])
    check('after kill 1: auction snapshot = auction.get', sn is not None and sn['data'] == g, (sn, g))
    e = await (await login(srv.url, st['X'])).errm('order.cancel', market_id='G', client_order_id='g1')
    check('after kill 1: GTD g1 is done (cancel -> INVALID_STATE)', e[0] == 'INVALID_STATE', e)
    # kill 2: during an unanswered time.advance to 5 h
    fut = asyncio.get_running_loop().create_future(); a.pending['adv'] = fut; fut.add_done_callback(lambda f: f.cancelled() or f.exception())
    await a.ws.send(json.dumps({'id': 'adv', 'method': 'time.advance', 'params': {'ms': T0 + 5 * HOUR - G1}}))
    await asyncio.sleep(KILL2_DELAY)
    srv.proc.send_signal(signal.SIGKILL); srv.proc.wait()
    await asyncio.sleep(0.05)
    answered = fut.done() and not fut.exception() if fut.done() else False
    await a.close()
    srv._start('m02-c', T0, ())
    a = await login(srv.url, ADMIN)
    n = (await a.call('time.now'))['now']
    print(f'  info: time.advance {"answered" if answered else "unanswered"} before kill 2; engine time after restart: {(n - T0) / MIN} min')
    check('after kill 2: engine time within [1 h 30, 5 h] (5 h if the advance was answered)',
          G1 <= n <= T0 + 5 * HOUR and (not answered or n == T0 + 5 * HOUR), ((n - T0) / MIN, answered))
    o = await observe(a, st)
    check(f'after kill 2: state is exactly the one due at engine time {(n - T0) // MIN} min', o == expect(n), (o, expect(n)))
    # the remaining timers, each at its own ms
    for d in DUES:
        if d <= n: continue
        await ctx_adv_to(a, d - 1)
        o = await observe(a, st)
        check(f'timer at {(d - T0) // MIN} min: not yet at due - 1', o == expect(d - 1), (o, expect(d - 1)))
        await ctx_adv_to(a, d)
        o = await observe(a, st)
        check(f'timer at {(d - T0) // MIN} min: fired at due', o == expect(d), (o, expect(d)))
    await ctx_adv_to(a, T0 + 6 * HOUR)
    o = await observe(a, st)
    check('at 6 h: each timer fired once (deposits forfeited once, holds released once)', o == expect(T0 + 6 * HOUR), (o, expect(T0 + 6 * HOUR)))
    xo = await a.call('account.get', participant_id=O.pid)
    print('  info: seller after two defaults:', xo['cash_available'], xo['cash_held'])
    # a third kill after everything fired: replay must not fire anything again
    srv.proc.send_signal(signal.SIGKILL); srv.proc.wait(); await a.close()
    srv._start('m02-d', T0, ())
    a = await login(srv.url, ADMIN)
    n = (await a.call('time.now'))['now']
    o = await observe(a, st)
    check('after kill 3: time 6 h and the same state (nothing fired twice on replay)', n == T0 + 6 * HOUR and o == expect(n), (n, o))
    await a.close()

async def ctx_adv_to(a, t):
    n = (await a.call('time.now'))['now']
    if t > n: await a.call('time.advance', ms=t - n)

run_crash('m02', scenario)
