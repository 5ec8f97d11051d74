# kill -9 while several clients send state-changing requests, at three moments, each followed by a restart on the same
# database (same --manual-clock start). PROTOCOL Envelope "A reply is sent only after the command's effects are
# durable"; Idempotency "The first reply ... is kept ... and returned again for any retry with the same params,
# applying nothing". Per round: an admin funds three traders with distinct powers of two (pipelined), four traders place
# resting limit buys at distinct prices and register for an auction, two bidders alternate on one English auction, a
# buyer pays settlements and the operator confirms them, plus requests refused by the rules (kept errors). After the
# restart: engine time is where it was; every answered success has its effect (decoded exactly: the applied funding
# bits, the book's levels, holds, bid count, settlement states); unanswered ones applied at most once; money conserved;
# bids and book levels already pushed to a subscriber survive; snapshots after subscribe equal the get methods; every answered request retried gives the same reply and applies
# nothing; every unanswered one retried applies once (or returns its first reply), so the end state is exact.
from mcrash import *

DEP = 100_000; START = 1_000_000; INC = 10_000; BASE = 1 << 40
ROUNDS = 3; KILL_AFTER = (8, 25, 45)  # answered replies before the kill

def oprice(r, i, j): return 100 * (r * 100 + i * 10 + j + 1)

async def total(a, pid):
    x = await a.call('account.get', participant_id=pid); return x['cash_available'] + x['cash_held'], x

