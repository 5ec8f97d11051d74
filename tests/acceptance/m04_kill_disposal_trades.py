# kill -9 around disposals, participants and trades (PROTOCOL Envelope durability, Idempotency, Edges "Winner default",
# Defaults "payment due 10 days after the close", Channels snapshots). Burst: a bank opens four disposal cases, the admin
# creates four participants, a buyer takes one resting sell per IOC order, all pipelined with request_ids; kill -9 after
# some answers. After the restart: answered cases exist (disposal.get, disposal snapshot = disposal.get), answered
# participants' keys log in, answered fills are in the positions, money and units conserved; retries return the same
# replies (the same case_id, the same api_key) and apply nothing; unanswered retried apply once. Then a case's round 1
# sold: kill right after the time.advance past its close -> after restart the case is in settlement, due_at = close +
# 10 d, the loser's deposit released; kill during an unanswered time.advance past due_at -> after restart and advancing,
# (advanced to 50 d) the settlement defaulted once (deposit forfeited once), the round re-run with the same start after renotice_ms
# (15 d) and the defaulter barred (NOT_QUALIFIED).
from mcrash import *

V = 10_000_000; START = 7_000_000; DEPO = 700_000; FUND = 100_000_000

async def case_snap_ok(url, w, a, k, name):
    sn = await snapshot_of(url, w, f'disposal.{k}')
    g = await a.call('disposal.get', case_id=k)
    check(f'{name}: disposal.{k} snapshot after restart = disposal.get', sn is not None and sn['type'] == 'snapshot' and sn['data'] == g,
          (sn and sn['data'], g))
    return g

