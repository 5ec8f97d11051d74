# Hostile sequences (eighth audit): settlement.pay / confirm / fail in every state and twice, by the buyer, the
# operator and a stranger; settlement.fail of a disposal round then the case; register/bid after a default; a restart
# (kill -9) at the end must read back the same settlements, auctions, cases and accounts.
# Contract: "A rejected request changes nothing"; the error codes are the listed ones; "A reply is sent only after the
# command's effects are durable".
from common import *
import signal

async def scenario(ctx):
    a = ctx.adm

async def ops(ctx, tag, sid, buyer, stranger, people, auctions, cases):
    a = ctx.adm
    for who, m, p in ((buyer, 'settlement.pay', {}), (buyer, 'settlement.pay', {}), (stranger, 'settlement.pay', {}),
                      (a, 'settlement.confirm', {'registration_no': 'R-' + tag}), (a, 'settlement.confirm', {'registration_no': 'R2-' + tag}),
                      (a, 'settlement.fail', {'reason': 'x'}), (a, 'settlement.fail', {'reason': 'y'}), (buyer, 'settlement.pay', {})):
        before = await snap(ctx, people, auctions, cases, sids=[sid])
        e = await who.errm(m, settlement_id=sid, **p)
        code_ok(f'{tag}: {m} by {"buyer" if who is buyer else "admin" if who is a else "stranger"} in state {before["se"+sid]["state"]}', e)
        if e[0] != 'OK':
            after = await snap(ctx, people, auctions, cases, sids=[sid])
            diff = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            check(f'{tag}: {m} refused ({e[0]}) in state {before["se"+sid]["state"]}, nothing changed', not diff, diff)
        else:
            print(f'  info: {tag}: {m} in {before["se"+sid]["state"]} -> {e[1]["state"]}')