async def scenario(srv):
    ctx = Ctx(srv.url); await ctx.admin(); a = ctx.adm
    O = await ctx.mk('enterprise')
    T = [await ctx.mk('individual', fund=BASE) for _ in range(4)]
    W = {'admin': ADMIN, 'O': who('O', O)}
    for i, t in enumerate(T): W[f'T{i}'] = who(f'T{i}', t)
    funded = {W['O'].pid: 0, **{t.pid: BASE for t in T}}
    M, RA, BA, SID = [], [], [], []
    for r in range(ROUNDS):
        asset = await new_asset(ctx, O)
        await O.call('market.create', market_id=f'M{r}', asset_id=asset, licence=LIC, tick=100, min_qty=1); M.append(f'M{r}')
        RA.append([(await new_auction(ctx, O, start=START, inc=INC, dep=DEP, closes=T0 + 30 * DAY))[1] for _ in range(4)])
        _, b = await new_auction(ctx, O, start=START, inc=INC, dep=DEP, closes=T0 + 30 * DAY); BA.append(b)
        for t in T[:2]: await t.call('auction.register', auction_id=b)
    sa = []
    for r in range(ROUNDS):
        for j in range(3):
            _, x = await new_auction(ctx, O, start=START, inc=INC, dep=DEP, closes=T0 + HOUR); sa.append(x)
    for x in sa:
        await T[2].call('auction.register', auction_id=x); await T[2].call('auction.bid', auction_id=x, amount=START)
    await ctx.adv_to(T0 + HOUR)
    for r in range(ROUNDS):
        SID.append([(await a.call('auction.get', auction_id=sa[r * 3 + j]))['settlement_id'] for j in range(3)])
    check('setup: 9 settlements awaiting payment', all(SID[r][j] for r in range(ROUNDS) for j in range(3)), SID)
    now0 = await ctx.now()
    held = {t.pid: (await a.call('account.get', participant_id=t.pid))['cash_held'] for t in T}
    fund_total = {p: v for p, v in funded.items()}
    await close_all(ctx.clients)

    for r in range(ROUNDS):
        print(f'  info: round {r}: kill -9 after {KILL_AFTER[r]} answers')
        url = srv.url
        rec = Rec()
        A1 = await login(url, ADMIN); A2 = await login(url, ADMIN)
        TC = [await login(url, W[f'T{i}']) for i in range(4)]
        sent_bits = {T[i].pid: 0 for i in (0, 1, 3)}
        async def fund_task():
            ts = []
            for j in range(8):
                for i in (0, 1, 3):
                    bit = 1 << (r * 8 + j)
                    ts.append(asyncio.ensure_future(rec.send(A1, ADMIN, 'account.fund',
                              {'participant_id': T[i].pid, 'amount': bit, 'request_id': f'f{r}-{i}-{j}'})))
                    await asyncio.sleep(0.002)
                    if A1.reader.done(): break
            await asyncio.gather(*ts, return_exceptions=True)
        async def trader_task(i):
            c, w = TC[i], W[f'T{i}']
            for j in range(6):
                rp = await rec.send(c, w, 'order.place', dict(market_id=M[r], side='buy', type='limit', price=oprice(r, i, j), qty=1,
                                                             tif='gtc', client_order_id=f'c{r}-{i}-{j}', request_id=f'o{r}-{i}-{j}'))
                if rp is None: return
                if j == 2:
                    if await rec.send(c, w, 'auction.register', dict(auction_id=RA[r][i], request_id=f'g{r}-{i}')) is None: return
                if j == 4 and i == 3:
                    if await rec.send(c, w, 'order.place', dict(market_id=M[r], side='buy', type='limit', price=100, qty=1, tif='gtc',
                                      client_order_id=f'c{r}-3-0', request_id=f'e{r}-dup'), expect='DUPLICATE') is None: return
                    if await rec.send(c, w, 'auction.bid', dict(auction_id=BA[r], amount=START, request_id=f'e{r}-nq'),
                                      expect='NOT_QUALIFIED') is None: return
                await asyncio.sleep(0.002)
        async def bid_task():
            for k in range(10):
                c, w = TC[k % 2], W[f'T{k % 2}']
                if await rec.send(c, w, 'auction.bid', dict(auction_id=BA[r], amount=START + k * INC, request_id=f'b{r}-{k}')) is None: return
        async def settle_task():
            for j in range(3):
                if await rec.send(TC[2], W['T2'], 'settlement.pay', dict(settlement_id=SID[r][j], request_id=f'p{r}-{j}')) is None: return
                if await rec.send(A2, ADMIN, 'settlement.confirm', dict(settlement_id=SID[r][j], registration_no=f'RG{r}{j}',
                                  request_id=f's{r}-{j}')) is None: return
        OB = await login(url, ADMIN); await OB.call('subscribe', channels=[f'auction.{BA[r]}', f'book.{M[r]}'])
        tasks = [asyncio.ensure_future(x) for x in (fund_task(), trader_task(0), trader_task(1), trader_task(2), trader_task(3), bid_task(), settle_task())]
        for _ in range(5000):
            if len(rec.acked()) >= KILL_AFTER[r] or all(t.done() for t in tasks): break
            await asyncio.sleep(0.0005)
        srv.proc.send_signal(signal.SIGKILL); srv.proc.wait()
        await asyncio.wait(tasks, timeout=35)
        seen_bids = max([p['data']['bids'] for p in OB.pushes if p['channel'] == f'auction.{BA[r]}' and 'bids' in p['data']] or [0])
        seen_lv = {ch[1] for p in OB.pushes if p['channel'] == f'book.{M[r]}' and p['type'] != 'snapshot' for ch in p['data'].get('changes', []) if ch[2] > 0}
        await close_all([A1, A2, OB, *TC])
        for it in rec.items:
            if it['method'] == 'account.fund': sent_bits[it['params']['participant_id']] |= it['params']['amount']
        acked = rec.acked(); un = rec.unacked()
        print(f'  info: round {r}: {len(rec.items)} sent, {len(acked)} answered, {len(un)} unanswered')
        bad = [i for i in acked if code(i['reply']) != i['expect']]
        check(f'r{r}: answers before the kill are the expected ones', not bad, [(i['method'], i['params'], i['reply']) for i in bad][:3])
        srv._start(f'm01-r{r}', T0, ())
        url = srv.url
        a = await login(url, ADMIN); conns = {'admin': a}
        for i in range(4): conns[f'T{i}'] = await login(url, W[f'T{i}'])
        n = (await a.call('time.now'))['now']
        check(f'r{r}: engine time after restart = before the kill', n == now0, (n - T0, now0 - T0))

        async def observe():
            st = {}
            for p in fund_total: st['acc' + p] = await a.call('account.get', participant_id=p)
            st['bid'] = await a.call('auction.get', auction_id=BA[r])
            for j in range(3): st[f'se{j}'] = await a.call('settlement.get', settlement_id=SID[r][j])
            sn = await snapshot_of(url, ADMIN, f'book.{M[r]}'); st['book'] = sn['data'] if sn else None
            return st
        st = await observe()
        # funding: each trader's total = what it had + the applied bits; answered bits applied, nothing unsent applied
        for i in (0, 1, 3):
            p = T[i].pid; tot = st['acc' + p]['cash_available'] + st['acc' + p]['cash_held']
            applied = tot - fund_total[p]
            ack_bits = sum(x['params']['amount'] for x in acked if x['method'] == 'account.fund' and x['params']['participant_id'] == p and ok(x))
            check(f'r{r} T{i}: every answered account.fund applied, nothing unsent or twice',
                  applied >= 0 and applied & ~sent_bits[p] == 0 and ack_bits & ~applied == 0, (bin(applied), bin(sent_bits[p]), bin(ack_bits)))
        # orders: distinct prices of qty 1
        sent_px = {x['params']['price']: x for x in rec.items if x['method'] == 'order.place' and x['expect'] == 'OK'}
        bids = st['book']['bids'] if st['book'] else None
        lv = {p: q for p, q in bids} if bids is not None else {}
        check(f'r{r}: book after restart has only sent orders, each once', bids is not None and all(q == 1 and p in sent_px for p, q in bids), bids)
        miss = [x['params']['client_order_id'] for x in acked if x['method'] == 'order.place' and ok(x) and x['params']['price'] not in lv]
        check(f'r{r}: every answered order.place rests in the book after restart', not miss, miss)
        print(f'  info: round {r}: pushes seen before the kill: {seen_bids} bids, {len(seen_lv)} book levels')
        lost = sorted(seen_lv - set(lv))
        check(f'r{r}: every order pushed to book subscribers before the kill survives', not lost, lost)
        # holds: orders of all rounds + deposits (this round's registration 0 or 1)
        for i in (0, 1, 3):
            p = T[i].pid
            mine = sum(pp for pp in lv if (pp // 100 - 1) % 100 // 10 == i)
            extra = st['acc' + p]['cash_held'] - held[p] - mine
            regd = [x for x in acked if x['method'] == 'auction.register' and x['who'].name == f'T{i}' and ok(x)]
            check(f'r{r} T{i}: cash_held = resting orders + deposits (answered registration held)',
                  extra in ((DEP,) if regd else (0, DEP)), (extra, held[p], mine, st['acc' + p]))
        # bids: a sequence, so the applied ones are a prefix
        nb = st['bid']['bids']; ab = len([x for x in acked if x['method'] == 'auction.bid' and x['expect'] == 'OK' and ok(x)])
        sb = len([x for x in rec.items if x['method'] == 'auction.bid' and x['expect'] == 'OK'])
        check(f'r{r}: bids after restart: all answered ones, at most the sent ones', ab <= nb <= sb, (ab, nb, sb))
        check(f'r{r}: every bid pushed to a subscriber before the kill survives', nb >= seen_bids, (seen_bids, nb))
        check(f'r{r}: price = the last applied bid', nb == 0 or st['bid']['price'] == START + (nb - 1) * INC, st['bid'])
        for x in acked:
            if x['method'] in ('settlement.pay', 'settlement.confirm') and ok(x):
                s = st['se%d' % int(x['params']['request_id'][-1])]['state']
                want = ('paid', 'confirmed') if x['method'] == 'settlement.pay' else ('confirmed',)
                check(f'r{r}: answered {x["method"]} {x["params"]["settlement_id"]} kept ({s})', s in want, s)
        # money conserved: all cash and holds = all funding that was applied
        allm = sum(st['acc' + p]['cash_available'] + st['acc' + p]['cash_held'] for p in fund_total)
        want = sum(fund_total.values()) + sum(st['acc' + T[i].pid]['cash_available'] + st['acc' + T[i].pid]['cash_held'] - fund_total[T[i].pid] for i in (0, 1, 3))
        check(f'r{r}: money conserved after restart (sum of cash + holds = funding applied)', allm == want, (allm, want))
        # snapshots after restart = get methods
        sn = await snapshot_of(url, ADMIN, f'auction.{BA[r]}')
        check(f'r{r}: auction.{BA[r]} snapshot after restart = auction.get', sn and sn['type'] == 'snapshot' and sn['data'] == st['bid'],
              (sn, st['bid']))
        for i in range(4):
            sn = await snapshot_of(url, W[f'T{i}'], 'private')
            check(f'r{r} T{i}: private snapshot after restart = account.get', sn and sn['type'] == 'snapshot' and sn['data'] == st['acc' + T[i].pid],
                  (sn and sn['data'], st['acc' + T[i].pid]))
        # every answered request again: the same reply, nothing applied
        res = await retry_all(url, acked, conns)
        diff = [(x['method'], x['params'], x['reply'], rr) for x, rr in res if body(rr) != body(x['reply'])]
        check(f'r{r}: {len(res)} answered requests retried with their request_id -> the same replies', not diff, diff[:3])
        st2 = await observe()
        check(f'r{r}: ... and nothing applied again', st2 == st, {k: (st[k], st2[k]) for k in st if st[k] != st2.get(k)})
        # every unanswered one: applied once now, or its first reply
        res2 = await retry_all(url, un, conns)
        bad = [(x['method'], x['params'], rr) for x, rr in res2 if code(rr) != x['expect']]
        check(f'r{r}: {len(res2)} unanswered requests retried -> their expected outcome', not bad, bad[:3])
        st3 = await observe()
        for i in (0, 1, 3):
            p = T[i].pid; tot = st3['acc' + p]['cash_available'] + st3['acc' + p]['cash_held']
            check(f'r{r} T{i}: after retries every sent funding applied exactly once', tot == fund_total[p] + sent_bits[p], (tot - fund_total[p], sent_bits[p]))
        lv = {p: q for p, q in st3['book']['bids']}
        check(f'r{r}: after retries every sent order rests once', set(lv) == set(sent_px) and all(q == 1 for q in lv.values()),
              (sorted(set(sent_px) - set(lv)), sorted(set(lv) - set(sent_px))))
        check(f'r{r}: after retries the auction has every sent bid once', st3['bid']['bids'] == sb and st3['bid']['price'] == START + (sb - 1) * INC,
              (st3['bid']['bids'], sb))
        ns = len([x for x in rec.items if x['method'] == 'settlement.confirm'])
        check(f'r{r}: after retries every sent confirm done', all(st3[f'se{j}']['state'] == 'confirmed' for j in range(ns)),
              [st3[f'se{j}']['state'] for j in range(3)])
        for i in (0, 1, 3):
            p = T[i].pid
            mine = sum(pp for pp in lv if (pp // 100 - 1) % 100 // 10 == i)
            regs = len([x for x in rec.items if x['method'] == 'auction.register' and x['who'].name == f'T{i}'])
            check(f'r{r} T{i}: holds exact after retries', st3['acc' + p]['cash_held'] == held[p] + mine + DEP * regs,
                  (st3['acc' + p]['cash_held'], held[p], mine, regs))
        allm = sum(st3['acc' + p]['cash_available'] + st3['acc' + p]['cash_held'] for p in fund_total)
        for i in (0, 1, 3): fund_total[T[i].pid] += sent_bits[T[i].pid]
        check(f'r{r}: money conserved after retries', allm == sum(fund_total.values()), (allm, sum(fund_total.values())))
        # all of them once more: the first replies again
        firsts = [(x, x['reply']) for x in acked] + [(x, rr) for x, rr in res2]
        res3 = await retry_all(url, [x for x, _ in firsts], conns)
        diff = [(x['method'], x['params']) for (x, r1), (_, r3) in zip(firsts, res3) if body(r1) != body(r3)]
        check(f'r{r}: a second retry of all {len(res3)} requests returns the kept replies', not diff, diff[:3])
        check(f'r{r}: ... applying nothing', await observe() == st3)
        for i in (0, 1, 3): held[T[i].pid] = st3['acc' + T[i].pid]['cash_held']
        await close_all(conns.values())

run_crash('m01', scenario)
