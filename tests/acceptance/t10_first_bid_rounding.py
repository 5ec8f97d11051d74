# DOMAIN rule 4 "The first bid equals the starting price; later bids are start + k x increment" (English and the
# sell-off); rule 9 / PROTOCOL rounding of round 2's start when 20% of round 1's start is not a whole yuan (informational).
from common import *
async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise'); bank = await ctx.mk('bank')
    X = await ctx.mk('individual', fund=500_000_000); Y = await ctx.mk('individual', fund=500_000_000)
    _, A = await new_auction(ctx, own, start=1_000_000, inc=10_000)
    await X.call('auction.register', auction_id=A); await Y.call('auction.register', auction_id=A)
    e = await X.errm('auction.bid', auction_id=A, amount=1_010_000)
    print('  info: first bid at start + 1 increment ->', e[0], e[1] if e[0] != 'OK' else '')
    check('rule 4: first bid above the starting price refused (the first bid equals the starting price)', e[0] != 'OK', e)
    g = await a.call('auction.get', auction_id=A)
    check('refused first bid changed nothing (bids 0, price null)', g['bids'] == (0 if e[0] != 'OK' else 1) and (g['price'] is None) == (e[0] != 'OK'), g)
    e = await X.errm('auction.bid', auction_id=A, amount=1_000_000)
    check('first bid at the starting price accepted', e[0] == 'OK', e)
    # rounding of round 2's start: round 1 start 100,001 CNY (plan start_bp 100%) -> 20% cut = 20,000.2 CNY
    _, cid, r1 = await new_case(ctx, bank, own, 10_000_100, plan={'start_bp': 10000, 'notice_ms': HOUR, 'renotice_ms': HOUR})
    g1 = await a.call('auction.get', auction_id=r1)
    check('round 1 start = 100,001 CNY', g1['start_price'] == 10_000_100, g1['start_price'])
    await ctx.adv_to(g1['closes_at'])
    d = await a.call('disposal.get', case_id=cid)
    r2 = d['rounds'][1] if len(d['rounds']) > 1 else {}
    print('  info: round 2 start after a 20% cut of 100,001 CNY ->', r2.get('start_price'), '(80,000 CNY = rounded down; 80,001 = cut rounded down)')
    check('round 2 start is 80,000 or 80,001 CNY', r2.get('start_price') in (8_000_000, 8_000_100), r2)
    # sell-off first bid must be at the sell-off price
    g2 = await a.call('auction.get', auction_id=r2['auction_id'])
    await ctx.adv_to(g2['closes_at'])
    d = await a.call('disposal.get', case_id=cid)
    so = d['rounds'][-1]
    check('case in sell_off', d['state'] == 'sell_off' and so['kind'] == 'sell_off', d)
    gs = await a.call('auction.get', auction_id=so['auction_id'])
    await X.call('auction.register', auction_id=so['auction_id'])
    e = await X.errm('auction.bid', auction_id=so['auction_id'], amount=gs['start_price'] + gs['increment'])
    print('  info: sell-off first bid above the fixed price ->', e[0], e[1] if e[0] != 'OK' else '')
    check('sell-off: first bid above the fixed price refused (rule 10 "the first bid at that price"; rule 4)', e[0] != 'OK', e)
    e = await X.errm('auction.bid', auction_id=so['auction_id'], amount=gs['start_price'])
    check('sell-off: first bid at the fixed price accepted, close moves to +24 h', e[0] == 'OK' and e[1]['closes_at'] == e[1]['ts'] + DAY, e)
run('t10', sc)
