# Audit f: each timer at its exact bound, reached by ONE time.advance that also crosses earlier timers (PROTOCOL "Time",
# "Edges": "A timer fires at its own due time ... however far time.advance jumped"; "a bid at closes_at or later is
# AUCTION_CLOSED"). A Dutch clock accepted at the very ms of a tick after a jump over its opens_at (Defaults: "price(t) =
# max(floor, start - floor((t - opens_at) / interval_ms) x decrement)"); a scheduled English auction bid at exactly
# opens_at; fixed-price listings whose conversion ("two or more turn the same auction into english from start_price,
# open 24 h more with the 5 min / 5 min soft close") is crossed by a jump: the 24 h count from closes_at, the soft close
# at the converted close's last ms, and a jump landing exactly on closes_at + 24 h; losers' deposits at close - 1 / close
# (rule 3 "the engine releases at close"); backstop offers whose expires_at is 1 ms before / after the sell-off close.
from common import *

async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=100_000_000); Y = await ctx.mk('individual', fund=100_000_000)
    Wt = await ctx.mk('individual')
    now = await ctx.now()
    # --- Dutch scheduled at now + 1h: start 1,000,000, -30,000 every 7 min, floor 850,000
    O = now + HOUR; I = 7 * MIN
    _, D = await new_auction(ctx, own, fmt='dutch', opens=O, closes=O + DAY, dutch={'decrement': 30_000, 'interval_ms': I, 'floor': 850_000})
    _, D2 = await new_auction(ctx, own, fmt='dutch', opens=O, closes=O + DAY, dutch={'decrement': 30_000, 'interval_ms': I, 'floor': 850_000})
    _, E = await new_auction(ctx, own, opens=O, closes=O + 2 * HOUR)              # scheduled English
    F = now + 3 * HOUR
    _, FA = await new_auction(ctx, own, fmt='fixed_price', closes=F)    # jump to F + 10 h, bid at the converted close - 1
    _, FB = await new_auction(ctx, own, fmt='fixed_price', closes=F)    # one jump lands exactly on F + 24 h: unsold then
    for c in (X, Y):
        for x in (D, D2, E, FA, FB): await c.call('auction.register', auction_id=x)
    await Wt.call('subscribe', channels=[f'auction.{x}' for x in (D, E, FA, FB)]); await Wt.drain(0.2)
    await ctx.adv_to(O + 2 * I)                                         # one jump over D's open and two ticks
    r = await X.errm('auction.accept', auction_id=D)
    check('Dutch accepted at the very ms of the 2nd tick (after one jump over opens_at): price 940,000, ts = that ms',
          r[0] == 'OK' and r[1]['price'] == 940_000 and r[1]['ts'] == O + 2 * I, r)
    g = await a.call('auction.get', auction_id=D2)
    check('the other Dutch shows 940,000 at that ms', g['state'] == 'open' and g['price'] == 940_000, (g['state'], g['price']))
    await ctx.adv(I - 1)
    g = await a.call('auction.get', auction_id=D2)
    check('... and still 940,000 at the next tick - 1 ms', g['price'] == 940_000, g['price'])
    await ctx.adv(1)
    r = await Y.errm('auction.accept', auction_id=D2)
    check('accepted at the 3rd tick exactly: 910,000', r[0] == 'OK' and r[1]['price'] == 910_000 and r[1]['ts'] == O + 3 * I, r)
    r = await X.errm('auction.bid', auction_id=E, amount=1_000_000)
    check('scheduled English (opened by the same jump) takes a bid', r[0] == 'OK', r)
    p = await Wt.drain(0.3)
    op = [q['ts'] for q in p if q['channel'] == f'auction.{E}' and q['type'] == 'open']
    check('its open push is stamped opens_at', op == [O], [t - O for t in op])
    dp = [(q['type'], q['ts'] - O, q['data'].get('price')) for q in p if q['channel'] == f'auction.{D}']
    check('Dutch pushes: open at opens_at, the 1st and 2nd tick at their ms, then the accept', [x[:2] for x in dp][:3] == [('open', 0), ('price', I), ('price', 2 * I)], dp)
    # --- losers' deposit at E's close: held at close - 1, released at close (one jump from here)
    C = O + 2 * HOUR
    await ctx.adv_to(C - 1)
    acc = await Y.call('account.get')
    check("Y's deposits on E, FA, FB (and D2, which Y won) still held at E's close - 1 ms", acc['cash_held'] == 400_000, acc)
    await ctx.adv(1)
    acc = await Y.call('account.get')
    check("Y's deposit on E released at E's close exactly", acc['cash_held'] == 300_000, acc)
    # --- fixed price: one jump from before F to F + 10 h
    await ctx.adv_to(F + 10 * HOUR)
    ga = await a.call('auction.get', auction_id=FA); gb = await a.call('auction.get', auction_id=FB)
    check('FA converted at F: english, closes_at = F + 24 h (not the jump target + 24 h)', ga['format'] == 'english' and ga['state'] == 'open' and ga['closes_at'] == F + DAY, (ga['format'], ga['state'], (ga['closes_at'] - F) / HOUR))
    p = await Wt.drain(0.3)
    cv = [q['ts'] for q in p if q['channel'] == f'auction.{FA}']
    check('FA conversion pushes stamped F', cv and all(t == F for t in cv), [t - F for t in cv])
    await ctx.adv_to(F + DAY - 1)
    r = await X.errm('auction.bid', auction_id=FA, amount=1_000_000)
    check('FA bid at the converted close - 1 ms: close -> ts + 5 min', r[0] == 'OK' and r[1]['closes_at'] == F + DAY - 1 + 5 * MIN, r)
    await ctx.adv(1)                                                   # FB: exactly F + 24 h, no bids -> unsold
    gb = await a.call('auction.get', auction_id=FB)
    check('FB unsold at exactly F + 24 h', gb['state'] == 'unsold' and gb['closes_at'] == F + DAY, (gb['state'], gb['closes_at'] - F))
    e = await Y.err('auction.bid', auction_id=FB, amount=1_000_000)
    check('FB bid at F + 24 h -> AUCTION_CLOSED', e == 'AUCTION_CLOSED', e)
    await ctx.adv_to(F + DAY - 1 + 5 * MIN)
    ga = await a.call('auction.get', auction_id=FA)
    check('FA sold to X at its extended close', ga['state'] == 'sold' and ga['closes_at'] == F + DAY - 1 + 5 * MIN, (ga['state'], ga['closes_at'] - F - DAY))
    acc = await Y.call('account.get')
    check("Y holds only its D2 winner's deposit once FA and FB closed", acc['cash_held'] == 100_000, acc)

    # --- backstop offers expiring 1 ms before / exactly at / 1 ms after the sell-off close (T0 + 107 d)
    bank = await ctx.mk('bank')
    t = await ctx.now()
    SO = t + 107 * DAY
    cases = {}
    for reg, exp_ms in (('deyang', SO - 1), ('leshan', SO), ('mianyang', SO + 1)):
        bs = await ctx.mk('backstop', fund=50_000_000)
        await bs.call('backstop.offer', price_bp=5000, max_amount=50_000_000, regions=[reg], expires_at=exp_ms)
        _, cid, _ = await new_case(ctx, bank, own, 10_000_000, region=reg)
        cases[reg] = (cid, bs, exp_ms)
    await ctx.adv_to(SO + HOUR)
    out = {}
    for reg, (cid, bs, exp_ms) in cases.items():
        d = await bank.call('disposal.get', case_id=cid)
        so = await a.call('auction.get', auction_id=d['rounds'][-1]['auction_id'])
        check(f'{reg}: sell-off closed at its own due time (107 d)', so['closes_at'] == SO, (so['closes_at'] - SO))
        out[reg] = (d['state'], d.get('outcome'), [e['event'] for e in d['timeline']][-1])
    check('offer expiring 1 ms before the sell-off close is not used (in lieu)', out['deyang'][2] != 'backstop', out['deyang'])
    check('offer expiring 1 ms after the sell-off close buys', out['mianyang'][2] == 'backstop', out['mianyang'])
    print('  info (open reading) offer with expires_at = the sell-off close exactly ->', out['leshan'])

run('f03', sc)
