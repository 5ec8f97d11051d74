# Sell-off: opens at round-2 close for 60 d at round-2 start; first bid moves close to bid+24h; soft close after; late first bid
from common import *
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    b1 = await ctx.mk('enterprise', fund=50_000_000); b2 = await ctx.mk('individual', fund=50_000_000)
    V = 10_000_000
    asset1, c1, _ = await new_case(ctx, bank, own, V)
    asset2, c2, _ = await new_case(ctx, bank, own, V)
    await ctx.adv_to(T0 + 47 * DAY)
    d = await bank.call('disposal.get', case_id=c1)
    check('case in sell_off at r2 close', d['state'] == 'sell_off', d['state'])
    so = d['rounds'][-1]; so_id = so['auction_id']
    so2 = (await bank.call('disposal.get', case_id=c2))['rounds'][-1]['auction_id']
    g = await a.call('auction.get', auction_id=so_id)
    check('sell-off open', g['state'] == 'open', g['state'])
    start = g['start_price']
    check('sell-off start 56000 CNY', start == 5_600_000, start)
    check('sell-off closes_at = +60d', g['closes_at'] == T0 + 107 * DAY, g['closes_at'] - T0)
    r1 = await b1.call('auction.register', auction_id=so_id); r2 = await b2.call('auction.register', auction_id=so_id)
    acc = await b1.call('account.get')
    check('deposit 10% of sell-off start held', acc['cash_held'] == 560_000, acc)
    await ctx.adv_to(T0 + 50 * DAY)
    e = await b1.errm('auction.bid', auction_id=so_id, amount=start + g['increment'])
    print('first bid above fixed price:', e)
    r = await b1.call('auction.bid', auction_id=so_id, amount=start) if e[0] != 'OK' else e[1]
    t1 = r['ts']
    check('first bid moves close to bid ts + 24h', r['closes_at'] == t1 + DAY, (r['closes_at'] - t1))
    g = await a.call('auction.get', auction_id=so_id)
    check('auction.get closes_at moved', g['closes_at'] == t1 + DAY, g['closes_at'] - t1)
    ca = g['closes_at']
    await ctx.adv_to(ca - 3 * MIN)
    r = await b2.call('auction.bid', auction_id=so_id, amount=g['min_next_bid'])
    check('soft close after first bid: close = ts + 5min', r['closes_at'] == r['ts'] + 5 * MIN, r['closes_at'] - r['ts'])
    ca = r['closes_at']
    await ctx.adv_to(ca)
    e = await b1.err('auction.bid', auction_id=so_id, amount=r['min_next_bid'])
    check('bid at closes_at -> AUCTION_CLOSED', e == 'AUCTION_CLOSED', e)
    g = await a.call('auction.get', auction_id=so_id)
    check('sell-off sold', g['state'] == 'sold', g['state'])
    acc1 = await b1.call('account.get'); acc2 = await b2.call('account.get')
    check('loser deposit released at close', acc1['cash_held'] == 0 and acc1['cash_available'] == 50_000_000, acc1)
    check('winner deposit still held', acc2['cash_held'] == 560_000, acc2)
    d = await bank.call('disposal.get', case_id=c1)
    check('case -> settlement', d['state'] == 'settlement', d['state'])
    st = await b2.call('settlement.get', settlement_id=g['settlement_id'])
    check('due_at = close + 10d', st['due_at'] == ca + 10 * DAY, st['due_at'] - ca)
    # case 2: first bid two minutes before the 60-day close -> close moves to ts+24h
    await b1.call('auction.register', auction_id=so2)
    g = await a.call('auction.get', auction_id=so2)
    await ctx.adv_to(g['closes_at'] - 2 * MIN)
    r = await b1.call('auction.bid', auction_id=so2, amount=g['start_price'])
    check('late first bid in sell-off: close = ts + 24h', r['closes_at'] == r['ts'] + DAY, r['closes_at'] - r['ts'])
run('r02', sc)
