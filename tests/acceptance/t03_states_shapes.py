# Wrong-state calls (INVALID_STATE / AUCTION_* codes) and the reply fields PROTOCOL.md names for each method, with types.
from common import *
def is_int(v): return isinstance(v, int) and not isinstance(v, bool)
def is_str(v): return isinstance(v, str) and v != ''
async def sc(ctx):
    a = ctx.adm
    op = await ctx.mk('operator'); bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('enterprise', fund=50_000_000)
    bs = await ctx.mk('backstop', fund=10_000_000)
    now = await ctx.now()
    # --- time
    t = await a.call('time.now')
    check('time.now: now = manual clock start, wall = real clock (int ms)', t['now'] == T0 and is_int(t['wall']) and abs(t['wall'] - time.time() * 1000) < 10_000, t)
    r = await a.call('time.advance', ms=1234)
    check('time.advance -> now = previous + ms', r.get('now') == T0 + 1234, r)
    # --- auction.get before any bid: price null, bids 0, leader null, min_next_bid = start_price
    _, E = await new_auction(ctx, own, start=1_000_000, inc=10_000, dep=100_000, reserve=1_000_000)
    g = await X.call('auction.get', auction_id=E)
    check('auction.get before a bid: price null, bids 0, leader null', g['price'] is None and g['bids'] == 0 and g['leader'] is None, g)
    check('auction.get before a bid: min_next_bid = start_price', g['min_next_bid'] == 1_000_000, g)
    check('auction.get field types', isinstance(g['lot'], list) and g['purpose'] == 'transfer' and g['format'] == 'english' and
          g['state'] == 'open' and all(is_int(g[k]) for k in ('start_price', 'increment', 'deposit', 'opens_at', 'closes_at')), g)
    check('auction.get shows reserve when given', g.get('reserve') == 1_000_000, g)
    check('auction.get: no winner / settlement before close', g.get('winner') is None and g.get('settlement_id') is None, g)
    r = await X.call('auction.register', auction_id=E)
    check('auction.register -> bidder_code (string)', is_str(r.get('bidder_code')), r)
    xcode = r['bidder_code']
    rY = await Y.call('auction.register', auction_id=E)
    check('bidder codes differ and are not participant ids', rY['bidder_code'] != xcode and xcode not in (X.pid, Y.pid), (xcode, rY))
    b = await X.call('auction.bid', auction_id=E, amount=1_000_000)
    check('auction.bid reply fields', set(b) >= {'auction_id', 'amount', 'ts', 'leader', 'closes_at', 'min_next_bid'} and b['auction_id'] == E
          and b['amount'] == 1_000_000 and is_int(b['ts']) and b['leader'] == xcode and b['min_next_bid'] == 1_010_000, b)
    e = await X.errm('auction.proxy', auction_id=E, max_amount=1_100_000)
    check('auction.proxy by the leader (no bid to place) -> ALREADY_LEADING or accepted without raising', e[0] in ('ALREADY_LEADING', 'OK'), e)
    g = await a.call('auction.get', auction_id=E)
    check('leader proxy did not raise its own bid', g['price'] == 1_000_000 and g['bids'] == 1, g)
    e = await Y.errm('auction.proxy', auction_id=E, max_amount=1_000_000)
    check('auction.proxy with max below min_next_bid -> BID_TOO_LOW', e[0] == 'BID_TOO_LOW', e)
    e = await op.errm('auction.cancel', auction_id=E, reason='x')
    check('auction.cancel after a bid -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    await ctx.adv(DAY)
    g = await a.call('auction.get', auction_id=E)
    check('after close: sold, price = clearing, winner = bidder code, settlement_id', g['state'] == 'sold' and g['price'] == 1_000_000
          and g.get('winner') == xcode and is_str(g.get('settlement_id')), g)
    e = await Y.errm('auction.bid', auction_id=E, amount=1_100_000)
    check('bid on a sold auction -> AUCTION_CLOSED', e[0] == 'AUCTION_CLOSED', e)
    Z = await ctx.mk('individual', fund=10_000_000)
    e = await Z.errm('auction.register', auction_id=E)
    print('  info: auction.register on a sold auction ->', e)
    check('auction.register on a sold auction refused, nothing held', e[0] != 'OK' and (await Z.call('account.get'))['cash_held'] == 0, e)
    e = await op.errm('auction.cancel', auction_id=E, reason='x')
    check('auction.cancel on a sold auction -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    sid = g['settlement_id']
    s = await X.call('settlement.get', settlement_id=sid)
    check('settlement.get fields/types', s['settlement_id'] == sid and s['auction_id'] == E and s['buyer'] == X.pid and s['state'] == 'awaiting_payment'
          and s['price'] == 1_000_000 and is_int(s['buyer_premium']) and s['due_at'] == g['closes_at'] + 10 * DAY and isinstance(s['transfers'], list), s)
    f = await op.call('settlement.fail', settlement_id=sid, reason='registry refused')
    check('settlement.fail from awaiting_payment -> failed (the settlement)', f.get('state') == 'failed' and f.get('settlement_id') == sid, f)
    for m, p in (('settlement.fail', dict(reason='again')), ('settlement.confirm', dict(registration_no='R'))):
        e = await op.errm(m, settlement_id=sid, **p)
        check(f'{m} on failed -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    e = await X.errm('settlement.pay', settlement_id=sid)
    check('settlement.pay on failed -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    x = await X.call('account.get')
    check('failed before pay: buyer deposit returned', x['cash_held'] == 0 and x['cash_available'] == 50_000_000, x)
    # --- defaulted settlement: every further transition refused
    _, E2 = await new_auction(ctx, own, payment_ms=DAY)
    await Y.call('auction.register', auction_id=E2); await Y.call('auction.bid', auction_id=E2, amount=1_000_000)
    await ctx.adv(2 * DAY)
    sid2 = (await a.call('auction.get', auction_id=E2))['settlement_id']
    s2 = await Y.call('settlement.get', settlement_id=sid2)
    check('unpaid at due_at -> defaulted', s2['state'] == 'defaulted', s2)
    for c, m, p in ((Y, 'settlement.pay', {}), (op, 'settlement.confirm', dict(registration_no='R')), (op, 'settlement.fail', dict(reason='r'))):
        e = await c.errm(m, settlement_id=sid2, **p)
        check(f'{m} on defaulted -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    # --- Dutch: accept shape, wrong format / state
    now = await ctx.now()
    _, D = await new_auction(ctx, own, fmt='dutch', start=1_000_000, opens=now + HOUR, closes=now + DAY,
                             dutch={'decrement': 10_000, 'interval_ms': 10 * MIN, 'floor': 800_000})
    await X.call('auction.register', auction_id=D)
    g = await a.call('auction.get', auction_id=D)
    check('scheduled auction state', g['state'] == 'scheduled', g)
    e = await X.errm('auction.accept', auction_id=D)
    check('auction.accept before opens_at -> AUCTION_NOT_OPEN', e[0] == 'AUCTION_NOT_OPEN', e)
    e = await X.errm('auction.bid', auction_id=D, amount=1_000_000)
    print('  info: auction.bid on a Dutch auction ->', e)
    check('auction.bid on a Dutch auction refused', e[0] != 'OK', e)
    await ctx.adv(HOUR + 15 * MIN)
    g = await a.call('auction.get', auction_id=D)
    check('Dutch auction.get price = clock price (start - 1 x dec after 15 min)', g['state'] == 'open' and g['price'] == 990_000, g)
    r = await X.call('auction.accept', auction_id=D)
    check('auction.accept -> auction_id, price, ts', r.get('auction_id') == D and r.get('price') == 990_000 and is_int(r.get('ts')), r)
    e = await X.errm('auction.accept', auction_id=D)
    check('auction.accept on a sold Dutch -> AUCTION_CLOSED', e[0] == 'AUCTION_CLOSED', e)
    _, E3 = await new_auction(ctx, own)
    await X.call('auction.register', auction_id=E3)
    e = await X.errm('auction.accept', auction_id=E3)
    print('  info: auction.accept on an English auction ->', e)
    check('auction.accept on an English auction refused, nothing applied', e[0] != 'OK' and (await a.call('auction.get', auction_id=E3))['state'] == 'open', e)
    e = await X.errm('auction.register', auction_id=E3)
    check('auction.register twice -> DUPLICATE', e[0] == 'DUPLICATE', e)
    # --- cancel: the auction returned, deposits released; then register / bid on it
    c = await op.call('auction.cancel', auction_id=E3, reason='withdrawn')
    check('auction.cancel -> the auction (state cancelled)', c.get('auction_id') == E3 and c.get('state') == 'cancelled', c)
    e = await Y.errm('auction.register', auction_id=E3)
    print('  info: auction.register on a cancelled auction ->', e)
    check('auction.register on a cancelled auction refused', e[0] != 'OK', e)
    e = await X.errm('auction.bid', auction_id=E3, amount=1_000_000)
    print('  info: auction.bid on a cancelled auction ->', e)
    check('auction.bid on a cancelled auction refused', e[0] != 'OK', e)
    # --- pledges, disposals: shapes
    aid = await new_asset(ctx, own)
    p = await bank.call('pledge.register', asset_id=aid, pledgee=bank.pid, loan_outstanding=1_000_000, registration_no='RG-1',
                        interest=20_000, penalties=3_000, costs=400)
    check('pledge.register -> the pledge with claim = sum', p.get('claim') == 1_023_400 and p.get('asset_id') == aid, p)
    r = await bank.call('pledge.consent', asset_id=aid)
    check('pledge.consent -> consented true', r.get('consented') is True, r)
    e = await bank.errm('pledge.consent', asset_id=aid)
    print('  info: pledge.consent twice ->', e)
    r = await bank.call('disposal.open', assets=[aid], pledgee=bank.pid, pledgor=own.pid, valuation=5_000_000)
    check('disposal.open -> case_id, auction_id', is_str(r.get('case_id')) and is_str(r.get('auction_id')), r)
    cid, rnd = r['case_id'], r['auction_id']
    d = await bank.call('disposal.get', case_id=cid)
    check('disposal.get fields', d['case_id'] == cid and d['state'] == 'round_1' and d['pledgee'] == bank.pid and d['pledgor'] == own.pid
          and d['valuation'] == 5_000_000 and d['claim'] == 1_023_400 and isinstance(d.get('recovery'), dict), d)
    check('disposal.get outcome absent/null while open', d.get('outcome') is None, d)
    r0 = d['rounds'][0] if d.get('rounds') else {}
    check('disposal.get rounds[0] = {round 1, kind auction, auction_id, start_price 70%, state}', r0.get('round') == 1 and r0.get('kind') == 'auction'
          and r0.get('auction_id') == rnd and r0.get('start_price') == 3_500_000 and r0.get('state') == 'scheduled', r0)
    e = await bank.errm('disposal.open', assets=[aid], pledgee=bank.pid, pledgor=own.pid, valuation=5_000_000)
    print('  info: second disposal.open on an asset in an open case ->', e)
    check('second disposal.open on an asset already in an open case refused', e[0] != 'OK', e)
    e = await op.errm('auction.create', lot=[aid], purpose='transfer', format='english', start_price=1_000_000, increment=10_000,
                      deposit=100_000, opens_at=now, closes_at=now + 2 * DAY)
    print('  info: auction.create on an asset in an open disposal case ->', e)
    # --- backstop.offer shape
    r = await bs.call('backstop.offer', price_bp=2500, max_amount=1_000_000)
    check('backstop.offer -> offer_id', is_str(r.get('offer_id')), r)
    # --- report shape
    r = await bank.call('report.disposals')
    check('report.disposals -> rows[] and totals', isinstance(r.get('rows'), list) and isinstance(r.get('totals'), dict) and len(r['rows']) == 1, r)
    # --- subscribe / unsubscribe echo, market / units / order shapes
    r = await X.call('subscribe', channels=['private', f'auction.{rnd}'])
    check('subscribe -> channels[]', sorted(r.get('channels', [])) == sorted(['private', f'auction.{rnd}']), r)
    r = await X.call('unsubscribe', channels=[f'auction.{rnd}'])
    check('unsubscribe -> channels[]', r.get('channels') == [f'auction.{rnd}'], r)
    ma = await new_asset(ctx, own)
    m = await own.call('market.create', market_id='MK', asset_id=ma, licence=LIC, tick=5, min_qty=10)
    check('market.create -> the market (market_id, asset_id, licence, tick, min_qty)', m.get('market_id') == 'MK' and m.get('asset_id') == ma
          and m.get('tick') == 5 and m.get('min_qty') == 10 and isinstance(m.get('licence'), dict), m)
    u = await own.call('units.issue', market_id='MK', qty=100)
    check('units.issue -> the position', u.get('market_id') == 'MK' and u.get('units') == 100 and u.get('units_held') == 0, u)
    o = await own.call('order.place', market_id='MK', side='sell', type='limit', price=100, qty=20, tif='gtc', client_order_id='s1')
    check('order.place reply fields', is_str(o.get('order_id')) and o.get('client_order_id') == 's1' and o.get('status') == 'open'
          and o.get('filled_qty') == 0 and o.get('leaves_qty') == 20 and o.get('fills') == [], o)
    o2 = await X.call('order.place', market_id='MK', side='buy', type='limit', price=100, qty=10, tif='gtc', client_order_id='b1')
    f0 = (o2.get('fills') or [{}])[0]
    check('order.place fill fields', o2.get('status') == 'filled' and o2.get('leaves_qty') == 0 and is_str(f0.get('trade_id'))
          and f0.get('price') == 100 and f0.get('qty') == 10, o2)
    c = await own.call('order.cancel', market_id='MK', client_order_id='s1')
    check('order.cancel by client_order_id -> cancelled, filled 10, leaves 0', c.get('status') == 'cancelled' and c.get('filled_qty') == 10
          and c.get('leaves_qty') == 0 and c.get('order_id') == o['order_id'] and len(c.get('fills', [])) == 1, c)
    e = await own.errm('order.cancel', market_id='MK', order_id=o['order_id'])
    check('order.cancel of a cancelled order -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
run('t03', sc)
