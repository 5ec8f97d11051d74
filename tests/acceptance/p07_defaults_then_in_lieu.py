# DOMAIN rules 7, 10, 11 and report: a winner default in round 2 and another in the sell-off, then the re-run sell-off
# unsold -> in lieu. Each forfeited deposit (10 % of 5,600,000) goes to the bank at the default; the round-2 re-run opens
# renotice_ms after due_at with the same start, its unsold close opens the sell-off at once; the sell-off default re-runs
# the sell-off (same price) after renotice_ms; each defaulter is barred (NOT_QUALIFIED) from every later auction of the
# case. In lieu: net_to_bank = forfeits + the sell-off price up to what remains of the claim (docs/protocol.md
# report.disposals), hammer 0, no cash for the title, the fund pays nothing; report row: defaults 2, forfeited,
# recovery_rate 1.0, days_to_sale null; disposal.<case> pushes default x2 with reasons.
from common import *
PLAN = {'notice_ms': DAY, 'bidding_ms': DAY, 'renotice_ms': DAY, 'sell_off_ms': 10 * DAY, 'payment_ms': 2 * DAY}
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    fund = await ctx.mk('risk_fund', fund=5_000_000)
    F = 20_000_000
    X = await ctx.mk('individual', fund=F); Y = await ctx.mk('individual', fund=F); Z = await ctx.mk('individual', fund=F)
    V = 10_000_000
    asset, cid, _ = await new_case(ctx, bank, own, V, loan=6_000_000, extra_pledge={'interest': 100_000},
                                   plan=dict(PLAN, risk_fund={'participant_id': fund.pid, 'share_bp': 5000}))
    await bank.call('subscribe', channels=[f'disposal.{cid}'])
    await ctx.adv_to(T0 + 2 * DAY)
    d = await bank.call('disposal.get', case_id=cid)
    r2 = d['rounds'][-1]['auction_id']
    await X.call('auction.register', auction_id=r2)
    await ctx.adv_to(T0 + 3 * DAY); await X.call('auction.bid', auction_id=r2, amount=5_600_000)
    await ctx.adv_to(T0 + 4 * DAY)
    g = await a.call('auction.get', auction_id=r2)
    check('round 2 sold to X at 5,600,000, due T0+6d', g['state'] == 'sold' and g['price'] == 5_600_000, (g['state'], g['price']))
    await ctx.adv_to(T0 + 6 * DAY)
    d = await bank.call('disposal.get', case_id=cid)
    check('after the round-2 default: state round_2, defaults 1, forfeited 560,000, net_to_bank 560,000',
          (d['state'], d['defaults'], d['recovery']['forfeited'], d['recovery']['net_to_bank']) == ('round_2', 1, 560_000, 560_000), (d['state'], d['defaults'], d['recovery']))
    check('bank holds the forfeit 560,000', (await bank.call('account.get'))['cash_available'] == 560_000, None)
    rr = d['rounds'][-1]
    g = await a.call('auction.get', auction_id=rr['auction_id'])
    check('round-2 re-run: round 2, same start, opens T0+7d, closes T0+8d', (rr['round'], rr['kind'], g['start_price'], g['opens_at'], g['closes_at'])
          == (2, 'auction', 5_600_000, T0 + 7 * DAY, T0 + 8 * DAY), (rr, g['opens_at'] - T0, g['closes_at'] - T0))
    check('X barred from the round-2 re-run', await X.err('auction.register', auction_id=rr['auction_id']) == 'NOT_QUALIFIED')
    await ctx.adv_to(T0 + 8 * DAY)
    d = await bank.call('disposal.get', case_id=cid)
    so = d['rounds'][-1]
    g = await a.call('auction.get', auction_id=so['auction_id'])
    check('re-run unsold -> sell-off at once: 5,600,000, T0+8d .. T0+18d', (d['state'], so['kind'], g['start_price'], g['opens_at'], g['closes_at'])
          == ('sell_off', 'sell_off', 5_600_000, T0 + 8 * DAY, T0 + 18 * DAY), (d['state'], so, g['opens_at'] - T0, g['closes_at'] - T0))
    check('X barred from the sell-off', await X.err('auction.register', auction_id=so['auction_id']) == 'NOT_QUALIFIED')
    await Y.call('auction.register', auction_id=so['auction_id'])
    check('sell-off deposit 560,000 held from Y', (await Y.call('account.get'))['cash_held'] == 560_000, None)
    await ctx.adv_to(T0 + 9 * DAY); r = await Y.call('auction.bid', auction_id=so['auction_id'], amount=5_600_000)
    check('sell-off first bid: close T0+10d', r['closes_at'] == T0 + 10 * DAY, (r['closes_at'] - T0) / DAY)
    await ctx.adv_to(T0 + 12 * DAY)
    d = await bank.call('disposal.get', case_id=cid)
    check('after the sell-off default: state sell_off, defaults 2, forfeited 1,120,000, net 1,120,000, hammer 0',
          (d['state'], d['defaults'], d['recovery']['forfeited'], d['recovery']['net_to_bank'], d['recovery']['hammer'])
          == ('sell_off', 2, 1_120_000, 1_120_000, 0), (d['state'], d['defaults'], d['recovery']))
    rr = d['rounds'][-1]
    g = await a.call('auction.get', auction_id=rr['auction_id'])
    check('sell-off re-run: kind sell_off, 5,600,000, opens due_at + renotice (T0+13d), runs sell_off_ms (to T0+23d)',
          (rr['kind'], g['start_price'], g['opens_at'], g['closes_at']) == ('sell_off', 5_600_000, T0 + 13 * DAY, T0 + 23 * DAY), (rr, g['opens_at'] - T0, g['closes_at'] - T0))
    for n, c in (('X', X), ('Y', Y)):
        check(f'{n} barred from the sell-off re-run', await c.err('auction.register', auction_id=rr['auction_id']) == 'NOT_QUALIFIED')
    check('Z (never defaulted) may register', await Z.err('auction.register', auction_id=rr['auction_id']) == 'OK')
    await ctx.adv_to(T0 + 24 * DAY)
    d = await bank.call('disposal.get', case_id=cid)
    rec = d['recovery']
    check('closed in_lieu', (d['state'], d['outcome']) == ('closed', 'in_lieu'), (d['state'], d['outcome']))
    check('in lieu: net_to_bank = 1,120,000 + min(5,600,000, 6,100,000 - 1,120,000) = 6,100,000; hammer 0; fund 0; rate 1.0',
          (rec['net_to_bank'], rec['hammer'], rec['fund_share']) == (6_100_000, 0, 0) and abs(rec['recovery_rate'] - 1.0) < 1e-9, rec)
    check('cash: bank 1,120,000, fund 5,000,000, X and Y each lost 560,000, Z whole',
          [(await c.call('account.get'))['cash_available'] for c in (bank, fund, X, Y, Z)] == [1_120_000, 5_000_000, F - 560_000, F - 560_000, F],
          [(await c.call('account.get'))['cash_available'] for c in (bank, fund, X, Y, Z)])
    check('bank holds the title', (pos(await bank.call('account.get'), asset) or {}).get('units') == 1, None)
    ps = [p for p in bank.pushes if p['channel'] == f'disposal.{cid}']
    seqs = [p['seq'] for p in ps]
    check('pushes gap-free', ps and seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs)
    dp = [p for p in ps if p['type'] == 'default']
    print('  info: pushes', [(p['type'], (p['ts'] - T0) / DAY, p['data'].get('reason')) for p in ps[1:]])
    check('two default pushes at due_at T0+6d and T0+12d, reasons name the forfeit', [p['ts'] for p in dp] == [T0 + 6 * DAY, T0 + 12 * DAY]
          and all('560000' in p['data'].get('reason', '') for p in dp), [(p['ts'] - T0, p['data']) for p in dp])
    check('no risk_share push (in lieu)', not [p for p in ps if p['type'] == 'risk_share'], [p['type'] for p in ps])
    row = (await a.call('report.disposals'))['rows'][0]
    check('report: in_lieu, defaults 2, forfeited 1,120,000, net 6,100,000, hammer 0, fund 0, rate 1.0, days_to_sale null',
          (row['outcome'], row['defaults'], row['forfeited'], row['net_to_bank'], row['hammer'], row['fund_share'], row['days_to_sale'])
          == ('in_lieu', 2, 1_120_000, 6_100_000, 0, 0, None) and abs(row['recovery_rate'] - 1.0) < 1e-9, row)
run('p07', sc)
