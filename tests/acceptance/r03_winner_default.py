# Winner default: settlement defaulted at due_at, deposit forfeited, defaulter barred (NOT_QUALIFIED), round re-run same start after renotice
from common import *
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    A = await ctx.mk('enterprise', fund=50_000_000); B = await ctx.mk('individual', fund=50_000_000)
    V = 10_000_000
    asset, cid, aid = await new_case(ctx, bank, own, V, loan=6_000_000)
    g = await a.call('auction.get', auction_id=aid); start, inc, dep = g['start_price'], g['increment'], g['deposit']
    await A.call('auction.register', auction_id=aid); await B.call('auction.register', auction_id=aid)
    await ctx.adv_to(g['opens_at'])
    await A.call('auction.bid', auction_id=aid, amount=start)
    await B.call('auction.bid', auction_id=aid, amount=start + inc)
    e = await B.err('auction.bid', auction_id=aid, amount=start + 2 * inc)
    check('leader raising own bid -> ALREADY_LEADING', e == 'ALREADY_LEADING', e)
    r = await A.call('auction.bid', auction_id=aid, amount=start + 2 * inc)
    price = start + 2 * inc
    await ctx.adv_to(g['closes_at'])
    g = await a.call('auction.get', auction_id=aid)
    check('sold to A', g['state'] == 'sold' and g['price'] == price, g)
    sid = g['settlement_id']
    st = await A.call('settlement.get', settlement_id=sid)
    check('settlement awaiting_payment, buyer = participant id', st['state'] == 'awaiting_payment' and st['buyer'] == A.pid, st)
    e = await B.err('settlement.get', settlement_id=sid)
    check('other trader settlement.get -> NOT_FOUND', e == 'NOT_FOUND', e)
    accB = await B.call('account.get')
    check('loser deposit released at close', accB['cash_held'] == 0, accB)
    await ctx.adv_to(st['due_at'] - 1)
    st = await a.call('settlement.get', settlement_id=sid)
    check('not defaulted 1ms before due_at', st['state'] == 'awaiting_payment', st['state'])
    await ctx.adv(1)   # reach due_at exactly
    st = await a.call('settlement.get', settlement_id=sid)
    check('settlement defaulted', st['state'] == 'defaulted', st['state'])
    accA = await A.call('account.get')
    check('A deposit forfeited', accA['cash_held'] == 0 and accA['cash_available'] == 50_000_000 - dep, accA)
    d = await bank.call('disposal.get', case_id=cid)
    print(json.dumps(d['rounds']), d['state'], d['recovery'], d.get('defaults'))
    rerun = d['rounds'][-1]
    check('a new round auction exists', rerun['auction_id'] != aid, d['rounds'])
    g2 = await a.call('auction.get', auction_id=rerun['auction_id'])
    check('re-run same start', g2['start_price'] == start, g2['start_price'])
    check('re-run opens at due_at + renotice (15d)', g2['opens_at'] == st['due_at'] + 15 * DAY, (g2['opens_at'] - st['due_at']) / DAY)
    check('re-run purpose disposal', g2['purpose'] == 'disposal', g2['purpose'])
    e = await A.err('auction.register', auction_id=rerun['auction_id'])
    check('defaulter barred: NOT_QUALIFIED', e == 'NOT_QUALIFIED', e)
    e = await B.err('auction.register', auction_id=rerun['auction_id'])
    check('other bidder may register', e == 'OK', e)
    check('case counts one default', d.get('defaults') == 1, d.get('defaults'))
    rep = await bank.call('report.disposals')
    row = [r for r in rep['rows'] if r['case_id'] == cid][0]
    check('report row shows the buyer default', row.get('defaults') == 1, row)
    # re-run: B buys at start, pays, confirm
    await ctx.adv_to(g2['opens_at'])
    await B.call('auction.bid', auction_id=rerun['auction_id'], amount=start)
    await ctx.adv_to(g2['closes_at'])
    g2 = await a.call('auction.get', auction_id=rerun['auction_id'])
    st2 = await B.call('settlement.pay', settlement_id=g2['settlement_id'])
    check('pay -> paid', st2['state'] == 'paid', st2)
    accB = await B.call('account.get')
    check('after pay: cash_held = price (deposit counts)', accB['cash_held'] == start and accB['cash_available'] == 50_000_000 - start, accB)
    await a.call('settlement.confirm', settlement_id=g2['settlement_id'], registration_no='X1')
    d = await bank.call('disposal.get', case_id=cid)
    check('closed sold', d['state'] == 'closed' and d['outcome'] == 'sold', (d['state'], d['outcome']))
    accBank = await bank.call('account.get'); accOwn = await own.call('account.get')
    print('bank', accBank, 'own', accOwn, d['recovery'])
    total = start + dep   # proceeds + forfeited deposit
    check('claim 6M paid to bank (capped)', accBank['cash_available'] == 6_000_000, accBank)
    check('money conserved: bank + pledgor = price + forfeited deposit', accBank['cash_available'] + accOwn['cash_available'] == total,
          (accBank['cash_available'] + accOwn['cash_available'], total))
    check('B owns title', pos(await B.call('account.get'), asset) is not None)
run('r03', sc)