async def phase1(url, st):
    ctx = Ctx(url); await ctx.admin(); a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise', fund=1_000_000)
    X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('individual', fund=50_000_000); Z = await ctx.mk('individual', fund=50_000_000)
    people = [bank, own, X, Y, Z]
    for n, c in (('bank', bank), ('own', own), ('X', X), ('Y', Y), ('Z', Z)): st[n] = (c.key, c.secret, c.pid)
    # 1. a voluntary auction: sold to X, then every op in every state
    _, au = await new_auction(ctx, own, payment_ms=DAY)
    await X.call('auction.register', auction_id=au); await X.call('auction.bid', auction_id=au, amount=1_000_000)
    await ctx.adv(DAY)
    sid = (await a.call('auction.get', auction_id=au))['settlement_id']
    await ops(ctx, 'voluntary', sid, X, Y, people, [au], [])
    # 2. a disposal case: round 1 sold to Y, Y pays, operator fails the settlement; then what does the case do?
    V = 10_000_000
    plan = dict(notice_ms=MIN, bidding_ms=DAY, renotice_ms=MIN, payment_ms=DAY)
    _, k, r1 = await new_case(ctx, bank, own, V, plan=plan)
    await ctx.adv(MIN)
    await Y.call('auction.register', auction_id=r1); await Z.call('auction.register', auction_id=r1)
    await Y.call('auction.bid', auction_id=r1, amount=7_000_000)
    await ctx.adv(DAY)
    g = await a.call('auction.get', auction_id=r1); sid2 = g['settlement_id']
    await Y.call('settlement.pay', settlement_id=sid2)
    e = await a.errm('settlement.fail', settlement_id=sid2, reason='registration refused'); code_ok('fail a paid case settlement', e)
    accY = await a.call('account.get', participant_id=Y.pid)
    print('  info: case settlement failed ->', e[0], 'Y', accY['cash_available'], accY['cash_held'])
    check('after settlement.fail of a paid settlement, Y\'s escrow is not left held (cash_held 0)', accY['cash_held'] == 0, accY)
    d = await bank.call('disposal.get', case_id=k); print('  info: case after fail', d['state'], [(r['round'], r['state']) for r in d['rounds']])
    await ops(ctx, 'case-failed', sid2, Y, Z, people, [r1], [k])
    await ctx.adv(2 * MIN)
    d = await bank.call('disposal.get', case_id=k); print('  info: case after fail + 2 min', d['state'], [(r['round'], r['kind'], r['state']) for r in d['rounds']])
    # 3. a round-1 default: Z wins a second case and does not pay; Z registers / bids the re-run; Y bids it
    _, k3, r3 = await new_case(ctx, bank, own, V, plan=plan)
    await ctx.adv(MIN)
    await Z.call('auction.register', auction_id=r3); await Z.call('auction.bid', auction_id=r3, amount=7_000_000)
    await ctx.adv(DAY)
    sid3 = (await a.call('auction.get', auction_id=r3))['settlement_id']
    await ctx.adv(DAY)
    s3 = await a.call('settlement.get', settlement_id=sid3); check('Z defaulted', s3['state'] == 'defaulted', s3['state'])
    await ops(ctx, 'defaulted', sid3, Z, Y, people, [r3], [k3])
    e = await Z.errm('auction.bid', auction_id=r3, amount=7_070_000); code_ok('defaulter bids the closed round again', e)
    d = await bank.call('disposal.get', case_id=k3); rr = d['rounds'][-1]['auction_id']
    print('  info: case after default', d['state'], [(r['round'], r['state']) for r in d['rounds']])
    await ctx.adv(MIN)
    e = await refused(ctx, 'defaulter registers for the re-run', Z, 'auction.register', people, [rr], [k3], auction_id=rr)
    check('defaulter barred: NOT_QUALIFIED', e[0] == 'NOT_QUALIFIED', e)
    e = await refused(ctx, 'defaulter bids the re-run unregistered', Z, 'auction.bid', people, [rr], [k3], auction_id=rr, amount=7_000_000)
    st.update(sids=[sid, sid2, sid3], aus=[au, r1, r3, rr], cases=[k, k3])
    st['snap'] = await snap(ctx, people, st['aus'], st['cases'], sids=st['sids']); st['now'] = await ctx.now()
    for c in ctx.clients:
        try: await c.close()
        except Exception: pass

async def phase2(url, st):
    ctx = Ctx(url); await ctx.admin()
    people = []
    for n in ('bank', 'own', 'X', 'Y', 'Z'):
        c = await Client.connect(url); await c.login(*st[n][:2]); c.pid = st[n][2]; ctx.clients.append(c); people.append(c)
    check('engine time the same after restart', await ctx.now() == st['now'])
    s = await snap(ctx, people, st['aus'], st['cases'], sids=st['sids'])
    diff = {k: (st['snap'][k], s[k]) for k in s if st['snap'][k] != s[k]}
    check('every settlement, auction, case and account reads back the same after kill -9 + restart', not diff, diff)
    await ctx.adv(DAY)
    for c in ctx.clients:
        try: await c.close()
        except Exception: pass

def main():
    os.makedirs(LOGS, exist_ok=True)
    srv = Server('y02', T0); st = {}
    try:
        asyncio.run(phase1(srv.url, st))
        check('process alive before restart', srv.proc.poll() is None)
        log = open(srv.log_path).read(); check('log (1) has no "assertion failed"', 'assertion failed' not in log)
        srv.proc.send_signal(signal.SIGKILL); srv.proc.wait()
        srv._start('y02b', T0, ())
        asyncio.run(phase2(srv.url, st))
    except Exception as e:
        import traceback; traceback.print_exc(); RESULTS.append(('scenario raised', False, repr(e)))
    server_sound(srv)
    srv.stop()
    fails = [r for r in RESULTS if not r[1]]
    print('FAIL' if fails else 'PASS'); sys.exit(1 if fails else 0)
main()