async def scenario(srv):
    ctx = Ctx(srv.url); await ctx.admin(); a = ctx.adm
    B = await ctx.mk('bank'); O = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=FUND); Y = await ctx.mk('individual', fund=FUND)
    W = {'admin': ADMIN, 'B': who('B', B), 'X': who('X', X), 'Y': who('Y', Y)}
    _, K0, A0 = await new_case(ctx, B, O, V)
    assets = []
    for i in range(4):
        aid = f'DP-{i}'
        await a.call('asset.register', asset_id=aid, kind='invention_patent', title=aid, owner=O.pid, region='chengdu',
                     industry='other', valuation=V, expires_at=T0 + 3650 * DAY)
        await B.call('pledge.register', asset_id=aid, pledgee=B.pid, loan_outstanding=5_000_000, registration_no='R' + aid)
        assets.append(aid)
    asset = await new_asset(ctx, X)
    await X.call('market.create', market_id='U', asset_id=asset, licence=LIC, tick=100, min_qty=1)
    await X.call('units.issue', market_id='U', qty=100)
    for j in range(10):
        await X.call('order.place', market_id='U', side='sell', type='limit', price=1000 + 100 * j, qty=1, tif='gtc', client_order_id=f's{j}')
    await close_all(ctx.clients)

    url = srv.url; rec = Rec()
    Bc = await login(url, W['B']); Ac = await login(url, ADMIN); Yc = await login(url, W['Y'])
    async def bank():
        fs = []
        for i, aid in enumerate(assets):
            fs.append(asyncio.ensure_future(rec.send(Bc, W['B'], 'disposal.open', dict(assets=[aid], pledgee=B.pid, pledgor=O.pid,
                      valuation=V, request_id=f'd{i}'))))
            await asyncio.sleep(0.001)
        await asyncio.gather(*fs)
    async def admin():
        fs = []
        for i in range(4):
            fs.append(asyncio.ensure_future(rec.send(Ac, ADMIN, 'participant.create', dict(name=f'new{i}', kind='individual',
                      region='deyang', whitelisted=True, request_id=f'pc{i}'))))
            await asyncio.sleep(0.001)
        await asyncio.gather(*fs)
    async def buyer():
        for j in range(10):
            if await rec.send(Yc, W['Y'], 'order.place', dict(market_id='U', side='buy', type='limit', price=1000 + 100 * j, qty=1,
                              tif='ioc', client_order_id=f'b{j}', request_id=f'b{j}')) is None: return
    tasks = [asyncio.ensure_future(x) for x in (bank(), admin(), buyer())]
    for _ in range(5000):
        if len(rec.acked()) >= 7 or all(t.done() for t in tasks): break
        await asyncio.sleep(0.0005)
    srv.proc.send_signal(signal.SIGKILL); srv.proc.wait()
    await asyncio.wait(tasks, timeout=35)
    await close_all([Bc, Ac, Yc])
    print(f'  info: burst: {len(rec.items)} sent, {len(rec.acked())} answered before kill -9')
    bad = [i for i in rec.acked() if code(i['reply']) != 'OK']
    check('answers before the kill are successes', not bad, [(i['method'], i['reply']) for i in bad][:3])
    srv._start('m04-b', T0, ())
    url = srv.url
    a = await login(url, ADMIN); conns = {'admin': a, 'B': await login(url, W['B']), 'Y': await login(url, W['Y']), 'X': await login(url, W['X'])}
    for it in rec.acked():
        if it['method'] == 'disposal.open':
            await case_snap_ok(url, W['B'], a, it['reply']['result']['case_id'], f'answered disposal.open {it["params"]["request_id"]}')
        if it['method'] == 'participant.create':
            r = it['reply']['result']
            try:
                c = await login(url, Who('n', r['api_key'], r['api_secret'], r['participant_id'])); await c.close(); okk = True
            except Exception as e: okk = repr(e)
            check(f'answered participant.create {it["params"]["request_id"]}: its key logs in after restart', okk is True, okk)
    async def units():
        x = await a.call('account.get', participant_id=X.pid); y = await a.call('account.get', participant_id=Y.pid)
        return x, y
    x, y = await units()
    filled = [it for it in rec.acked() if it['method'] == 'order.place' and code(it['reply']) == 'OK' and it['reply']['result']['filled_qty'] == 1]
    ny = mp(y, 'U')[0]; sentb = len([it for it in rec.items if it['method'] == 'order.place'])
    check('answered fills are in the buyer\'s position after restart (and no more than sent)', len(filled) <= ny <= sentb, (len(filled), ny, sentb))
    check('units conserved (100 issued)', mp(x, 'U')[0] + ny == 100, (mp(x, 'U'), ny))
    check('cash conserved between buyer and seller', x['cash_available'] + x['cash_held'] + y['cash_available'] + y['cash_held'] == 2 * FUND, (x, y))
    sn = await snapshot_of(url, W['Y'], 'private')
    check('buyer private snapshot after restart = account.get', sn is not None and sn['data'] == y, (sn, y))
    res = await retry_all(url, rec.acked(), conns)
    diff = [(x_['method'], x_['params'], x_['reply'], rr) for x_, rr in res if body(rr) != body(x_['reply'])]
    check(f'{len(res)} answered requests retried -> the same replies (same case_id, same api_key)', not diff, diff[:3])
    check('... nothing applied again', await units() == (x, y))
    res2 = await retry_all(url, rec.unacked(), conns)
    bad = [(x_['method'], x_['params'], rr) for x_, rr in res2 if code(rr) != 'OK']
    check(f'{len(res2)} unanswered requests retried -> OK', not bad, bad[:3])
    cases = set()
    for x_, rr in [(i, i['reply']) for i in rec.acked()] + res2:
        if x_['method'] == 'disposal.open': cases.add(rr['result']['case_id'])
    # The kill may come before the bank's last requests are sent: one case per request sent.
    sent_d = len([i for i in rec.items if i['method'] == 'disposal.open'])
    check('one distinct case per disposal.open sent, after retries', len(cases) == sent_d >= 1, (sent_d, cases))
    x, y = await units()
    check(f'after retries the buyer holds one unit per sent IOC ({sentb})', mp(y, 'U')[0] == sentb and mp(x, 'U')[0] == 100 - sentb, (mp(y, 'U'), mp(x, 'U')))
    cost = sum(1000 + 100 * j for j in range(sentb))
    check('after retries cash moved once per fill', y['cash_available'] + y['cash_held'] == FUND - cost and x['cash_available'] + x['cash_held'] == FUND + cost, (x, y))
    # round 1 of K0 (opens 30 d, closes 31 d): X wins, Y loses
    await ctx_adv_to(a, T0 + 30 * DAY)
    Xc, Yc = conns['X'], conns['Y']
    for c in (Xc, Yc): await c.call('auction.register', auction_id=A0)
    await Xc.call('auction.bid', auction_id=A0, amount=START)
    r = await a.call('time.advance', ms=DAY)
    srv.proc.send_signal(signal.SIGKILL); srv.proc.wait(); await close_all(conns.values())
    srv._start('m04-c', T0, ())
    url = srv.url; a = await login(url, ADMIN)
    check('time.advance past the close answered', r['now'] == T0 + 31 * DAY, r)
    g = await case_snap_ok(url, W['B'], a, K0, 'after kill at the close')
    check('case in settlement after restart', g['state'] == 'settlement' and g.get('settlement_id'), g)
    s = await a.call('settlement.get', settlement_id=g['settlement_id'])
    check('settlement due 10 d after the close', s['state'] == 'awaiting_payment' and s['due_at'] == T0 + 41 * DAY, (s['state'], (s['due_at'] - T0) / DAY))
    x, y = await units()
    check('loser\'s deposit released at the close, winner\'s held', y['cash_held'] == 0 and x['cash_held'] == DEPO + mp(x, 'U')[1] * 0, (x['cash_held'], y['cash_held']))
    x0 = x['cash_available'] + x['cash_held']
    # kill during an unanswered advance past due_at
    fut = asyncio.get_running_loop().create_future(); a.pending['adv'] = fut; fut.add_done_callback(lambda f: f.cancelled() or f.exception())
    await a.ws.send(json.dumps({'id': 'adv', 'method': 'time.advance', 'params': {'ms': 19 * DAY}}))
    await asyncio.sleep(0.0005)
    srv.proc.send_signal(signal.SIGKILL); srv.proc.wait(); await a.close()
    srv._start('m04-d', T0, ())
    url = srv.url; a = await login(url, ADMIN)
    n = (await a.call('time.now'))['now']
    print(f'  info: engine time after the kill during time.advance: {(n - T0) / DAY} d')
    check('engine time in [31 d, 50 d]', T0 + 31 * DAY <= n <= T0 + 50 * DAY, (n - T0) / DAY)
    await ctx_adv_to(a, T0 + 50 * DAY)
    s = await a.call('settlement.get', settlement_id=g['settlement_id'])
    check('settlement defaulted', s['state'] == 'defaulted', s['state'])
    x, y = await units()
    check('deposit forfeited exactly once', x['cash_available'] + x['cash_held'] == x0 - DEPO and x['cash_held'] == 0, (x0, x))
    g = await case_snap_ok(url, W['B'], a, K0, 'after the default')
    last = g['rounds'][-1]
    ga = await a.call('auction.get', auction_id=last['auction_id'])
    check('round re-run: a new auction, same start, opening 15 d (renotice) after due_at', last['auction_id'] != A0 and ga['start_price'] == START
          and ga['opens_at'] == T0 + 56 * DAY and len(g['rounds']) == 2, (g['rounds'], ga['opens_at'] - T0))
    Xc = await login(url, W['X']); Yc = await login(url, W['Y'])
    e = await Xc.errm('auction.register', auction_id=last['auction_id'])
    check('the defaulter is barred after restart (NOT_QUALIFIED)', e[0] == 'NOT_QUALIFIED', e)
    e = await Yc.errm('auction.register', auction_id=last['auction_id'])
    check('another bidder may register', e[0] == 'OK', e)
    await close_all([a, Xc, Yc])

async def ctx_adv_to(a, t):
    n = (await a.call('time.now'))['now']
    if t > n: await a.call('time.advance', ms=t - n)

run_crash('m04', scenario)
