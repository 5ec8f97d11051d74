# Every timer survives a kill -9 and restart on the same database and still fires at its own millisecond
# (PROTOCOL "A timer fires at its own due time"; "A reply is sent only after the command's effects are durable"):
# an English close moved by the soft close, a sell-off close moved to first bid + 24 h (that bid placed at the very ms the
# sell-off opened), a payment deadline (default at due_at), a scheduled round 1 open/close and the round 2 it announces
# (15 days' notice from the unsold close), Dutch ticks, a GTD expiry; a request_id reply kept across the restart.
from common import *
import signal
async def phase1(url, st):
    ctx = Ctx(url); await ctx.admin(); a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise', fund=1_000_000)
    X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('individual', fund=50_000_000)
    for n, c in (('bank', bank), ('own', own), ('X', X), ('Y', Y)): st[n] = (c.key, c.secret, c.pid)
    V = 10_000_000
    _, k2, _ = await new_case(ctx, bank, own, V)                                  # unsold r1 (31 d), r2 46-47 d, sell-off from 47 d
    _, va = await new_auction(ctx, own, start=1_000_000, inc=10_000, dep=100_000, closes=T0 + 45 * DAY, payment_ms=5 * DAY)
    await Y.call('auction.register', auction_id=va); await Y.call('auction.bid', auction_id=va, amount=1_000_000)
    asset = await new_asset(ctx, own)
    await own.call('market.create', market_id='M', asset_id=asset, licence=LIC, tick=100, min_qty=10)
    await ctx.adv_to(T0 + 16 * DAY); _, k1, a1 = await new_case(ctx, bank, own, V)          # r1 46-47 d
    await ctx.adv_to(T0 + 20 * DAY); _, k3, a3 = await new_case(ctx, bank, own, V)          # r1 50-51 d, r2 66 d
    st.update(k1=k1, a1=a1, k2=k2, k3=k3, a3=a3, va=va)
    for c in (X, Y): await c.call('auction.register', auction_id=a1)
    await ctx.adv_to(T0 + 45 * DAY)
    g = await a.call('auction.get', auction_id=va)
    st['va_sid'] = g['settlement_id']
    s = await a.call('settlement.get', settlement_id=g['settlement_id'])
    check('VA sold at 45 d, due_at = 50 d', g['state'] == 'sold' and s['due_at'] == T0 + 50 * DAY, (g['state'], s['due_at'] - T0))
    await ctx.adv_to(T0 + 46 * DAY)
    await X.call('auction.bid', auction_id=a1, amount=7_000_000)
    await ctx.adv_to(T0 + 47 * DAY - 10 * MIN)
    _, du = await new_auction(ctx, own, start=1_000_000, inc=10_000, dep=100_000, fmt='dutch', closes=T0 + 48 * DAY,
                              dutch={'decrement': 10_000, 'interval_ms': 5 * MIN, 'floor': 900_000})
    st['du'] = du; st['du_open'] = T0 + 47 * DAY - 10 * MIN
    await X.call('auction.register', auction_id=du)
    await ctx.adv_to(T0 + 47 * DAY - MIN)
    r = await Y.call('auction.bid', auction_id=a1, amount=7_140_000)
    check('K1 soft close: closes_at = 47 d + 4 min', r['closes_at'] == T0 + 47 * DAY + 4 * MIN, r['closes_at'] - T0 - 47 * DAY)
    await ctx.adv_to(T0 + 47 * DAY)
    d = await bank.call('disposal.get', case_id=k2)
    so = d['rounds'][-1]
    check('K2 in sell_off at 47 d', d['state'] == 'sell_off' and so['kind'] == 'sell_off', (d['state'], so))
    st['so'] = so['auction_id']
    await X.call('auction.register', auction_id=so['auction_id'])
    e = await X.errm('auction.bid', auction_id=so['auction_id'], amount=5_600_000)
    check('sell-off first bid at the exact ms it opened -> accepted, close = ts + 24 h', e[0] == 'OK' and e[1]['closes_at'] == T0 + 48 * DAY, e)
    await ctx.adv_to(T0 + 47 * DAY + MIN)
    await X.call('order.place', market_id='M', side='buy', type='limit', price=1000, qty=10, tif='gtd', expire_at=T0 + 47 * DAY + 2 * MIN + 7,
                 client_order_id='gtd')
    st['rid'] = await a.raw('account.fund', {'participant_id': X.pid, 'amount': 123, 'request_id': 'rid-fund-1'})
    st['accX'] = await X.call('account.get'); st['accY'] = await Y.call('account.get'); st['now'] = await ctx.now()
    for c in ctx.clients:
        try: await c.close()
        except Exception: pass
