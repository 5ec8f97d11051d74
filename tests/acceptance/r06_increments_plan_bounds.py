# Rule 4 tier boundaries (start exactly 100k / 1M CNY and 1 yuan above), bid grid, BID_TOO_LOW before BAD_PRICE; plan bounds from rules 1,3,5,9
from common import *
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    X = await ctx.mk('enterprise', fund=500_000_000); Y = await ctx.mk('individual', fund=500_000_000)
    cases = {}
    for V, exp in ((10_000_000, 200_000), (10_000_100, 100_000), (100_000_000, 1_000_000), (100_000_100, 500_000),
                   (14_285_715, None)):
        _, cid, aid = await new_case(ctx, bank, own, V, plan={'start_bp': 10000} if exp is not None else None)
        g = await a.call('auction.get', auction_id=aid)
        if exp is None:
            # 70% of 142,857.15 CNY = 100,000.005 -> 100,000 CNY -> 2% tier = 2000 CNY
            check('70% start floored to 100,000 CNY -> 2% tier', g['start_price'] == 10_000_000 and g['increment'] == 200_000, g)
        else:
            check(f'start {V} increment {exp}', g['start_price'] == V and g['increment'] == exp, (g['start_price'], g['increment']))
        cases[V] = (cid, aid, g)
    # grid checks on the first one
    cid, aid, g = cases[10_000_000]
    await X.call('auction.register', auction_id=aid); await Y.call('auction.register', auction_id=aid)
    e = await X.err('auction.bid', auction_id=aid, amount=g['start_price'])
    check('bid before opens_at -> AUCTION_NOT_OPEN', e == 'AUCTION_NOT_OPEN', e)
    await ctx.adv_to(g['opens_at'])
    e = await X.err('auction.bid', auction_id=aid, amount=g['start_price'] - 100)
    check('first bid below start -> BID_TOO_LOW', e == 'BID_TOO_LOW', e)
    await X.call('auction.bid', auction_id=aid, amount=g['start_price'])
    e = await Y.err('auction.bid', auction_id=aid, amount=g['start_price'] + 100)
    check('below min_next_bid and off grid -> BID_TOO_LOW (before BAD_PRICE)', e == 'BID_TOO_LOW', e)
    e = await Y.err('auction.bid', auction_id=aid, amount=g['start_price'] + 200_000 + 100)
    check('above min but off grid -> BAD_PRICE', e == 'BAD_PRICE', e)
    r = await Y.errm('auction.bid', auction_id=aid, amount=g['start_price'] + 3 * 200_000)
    check('jump bid start + 3*inc accepted', r[0] == 'OK' and r[1]['min_next_bid'] == g['start_price'] + 4 * 200_000, r)
    e = await X.err('auction.bid', auction_id=aid, amount=0)
    check('amount 0 -> BAD_REQUEST', e == 'BAD_REQUEST', e)
    e = await X.err('auction.bid', auction_id=aid, amount=-5)
    check('amount negative -> BAD_REQUEST', e == 'BAD_REQUEST', e)
    e = await X.err('auction.bid', auction_id=aid, amount='100')
    check('amount string -> BAD_REQUEST', e == 'BAD_REQUEST', e)
    e = await X.err('auction.bid', auction_id=aid, amount=1.5)
    check('amount float -> BAD_REQUEST', e == 'BAD_REQUEST', e)
    # plan bounds: rule 1 (>=70%), rule 3 (5-20%), rule 5 (>=24h), rule 9 (cut <= 20%)
    for plan, rule in (({'start_bp': 6999}, 'rule 1 start_bp < 7000'), ({'deposit_bp': 499}, 'rule 3 deposit_bp < 500'),
                       ({'deposit_bp': 2001}, 'rule 3 deposit_bp > 2000'), ({'bidding_ms': DAY - 1}, 'rule 5 bidding < 24h'),
                       ({'cut_bp': 2001}, 'rule 9 cut_bp > 2000'), ({'regime': 'bogus'}, 'unknown regime'),
                       ({'after_sell_off': 'burn'}, 'bad after_sell_off'), ({'nonsense': 1}, 'unknown plan field')):
        try:
            _, cid, aid = await new_case(ctx, bank, own, 10_000_000, plan=plan)
            g = await a.call('auction.get', auction_id=aid)
            check(f'plan refused: {rule}', False, f'accepted: start {g["start_price"]} dep {g["deposit"]} closes-opens {g["closes_at"]-g["opens_at"]}')
        except Err as ex:
            check(f'plan refused: {rule}', ex.code == 'BAD_REQUEST', ex.code + ' ' + ex.msg)
    # plan at bounds accepted
    for plan in ({'start_bp': 7000, 'deposit_bp': 500, 'cut_bp': 2000, 'bidding_ms': DAY}, {'deposit_bp': 2000}):
        try:
            await new_case(ctx, bank, own, 10_000_000, plan=plan); check(f'plan at bound accepted {plan}', True)
        except Err as ex:
            check(f'plan at bound accepted {plan}', False, ex.code + ' ' + ex.msg)
run('r06', sc)
