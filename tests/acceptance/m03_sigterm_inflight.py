# A graceful stop (SIGTERM) while clients pipeline state-changing requests, twice, each followed by a restart on the same
# database. PROTOCOL Envelope "A reply is sent only after the command's effects are durable"; Idempotency (UNAVAILABLE
# is not kept: nothing was applied). Expected: every in-flight request is answered or its connection closes (no request
# left hanging on an open connection), the process exits within 15 s; after the restart every answered success has its
# effect (funding bits decoded exactly, orders at distinct prices in the book, registrations' deposits held), an answered
# UNAVAILABLE applied nothing, unanswered ones applied at most once; retries with the same request_id return the kept
# replies and apply nothing; money is conserved; private and book snapshots after restart agree with account.get.
from mcrash import *

DEP = 100_000; BASE = 1 << 40; STOP_AFTER = (10, 40)

def oprice(r, i, j): return 100 * (r * 100 + i * 20 + j + 1)

async def scenario(srv):
    ctx = Ctx(srv.url); await ctx.admin(); a = ctx.adm
    O = await ctx.mk('enterprise')
    T = [await ctx.mk('individual', fund=BASE) for _ in range(3)]
    W = {f'T{i}': who(f'T{i}', t) for i, t in enumerate(T)}; W['admin'] = ADMIN
    RA = []
    for r in range(2):
        asset = await new_asset(ctx, O)
        await O.call('market.create', market_id=f'M{r}', asset_id=asset, licence=LIC, tick=100, min_qty=1)
        RA.append([(await new_auction(ctx, O, start=1_000_000, inc=10_000, dep=DEP, closes=T0 + 30 * DAY))[1] for _ in range(3)])
    total = {t.pid: BASE for t in T}; held = {t.pid: 0 for t in T}
    await close_all(ctx.clients)
    for r in range(2):
        url = srv.url; rec = Rec()
        AC = [await login(url, ADMIN) for _ in range(2)]; TC = [await login(url, W[f'T{i}']) for i in range(3)]
        async def funder(k):
            fs = []
            for j in range(12):
                i = (j + k) % 3
                fs.append(asyncio.ensure_future(rec.send(AC[k], ADMIN, 'account.fund', {'participant_id': T[i].pid,
                          'amount': 1 << (r * 24 + k * 12 + j), 'request_id': f'f{r}-{k}-{j}'})))
                await asyncio.sleep(0.001)
            await asyncio.gather(*fs, return_exceptions=True)
        async def trader(i):
            fs = []
            for j in range(15):
                p = dict(market_id=f'M{r}', side='buy', type='limit', price=oprice(r, i, j), qty=1, tif='gtc',
                         client_order_id=f'c{r}-{j}', request_id=f'o{r}-{j}')
                fs.append(asyncio.ensure_future(rec.send(TC[i], W[f'T{i}'], 'order.place', p)))
                if j == 5: fs.append(asyncio.ensure_future(rec.send(TC[i], W[f'T{i}'], 'auction.register', dict(auction_id=RA[r][i], request_id=f'g{r}'))))
                await asyncio.sleep(0.001)
            await asyncio.gather(*fs, return_exceptions=True)
        tasks = [asyncio.ensure_future(x) for x in (funder(0), funder(1), trader(0), trader(1), trader(2))]
        for _ in range(5000):
            if len(rec.acked()) >= STOP_AFTER[r] or all(t.done() for t in tasks): break
            await asyncio.sleep(0.0005)
        srv.proc.send_signal(signal.SIGTERM); t_term = time.monotonic()
        done, _ = await asyncio.wait(tasks, timeout=15)
        t_done = time.monotonic() - t_term
        check(f'r{r}: after SIGTERM every in-flight request answered or its connection closed (none hanging 15 s)', len(done) == len(tasks))
        try: rc = srv.proc.wait(15)
        except Exception: rc = 'still running'; srv.proc.kill(); srv.proc.wait()
        print(f'  info: round {r}: SIGTERM after {STOP_AFTER[r]} answers; requests settled after {t_done:.2f} s; ipxd exit status {rc} after {time.monotonic() - t_term:.2f} s')
        check(f'r{r}: ipxd exits within 15 s of SIGTERM', rc != 'still running', rc)
        await close_all([*AC, *TC])
        codes = {}
        for it in rec.items: codes[code(it['reply'])] = codes.get(code(it['reply']), 0) + 1
        print(f'  info: round {r}: {len(rec.items)} sent; replies by code {codes}')
        bad = [i for i in rec.acked() if code(i['reply']) not in ('OK', 'UNAVAILABLE')]
        check(f'r{r}: answers during the stop are OK or UNAVAILABLE', not bad, [(i['method'], i['reply']) for i in bad][:3])
        srv._start(f'm03-r{r}', T0, ())
        url = srv.url
        a = await login(url, ADMIN); conns = {'admin': a}
        for i in range(3): conns[f'T{i}'] = await login(url, W[f'T{i}'])
        async def observe():
            s = {}
            for t in T: s[t.pid] = await a.call('account.get', participant_id=t.pid)
            sn = await snapshot_of(url, ADMIN, f'book.M{r}'); s['book'] = sn and sn['data']
            return s
        st = await observe()
        sent = {t.pid: 0 for t in T}; ackd = {t.pid: 0 for t in T}; unav = {t.pid: 0 for t in T}
        for it in rec.items:
            if it['method'] != 'account.fund': continue
            p = it['params']['participant_id']; sent[p] |= it['params']['amount']
            if code(it['reply']) == 'OK': ackd[p] |= it['params']['amount']
            if code(it['reply']) == 'UNAVAILABLE': unav[p] |= it['params']['amount']
        for i, t in enumerate(T):
            x = st[t.pid]; applied = x['cash_available'] + x['cash_held'] - total[t.pid]
            check(f'r{r} T{i}: answered fundings applied, UNAVAILABLE ones not, nothing unsent',
                  applied >= 0 and applied & ~sent[t.pid] == 0 and ackd[t.pid] & ~applied == 0 and unav[t.pid] & applied == 0,
                  (bin(applied), bin(sent[t.pid]), bin(ackd[t.pid]), bin(unav[t.pid])))
        lv = dict((p, q) for p, q in (st['book'] or {}).get('bids', []))
        sentpx = {it['params']['price']: it for it in rec.items if it['method'] == 'order.place'}
        check(f'r{r}: book after restart: only sent orders, each once', st['book'] is not None and all(p in sentpx and q == 1 for p, q in lv.items()), lv)
        miss = [it['params']['price'] for it in rec.items if it['method'] == 'order.place' and code(it['reply']) == 'OK' and it['params']['price'] not in lv]
        check(f'r{r}: every answered order.place rests after restart', not miss, miss)
        wrong = [it['params']['price'] for it in rec.items if it['method'] == 'order.place' and code(it['reply']) == 'UNAVAILABLE' and it['params']['price'] in lv]
        check(f'r{r}: no order answered UNAVAILABLE was applied', not wrong, wrong)
        for i, t in enumerate(T):
            mine = sum(p for p in lv if (p // 100 - 1) % 100 // 20 == i)
            extra = st[t.pid]['cash_held'] - held[t.pid] - mine
            reg = [code(it['reply']) for it in rec.items if it['method'] == 'auction.register' and it['who'].name == f'T{i}']
            allowed = (DEP,) if 'OK' in reg else ((0,) if (not reg or 'UNAVAILABLE' in reg) else (0, DEP))
            check(f'r{r} T{i}: cash_held = resting orders + the answered registration deposit', extra in allowed, (extra, reg, st[t.pid]))
            sn = await snapshot_of(url, W[f'T{i}'], 'private')
            check(f'r{r} T{i}: private snapshot after restart = account.get', sn is not None and sn['data'] == st[t.pid], (sn, st[t.pid]))
        kept = [it for it in rec.acked() if code(it['reply']) != 'UNAVAILABLE']
        res = await retry_all(url, kept, conns)
        diff = [(x['method'], x['params'], x['reply'], rr) for x, rr in res if body(rr) != body(x['reply'])]
        check(f'r{r}: {len(res)} answered requests retried -> the same replies', not diff, diff[:3])
        check(f'r{r}: ... applying nothing', await observe() == st)
        rest = [it for it in rec.items if it not in kept]
        res2 = await retry_all(url, rest, conns)
        bad = [(x['method'], x['params'], rr) for x, rr in res2 if code(rr) != 'OK']
        check(f'r{r}: {len(res2)} unanswered / UNAVAILABLE requests retried -> OK (applied once now, or the kept reply)', not bad, bad[:3])
        st3 = await observe()
        lv = dict((p, q) for p, q in st3['book']['bids'])
        check(f'r{r}: after retries every sent order rests once', set(lv) == set(sentpx) and all(q == 1 for q in lv.values()), (sorted(set(sentpx) - set(lv))))
        for i, t in enumerate(T):
            x = st3[t.pid]; tot = x['cash_available'] + x['cash_held']
            check(f'r{r} T{i}: after retries every sent funding applied exactly once', tot == total[t.pid] + sent[t.pid], (tot - total[t.pid], sent[t.pid]))
            mine = sum(p for p in lv if (p // 100 - 1) % 100 // 20 == i)
            nreg = len([1 for it in rec.items if it['method'] == 'auction.register' and it['who'].name == f'T{i}'])
            check(f'r{r} T{i}: holds exact after retries', x['cash_held'] == held[t.pid] + mine + DEP * nreg, (x['cash_held'], held[t.pid], mine, nreg))
            total[t.pid] = tot; held[t.pid] = x['cash_held']
        await close_all(conns.values())

run_crash('m03', scenario)