async def phase2(url, st):
    ctx = Ctx(url); await ctx.admin(); a = ctx.adm
    cl = {}
    for n in ('bank', 'X', 'Y'):
        c = await Client.connect(url); await c.login(*st[n][:2]); c.pid = st[n][2]; ctx.clients.append(c); cl[n] = c
    bank, X, Y = cl['bank'], cl['X'], cl['Y']
    n = await ctx.now()
    check('engine time resumes at the pre-crash time', n == st['now'], (n - T0, st['now'] - T0))
    ax = await X.call('account.get'); ay = await Y.call('account.get')
    check('accounts survive (X, Y)', ax == st['accX'] and ay == st['accY'], (ax, st['accX'], ay, st['accY']))
    r2 = await a.raw('account.fund', {'participant_id': X.pid, 'amount': 123, 'request_id': 'rid-fund-1'})
    check('request_id reply kept across the restart (same reply)', r2 == dict(st['rid'], id=r2['id']), (r2, st['rid']))
    ax = await X.call('account.get'); check('...and nothing applied twice', ax['cash_available'] == st['accX']['cash_available'], ax)
    # GTD at 47 d + 2 min + 7 ms
    t = T0 + 47 * DAY + 2 * MIN + 7
    await ctx.adv_to(t - 1)
    check('GTD still resting at expire_at - 1 (hold 10,000)', (await X.call('account.get'))['cash_held'] == st['accX']['cash_held'])
    await ctx.adv(1)
    e = await X.errm('order.cancel', market_id='M', client_order_id='gtd')
    check('GTD expired at expire_at after restart', e[0] == 'INVALID_STATE' and (await X.call('account.get'))['cash_held'] == st['accX']['cash_held'] - 10_000, e)
    # K1 close at 47 d + 4 min
    c1 = T0 + 47 * DAY + 4 * MIN
    await ctx.adv_to(c1 - 1)
    g = await a.call('auction.get', auction_id=st['a1'])
    check('K1 open at closes_at - 1 after restart', g['state'] == 'open' and g['closes_at'] == c1, (g['state'], g['closes_at'] - c1))
    await ctx.adv(1)
    g = await a.call('auction.get', auction_id=st['a1'])
    check('K1 sold at closes_at to Y at 7,140,000', g['state'] == 'sold' and g['price'] == 7_140_000, (g['state'], g['price']))
    ax = await X.call('account.get')
    s = await a.call('settlement.get', settlement_id=g['settlement_id'])
    check('K1 payment due = closes_at + 10 d', s['due_at'] == c1 + 10 * DAY, s['due_at'] - c1)
    # Dutch ticks: opened at 47 d - 10 min, 5-minute interval
    o = st['du_open']
    await ctx.adv_to(o + 15 * MIN - 1)
    g = await a.call('auction.get', auction_id=st['du'])
    check('Dutch price at opens + 15 min - 1 = 980,000', g['price'] == 980_000, g['price'])
    await ctx.adv(1)
    r = await X.errm('auction.accept', auction_id=st['du'])
    check('Dutch accept at the exact tick ms -> 970,000', r[0] == 'OK' and r[1]['price'] == 970_000, r)
    # sell-off close 48 d
    await ctx.adv_to(T0 + 48 * DAY - 1)
    g = await a.call('auction.get', auction_id=st['so'])
    check('sell-off open at 48 d - 1', g['state'] == 'open' and g['closes_at'] == T0 + 48 * DAY, (g['state'], g['closes_at'] - T0))
    await ctx.adv(1)
    g = await a.call('auction.get', auction_id=st['so'])
    check('sell-off sold at 48 d to X at 5,600,000', g['state'] == 'sold' and g['price'] == 5_600_000, (g['state'], g['price']))
    # VA payment deadline 50 d
    await ctx.adv_to(T0 + 50 * DAY - 1)
    s = await a.call('settlement.get', settlement_id=st['va_sid'])
    check('VA awaiting_payment at due_at - 1', s['state'] == 'awaiting_payment', s['state'])
    await ctx.adv(1)
    s = await a.call('settlement.get', settlement_id=st['va_sid'])
    check('VA defaulted at due_at', s['state'] == 'defaulted', s['state'])
    ay = await Y.call('account.get')
    print('  info: Y after the VA default', ay)
    # K3 round 1 50-51 d, round 2 opens 66 d
    g = await a.call('auction.get', auction_id=st['a3'])
    check('K3 round 1 open at 50 d', g['state'] == 'open', g['state'])
    await ctx.adv_to(T0 + 51 * DAY - 1)
    check('K3 round 1 open at 51 d - 1', (await a.call('auction.get', auction_id=st['a3']))['state'] == 'open')
    await ctx.adv(1)
    d = await bank.call('disposal.get', case_id=st['k3'])
    check('K3 round 1 unsold at 51 d, round_2', d['state'] == 'round_2' and len(d['rounds']) == 2, (d['state'], d['rounds']))
    g2 = await a.call('auction.get', auction_id=d['rounds'][-1]['auction_id'])
    check('K3 round 2 opens at 66 d (15 days after the unsold close), start 5,600,000', g2['opens_at'] == T0 + 66 * DAY and g2['start_price'] == 5_600_000,
          ((g2['opens_at'] - T0) / DAY, g2['start_price']))
    await ctx.adv_to(T0 + 66 * DAY - 1)
    check('K3 round 2 scheduled at 66 d - 1', (await a.call('auction.get', auction_id=g2['auction_id']))['state'] == 'scheduled')
    await ctx.adv(1)
    check('K3 round 2 open at 66 d', (await a.call('auction.get', auction_id=g2['auction_id']))['state'] == 'open')
    for c in ctx.clients:
        try: await c.close()
        except Exception: pass
def main():
    os.makedirs(LOGS, exist_ok=True)
    srv = Server('u04', T0); st = {}
    try:
        asyncio.run(phase1(srv.url, st))
        srv.proc.send_signal(signal.SIGKILL); srv.proc.wait()
        srv._start('u04b', T0, ())
        asyncio.run(phase2(srv.url, st))
    except Exception as e:
        import traceback; traceback.print_exc(); RESULTS.append(('scenario raised', False, repr(e)))
    finally:
        srv.stop()
    fails = [r for r in RESULTS if not r[1]]
    print('FAIL' if fails else 'PASS'); sys.exit(1 if fails else 0)
main()
