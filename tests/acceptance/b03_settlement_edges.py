# Audit b (sale effects): settlement steps by the wrong role and at the edges, each checked before/after.
# PROTOCOL: settlement.pay "buyer"; settlement.confirm / settlement.fail "operator"; "FORBIDDEN (the role may not use this
# method)"; settlements "are seen only by their parties and the operator" (others NOT_FOUND); "A rejected request changes
# nothing"; pay "moves price + buyer's premium - deposit from cash_available into escrow"; "at due_at unpaid, the
# settlement becomes defaulted" (a PAID settlement is not unpaid: it stays paid and can be confirmed after due_at).
# Edges: a buyer funded to the exact fen pays; a Dutch sale below the deposit (the deposit counts toward the price);
# a sold Dutch auction stays sold when its floor interval / scheduled closes_at pass; after settlement.fail the title
# never passed, so the seller may list the asset again.
from common import *

async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise'); bank = await ctx.mk('bank'); op = await ctx.mk('operator')
    X = await ctx.mk('individual', fund=5_000_000); Y = await ctx.mk('individual', fund=5_000_000); S = await ctx.mk('individual', fund=5_000_000)
    people = [own, X, Y, S, bank]

    # --- 1. wrong roles on an awaiting_payment settlement, then on a paid one
    asset, A = await new_auction(ctx, own, by=own, buyer_premium_bp=1000)
    await X.call('auction.register', auction_id=A); await Y.call('auction.register', auction_id=A)
    await X.call('auction.bid', auction_id=A, amount=1_000_000); await Y.call('auction.bid', auction_id=A, amount=1_010_000)
    await ctx.adv(DAY)
    sid = (await a.call('auction.get', auction_id=A))['settlement_id']
    for name, who, m, p, exp in (('confirm by the buyer (trader)', Y, 'settlement.confirm', {'registration_no': 'R'}, 'FORBIDDEN'),
                                 ('confirm by the seller (trader)', own, 'settlement.confirm', {'registration_no': 'R'}, 'FORBIDDEN'),
                                 ('confirm by a bank', bank, 'settlement.confirm', {'registration_no': 'R'}, 'FORBIDDEN'),
                                 ('fail by the buyer', Y, 'settlement.fail', {'reason': 'x'}, 'FORBIDDEN'),
                                 ('fail by a bank', bank, 'settlement.fail', {'reason': 'x'}, 'FORBIDDEN'),
                                 ('pay by the operator', op, 'settlement.pay', {}, 'FORBIDDEN'),
                                 ('pay by a bank', bank, 'settlement.pay', {}, 'FORBIDDEN'),
                                 ('pay by the loser (a stranger to it)', X, 'settlement.pay', {}, 'NOT_FOUND'),
                                 ('pay by an outsider', S, 'settlement.pay', {}, 'NOT_FOUND')):
        e = await refused(ctx, name, who, m, people, [A], sids=[sid], settlement_id=sid, **p)
        check(f'{name} -> {exp}', e[0] == exp, e)
    e = await refused(ctx, 'pay by the seller', own, 'settlement.pay', people, [A], sids=[sid], settlement_id=sid)
    print('  info: settlement.pay by the seller (a party, not the buyer) ->', e)
    check('pay by the seller is refused', e[0] != 'OK', e)
    e = await X.errm('settlement.get', settlement_id=sid)
    check('settlement.get by the loser -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    e = await own.errm('settlement.get', settlement_id=sid)
    check('settlement.get by the seller (a party) -> the settlement', e[0] == 'OK' and e[1]['buyer'] == Y.pid, e)
    e = await op.errm('settlement.get', settlement_id=sid)
    check('settlement.get by an operator -> the settlement', e[0] == 'OK', e)
    # paid at due_at - 1; then the deadline passes: still paid, and confirmable
    s = await a.call('settlement.get', settlement_id=sid)
    await ctx.adv_to(s['due_at'] - 1)
    await Y.call('settlement.pay', settlement_id=sid)
    e = await refused(ctx, 'confirm of a paid settlement by the buyer', Y, 'settlement.confirm', people, [A], sids=[sid], settlement_id=sid, registration_no='R')
    check('confirm by the buyer of a paid settlement -> FORBIDDEN', e[0] == 'FORBIDDEN', e)
    await ctx.adv(DAY)
    s = await a.call('settlement.get', settlement_id=sid)
    check('a settlement paid 1 ms before due_at is still paid after due_at (not defaulted)', s['state'] == 'paid', s['state'])
    y = await Y.call('account.get')
    check('its escrow still held: 1,010,000 + premium 101,000', y['cash_held'] == 1_111_000, y)
    c = await op.errm('settlement.confirm', settlement_id=sid, registration_no='LATE-REG')
    check('an operator (kind operator) confirms it after due_at', c[0] == 'OK' and c[1]['state'] == 'confirmed', c)
    y = await Y.call('account.get'); o = await own.call('account.get')
    check('after confirm: buyer has the title and 5,000,000 - 1,111,000; seller has 1,010,000',
          pos(y, asset) and (y['cash_available'], y['cash_held']) == (3_889_000, 0) and o['cash_available'] == 1_010_000 and pos(o, asset) is None, (y, o))

    # --- 2. a buyer funded to the exact fen: price + premium
    B = await ctx.mk('individual', fund=1_000_000 + 100_000)
    _, A2 = await new_auction(ctx, own, by=own, buyer_premium_bp=1000)
    await B.call('auction.register', auction_id=A2); await B.call('auction.bid', auction_id=A2, amount=1_000_000)
    await ctx.adv(DAY)
    sid2 = (await a.call('auction.get', auction_id=A2))['settlement_id']
    e = await B.errm('settlement.pay', settlement_id=sid2)
    b = await B.call('account.get')
    check('buyer with exactly price + premium pays; 0 available, 1,100,000 held', e[0] == 'OK' and (b['cash_available'], b['cash_held']) == (0, 1_100_000), (e, b))

    # --- 3. Dutch sale below the deposit: deposit 300,000, accepted at 200,000
    D0 = await ctx.mk('individual', fund=1_000_000)
    _, A3 = await new_auction(ctx, own, by=own, fmt='dutch', start=1_000_000, dep=300_000,
                              dutch={'decrement': 100_000, 'interval_ms': 10 * MIN, 'floor': 200_000})
    t0 = (await a.call('auction.get', auction_id=A3))['opens_at']
    await D0.call('auction.register', auction_id=A3)
    await ctx.adv_to(t0 + 85 * MIN)
    r = await D0.call('auction.accept', auction_id=A3)
    check('dutch at 85 min: max(200,000, 1,000,000 - 8 x 100,000) = 200,000', r['price'] == 200_000, r)
    sid3 = (await a.call('auction.get', auction_id=A3))['settlement_id']
    d = await D0.call('account.get')
    check('after the accept the winner holds its 300,000 deposit', (d['cash_available'], d['cash_held']) == (700_000, 300_000), d)
    e = await D0.errm('settlement.pay', settlement_id=sid3)
    d = await D0.call('account.get')
    print('  info: pay when the deposit (300,000) exceeds the price (200,000) ->', e[0], d)
    check('pay: escrow = price 200,000; the 100,000 of deposit above the price back to available (800,000)',
          e[0] == 'OK' and (d['cash_available'], d['cash_held']) == (800_000, 200_000), (e, d))
    o0 = await own.call('account.get')
    await a.call('settlement.confirm', settlement_id=sid3, registration_no='R3')
    d = await D0.call('account.get'); o1 = await own.call('account.get')
    check('confirm: the Dutch buyer paid 200,000 in all; the seller got 200,000',
          (d['cash_available'], d['cash_held']) == (800_000, 0) and o1['cash_available'] - o0['cash_available'] == 200_000, (d, o0, o1))
    # the Dutch auction's floor interval and scheduled closes_at pass: it stays sold
    g = await a.call('auction.get', auction_id=A3)
    await ctx.adv_to(g['closes_at'] + 1)
    g2 = await a.call('auction.get', auction_id=A3)
    check('sold Dutch auction stays sold (price, winner, settlement) after its scheduled closes_at',
          (g2['state'], g2['price'], g2['winner'], g2['settlement_id']) == ('sold', 200_000, g['winner'], sid3), g2)

    # --- 4. fail before payment: the title never passed; the seller may list again
    asset4, A4 = await new_auction(ctx, own, by=own)
    await S.call('auction.register', auction_id=A4); await S.call('auction.bid', auction_id=A4, amount=1_000_000)
    await ctx.adv(DAY)
    sid4 = (await a.call('auction.get', auction_id=A4))['settlement_id']
    s0 = await S.call('account.get')
    f = await a.call('settlement.fail', settlement_id=sid4, reason='registration refused')
    s1 = await S.call('account.get')
    check('fail before pay -> failed', f['state'] == 'failed', f)
    print('  info: deposit of the winner after settlement.fail in awaiting_payment:', s0, '->', s1)
    check('after fail (operator\'s registration failure) the winner\'s deposit is not left held', s1['cash_held'] == 0, s1)
    for name, who, m, p in (('pay after fail', S, 'settlement.pay', {}), ('confirm after fail', a, 'settlement.confirm', {'registration_no': 'R4'}),
                            ('fail after fail', a, 'settlement.fail', {'reason': 'again'})):
        e = await refused(ctx, name, who, m, people, [A4], sids=[sid4], settlement_id=sid4, **p)
        check(f'{name} -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    o = await own.call('account.get')
    check('after fail the seller still owns the asset', pos(o, asset4) is not None, o)
    now = await ctx.now()
    e = await own.errm('auction.create', lot=[asset4], purpose='transfer', format='english', start_price=900_000, increment=10_000,
                       deposit=90_000, opens_at=now, closes_at=now + DAY)
    check('after fail the seller may list the asset again', e[0] == 'OK', e)
run('b03', sc)
