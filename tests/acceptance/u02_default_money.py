# DOMAIN rule 7 (winner default) in fen: deposit forfeited, applied to costs, then the shortfall of a lower re-auction,
# then the debt; no liability beyond the deposit by default; the pledgee's payout capped at the claim (surplus to the
# pledgor); rule 17 fund share of what is still short; the defaulter barred from every later auction of that case
# (re-run, round 2, sell-off) but not elsewhere; payment at due_at - 1 vs due_at; money conserved.
from common import *
async def accts(ctx, cs): return {c.pid: await ctx.adm.call('account.get', participant_id=c.pid) for c in cs}
def total(acc): return sum(v['cash_available'] + v['cash_held'] for v in acc.values())
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    F = 50_000_000; FF = 10_000_000
    fund = await ctx.mk('risk_fund', fund=FF)
    X = await ctx.mk('individual', fund=F); Y = await ctx.mk('individual', fund=F); Z = await ctx.mk('enterprise', fund=F)
    everyone = [bank, own, fund, X, Y, Z]; FUNDED = 3 * F + FF
    V = 10_000_000   # start 7,000,000; deposit 700,000; increment 140,000
    # case 1: claim 8,000,000 (7,700,000 + costs 300,000), fund 50%
    _, c1, a1 = await new_case(ctx, bank, own, V, loan=7_700_000, extra_pledge={'costs': 300_000},
                               plan={'risk_fund': {'participant_id': fund.pid, 'share_bp': 5000}})
    # case 2: claim 500,000 < deposit
    _, c2, a2 = await new_case(ctx, bank, own, V, loan=400_000, extra_pledge={'costs': 100_000})
    # case 3: default, then nobody: re-run unsold -> round 2 -> sell-off
    _, c3, a3 = await new_case(ctx, bank, own, V, loan=1_000_000)
    g = await a.call('auction.get', auction_id=a1)
    for c, aid in ((X, a1), (Y, a1), (Z, a2), (Z, a3)): await c.call('auction.register', auction_id=aid)
    await ctx.adv_to(g['opens_at'])
    await X.call('auction.bid', auction_id=a1, amount=7_000_000)
    await Y.call('auction.bid', auction_id=a1, amount=7_140_000)
    await X.call('auction.bid', auction_id=a1, amount=7_280_000)
    await Z.call('auction.bid', auction_id=a2, amount=7_000_000)
    await Z.call('auction.bid', auction_id=a3, amount=7_000_000)
    await ctx.adv_to(g['closes_at'])
    s1 = (await a.call('auction.get', auction_id=a1))['settlement_id']; s2 = (await a.call('auction.get', auction_id=a2))['settlement_id']
    s3 = (await a.call('auction.get', auction_id=a3))['settlement_id']
    st = await a.call('settlement.get', settlement_id=s1)
    due = st['due_at']
    check('due_at = close + 10 d', due == g['closes_at'] + 10 * DAY, due - g['closes_at'])
    acc = await accts(ctx, everyone)
    check('at close: Y (loser) released; X holds 700,000; Z holds 1,400,000',
          (acc[Y.pid]['cash_held'], acc[X.pid]['cash_held'], acc[Z.pid]['cash_held']) == (0, 700_000, 1_400_000), acc)
    await ctx.adv_to(due - 1)
    st = await a.call('settlement.get', settlement_id=s1)
    check('due_at - 1: still awaiting_payment', st['state'] == 'awaiting_payment', st['state'])
    await ctx.adv(1)
    e = await Z.errm('settlement.pay', settlement_id=s2)
    check('pay at exactly due_at -> INVALID_STATE (already defaulted)', e[0] == 'INVALID_STATE', e)
    st = await a.call('settlement.get', settlement_id=s1)
    check('settlement defaulted at due_at', st['state'] == 'defaulted', st['state'])
    acc = await accts(ctx, everyone)
    check('defaulter X: deposit forfeited, nothing more (available F - 700,000, held 0)', (acc[X.pid]['cash_available'], acc[X.pid]['cash_held']) == (F - 700_000, 0), acc[X.pid])
    check('defaulter Z: two deposits forfeited', (acc[Z.pid]['cash_available'], acc[Z.pid]['cash_held']) == (F - 1_400_000, 0), acc[Z.pid])
    check('conserved after defaults', total(acc) == FUNDED, total(acc))
    print('  info: bank / pledgor right after the defaults:', acc[bank.pid]['cash_available'], acc[own.pid]['cash_available'])
    check('bank never above its claims in total so far (<= 8,000,000 + 500,000 + 1,000,000)', acc[bank.pid]['cash_available'] <= 9_500_000, acc[bank.pid])
    rr = {}
    for c in (c1, c2, c3):
        d = await bank.call('disposal.get', case_id=c)
        rr[c] = d['rounds'][-1]['auction_id']
        check(f'{c}: a re-run auction after the default, defaults = 1', rr[c] not in (a1, a2, a3) and d.get('defaults') == 1, (d['rounds'], d.get('defaults')))
    g1 = await a.call('auction.get', auction_id=rr[c1])
    check('re-run: same start 7,000,000, opens due_at + 15 d', g1['start_price'] == 7_000_000 and g1['opens_at'] == due + 15 * DAY, (g1['start_price'], (g1['opens_at'] - due) / DAY))
    e = await X.err('auction.register', auction_id=rr[c1]); check('X barred from the re-run (NOT_QUALIFIED)', e == 'NOT_QUALIFIED', e)
    e = await Z.err('auction.register', auction_id=rr[c3]); check('Z barred from case 3 re-run', e == 'NOT_QUALIFIED', e)
    e = await X.errm('auction.register', auction_id=rr[c3])
    check('X (defaulted in case 1 only) may register in case 3', e[0] == 'OK', e)
    await Y.call('auction.register', auction_id=rr[c1]); await Y.call('auction.register', auction_id=rr[c2])
    await ctx.adv_to(g1['opens_at'])
    await Y.call('auction.bid', auction_id=rr[c1], amount=7_000_000); await Y.call('auction.bid', auction_id=rr[c2], amount=7_000_000)
    await ctx.adv_to(g1['closes_at'])
    for c in (c1, c2):
        sid = (await a.call('auction.get', auction_id=rr[c]))['settlement_id']
        await Y.call('settlement.pay', settlement_id=sid)
        before = await accts(ctx, everyone)
        await a.call('settlement.confirm', settlement_id=sid, registration_no='R' + c)
        acc = await accts(ctx, everyone)
        dl = lambda p: acc[p.pid]['cash_available'] - before[p.pid]['cash_available']
        print(f'  info: {c} at confirm: bank +{dl(bank)}, pledgor +{dl(own)}, fund {dl(fund)}')
        d = await bank.call('disposal.get', case_id=c)
        if c == c1:
            rec = d['recovery']
            check('case 1: forfeited 700,000, hammer 7,000,000, net to bank 7,700,000 (re-auction 7,000,000 + deposit)',
                  (rec.get('forfeited'), rec.get('hammer'), rec.get('net_to_bank')) == (700_000, 7_000_000, 7_700_000), rec)
            check('case 1: fund pays 50% of the remaining shortfall 300,000 = 150,000', rec.get('fund_share') == 150_000 and acc[fund.pid]['cash_available'] == FF - 150_000,
                  (rec, acc[fund.pid]))
            check('case 1: recovery rate (7,700,000 + 150,000) / 8,000,000', abs(rec.get('recovery_rate', -1) - 7_850_000 / 8_000_000) < 1e-9, rec)
        else:
            rec = d['recovery']
            check('case 2: pledgee payout capped at claim 500,000 over deposit + sale', rec.get('net_to_bank') == 500_000, rec)
        check(f'{c} closed sold', d['state'] == 'closed' and d['outcome'] == 'sold', (d['state'], d['outcome']))
    acc = await accts(ctx, everyone)
    check('bank total = 7,700,000 + 150,000 + 500,000 + case 3 forfeit 700,000', acc[bank.pid]['cash_available'] == 9_050_000, acc[bank.pid])
    check('pledgor total = case 2 surplus 7,000,000 + 700,000 - 500,000 = 7,200,000', acc[own.pid]['cash_available'] == 7_200_000, acc[own.pid])
    check('defaulter X not charged the shortfall (liability none): F - 700,000', acc[X.pid]['cash_available'] + acc[X.pid]['cash_held'] == F - 700_000, acc[X.pid])
    check('conserved after re-auctions (fund share moves between accounts only)', total(acc) == FUNDED, total(acc))
    # case 3: re-run unsold -> round 2 -> sell-off; Z barred throughout; X (registered in re-run, no bid) released
    g3 = await a.call('auction.get', auction_id=rr[c3])
    await ctx.adv_to(g3['closes_at'])
    check('X deposit released at the unsold re-run close', (await X.call('account.get'))['cash_held'] == 0)
    d = await bank.call('disposal.get', case_id=c3)
    r2 = d['rounds'][-1]
    g32 = await a.call('auction.get', auction_id=r2['auction_id'])
    check('case 3 round 2: start 5,600,000, opens re-run close + 15 d', g32['start_price'] == 5_600_000 and g32['opens_at'] == g3['closes_at'] + 15 * DAY,
          (g32['start_price'], (g32['opens_at'] - g3['closes_at']) / DAY, d['rounds']))
    e = await Z.err('auction.register', auction_id=r2['auction_id']); check('Z barred from round 2 of the case', e == 'NOT_QUALIFIED', e)
    await ctx.adv_to(g32['closes_at'])
    d = await bank.call('disposal.get', case_id=c3)
    so = d['rounds'][-1]
    check('case 3 in sell_off', d['state'] == 'sell_off' and so['kind'] == 'sell_off', (d['state'], so))
    e = await Z.err('auction.register', auction_id=so['auction_id']); check('Z barred from the sell-off of the case', e == 'NOT_QUALIFIED', e)
    _, other = await new_auction(ctx, own)
    e = await Z.errm('auction.register', auction_id=other); check('Z not barred from other auctions', e[0] == 'OK', e)
    rep = await bank.call('report.disposals')
    row = {r['case_id']: r for r in rep['rows']}
    check('report defaults per case 1/1/1', [row[c].get('defaults') for c in (c1, c2, c3)] == [1, 1, 1], [row[c].get('defaults') for c in (c1, c2, c3)])
    check('report case 1 net 7,700,000 fund 150,000', (row[c1].get('net_to_bank'), row[c1].get('fund_share')) == (7_700_000, 150_000), row[c1])
    # payment at due_at - 1 is in time
    _, v = await new_auction(ctx, own, payment_ms=2 * DAY)
    await Y.call('auction.register', auction_id=v); await Y.call('auction.bid', auction_id=v, amount=1_000_000)
    await ctx.adv(DAY)
    sv = await Y.call('settlement.get', settlement_id=(await a.call('auction.get', auction_id=v))['settlement_id'])
    await ctx.adv_to(sv['due_at'] - 1)
    e = await Y.errm('settlement.pay', settlement_id=sv['settlement_id'])
    check('pay at due_at - 1 -> paid', e[0] == 'OK' and e[1]['state'] == 'paid', e)
    await ctx.adv(DAY)
    sv = await Y.call('settlement.get', settlement_id=sv['settlement_id'])
    check('a paid settlement does not default at due_at', sv['state'] == 'paid', sv['state'])
run('u02', sc)
