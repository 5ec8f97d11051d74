# Winner default in round 2 and in the sell-off (PROTOCOL "Winner default: at due_at unpaid, the settlement becomes
# defaulted, ... the defaulter is barred from that case (NOT_QUALIFIED at auction.register), and the round is run again as a
# new auction with the same start, after renotice_ms. The sell-off opens at once when the last round closes unsold"),
# with an odd valuation ("Amounts derived from percentages (start prices, deposits, increments) are rounded down to a whole
# yuan") and a co-owner (rule 6 priority holder) matching the standing bid in the sell-off.
from common import *
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=100_000_000); Y = await ctx.mk('individual', fund=100_000_000)
    H = await ctx.mk('individual', fund=100_000_000)
    V = 12_345_678
    aid_ = 'CO-1'
    await a.call('asset.register', asset_id=aid_, kind='invention_patent', title='co', owner=own.pid, region='chengdu',
                 industry='other', valuation=V, expires_at=T0 + 3650 * DAY, co_owners=[H.pid])
    await bank.call('pledge.register', asset_id=aid_, pledgee=bank.pid, loan_outstanding=50_000_000, registration_no='R-CO')
    r = await bank.call('disposal.open', assets=[aid_], pledgee=bank.pid, pledgor=own.pid, valuation=V)
    cid, r1 = r['case_id'], r['auction_id']
    g1 = await a.call('auction.get', auction_id=r1)
    s1 = yuan_floor(V * 7000 // 10000)
    check('round 1 start = 70% of 123,456.78 CNY rounded down to a yuan = 8,641,900', g1['start_price'] == s1 == 8_641_900, g1['start_price'])
    check('round 1 deposit = 10% of the start rounded down = 864,100', g1['deposit'] == 864_100, g1['deposit'])
    check('round 1 increment = 2% of the start rounded down = 172,800', g1['increment'] == 172_800, g1['increment'])
    await ctx.adv_to(g1['closes_at'])
    d = await bank.call('disposal.get', case_id=cid)
    r2 = d['rounds'][1]['auction_id']
    g2 = await a.call('auction.get', auction_id=r2)
    s2 = g2['start_price']
    check('round 2 start = round 1 start - 20% (rounded to a yuan either way)', s2 in (yuan_floor(s1 - s1 * 2000 // 10000), s1 - yuan_floor(s1 * 2000 // 10000)), s2)
    check('round 2 deposit / increment rounded down to a yuan', g2['deposit'] % 100 == 0 and g2['increment'] % 100 == 0
          and g2['deposit'] == yuan_floor(s2 // 10) and g2['increment'] == tier_inc(s2), g2)
    # X wins round 2 and defaults
    await X.call('auction.register', auction_id=r2)
    await ctx.adv_to(g2['opens_at']); await X.call('auction.bid', auction_id=r2, amount=s2)
    await ctx.adv_to(g2['closes_at'])
    g2 = await a.call('auction.get', auction_id=r2)
    st = await a.call('settlement.get', settlement_id=g2['settlement_id'])
    await ctx.adv_to(st['due_at'])
    st = await a.call('settlement.get', settlement_id=g2['settlement_id'])
    check('round 2 settlement defaulted at due_at', st['state'] == 'defaulted', st['state'])
    d = await bank.call('disposal.get', case_id=cid)
    check('case not in sell_off after a round-2 default (the round is run again)', d['state'] != 'sell_off', d['state'])
    rr = d['rounds'][-1]
    g2b = await a.call('auction.get', auction_id=rr['auction_id'])
    check('round-2 re-run: new auction, kind auction, same start, opens due_at + 15 d, 24 h',
          rr['auction_id'] != r2 and rr['kind'] == 'auction' and g2b['start_price'] == s2 and g2b['opens_at'] == st['due_at'] + 15 * DAY
          and g2b['closes_at'] - g2b['opens_at'] == DAY, (rr, g2b['start_price'], (g2b['opens_at'] - st['due_at']) / DAY))
    check('round-2 re-run recorded as round 2', rr.get('round') == 2, rr)
    e = await X.err('auction.register', auction_id=rr['auction_id'])
    check('defaulter X barred from the re-run', e == 'NOT_QUALIFIED', e)
    # re-run unsold -> sell-off at once at round 2's start, 60 days
    await ctx.adv_to(g2b['closes_at'])
    d = await bank.call('disposal.get', case_id=cid)
    so = d['rounds'][-1]
    gs = await a.call('auction.get', auction_id=so['auction_id'])
    check('after the unsold re-run: sell_off opens at once at round 2 start for 60 d', d['state'] == 'sell_off' and so['kind'] == 'sell_off'
          and gs['start_price'] == s2 and gs['opens_at'] == g2b['closes_at'] and gs['closes_at'] == g2b['closes_at'] + 60 * DAY
          and gs['state'] == 'open', (d['state'], so, gs['opens_at'] - g2b['closes_at'], gs['closes_at'] - gs['opens_at'], gs['state']))
    e = await X.err('auction.register', auction_id=so['auction_id'])
    check('defaulter X barred from the sell-off', e == 'NOT_QUALIFIED', e)
    cy = (await Y.call('auction.register', auction_id=so['auction_id']))['bidder_code']
    ch = (await H.call('auction.register', auction_id=so['auction_id']))['bidder_code']
    await ctx.adv(DAY)
    r = await Y.call('auction.bid', auction_id=so['auction_id'], amount=s2)
    check('sell-off first bid: close -> ts + 24 h', r['closes_at'] == r['ts'] + DAY, r)
    e = await H.errm('auction.bid', auction_id=so['auction_id'], amount=s2)
    check('co-owner (priority holder) matching the sell-off bid takes the lead', e[0] == 'OK' and e[1]['leader'] == ch, e)
    await ctx.adv_to(r['closes_at'])
    gs = await a.call('auction.get', auction_id=so['auction_id'])
    check('sell-off sold to the co-owner at the fixed price', gs['state'] == 'sold' and gs['winner'] == ch and gs['price'] == s2, gs)
    acc = await Y.call('account.get')
    check("Y's deposit released at the sell-off close", acc['cash_held'] == 0, acc)
    # the co-owner defaults in the sell-off -> the sell-off is run again, same start, after renotice
    st2 = await a.call('settlement.get', settlement_id=gs['settlement_id'])
    await ctx.adv_to(st2['due_at'])
    st2 = await a.call('settlement.get', settlement_id=gs['settlement_id'])
    check('sell-off settlement defaulted', st2['state'] == 'defaulted', st2['state'])
    d = await bank.call('disposal.get', case_id=cid)
    last = d['rounds'][-1]
    print('  info: after a sell-off default:', d['state'], last)
    check('after a sell-off default: a new sell_off round, same fixed price', last['auction_id'] != so['auction_id'] and last['kind'] == 'sell_off'
          and last['start_price'] == s2, last)
    gl = await a.call('auction.get', auction_id=last['auction_id'])
    check('re-run sell-off opens due_at + 15 d (renotice)', gl['opens_at'] == st2['due_at'] + 15 * DAY, (gl['opens_at'] - st2['due_at']) / DAY)
    print('  info: re-run sell-off length (days):', (gl['closes_at'] - gl['opens_at']) / DAY)
    for c, n in ((H, 'H'), (X, 'X')):
        e = await c.err('auction.register', auction_id=last['auction_id'])
        check(f'defaulter {n} barred from the re-run sell-off', e == 'NOT_QUALIFIED', e)
    # nobody buys -> in lieu (no backstop offers): the bank takes the title
    await ctx.adv_to(gl['closes_at'])
    d = await bank.call('disposal.get', case_id=cid)
    check('re-run sell-off unsold -> closed, outcome in_lieu', d['state'] == 'closed' and d.get('outcome') == 'in_lieu', (d['state'], d.get('outcome')))
    p = pos(await bank.call('account.get'), aid_)
    check('in lieu: the bank holds the title {asset_id, units: 1}', p is not None and p['units'] == 1, p)
    check('in lieu: the pledgor no longer holds the title', pos(await own.call('account.get'), aid_) is None)
run('w05', sc)
