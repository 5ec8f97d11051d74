# Plan overrides honoured; disposal soft close 5/5 default; timers after a big jump count from their own due time;
# co-owners are priority holders in a disposal (rule 6)
from common import *
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=100_000_000); Y = await ctx.mk('individual', fund=100_000_000)
    H = await ctx.mk('enterprise', fund=100_000_000)
    V = 20_000_000
    plan = {'start_bp': 8000, 'deposit_bp': 1500, 'cut_bp': 1000, 'notice_ms': 5 * DAY, 'renotice_ms': 7 * DAY, 'bidding_ms': 2 * DAY,
            'sell_off_ms': 30 * DAY, 'payment_ms': 4 * DAY, 'extend_window_ms': 2 * MIN, 'extend_by_ms': 3 * MIN}
    asset, cid, aid = await new_case(ctx, bank, own, V, plan=plan)
    g = await a.call('auction.get', auction_id=aid)
    check('plan start_bp 80%', g['start_price'] == 16_000_000, g['start_price'])
    check('plan deposit_bp 15%', g['deposit'] == 2_400_000, g['deposit'])
    check('plan notice 5d / bidding 2d', g['opens_at'] == T0 + 5 * DAY and g['closes_at'] == T0 + 7 * DAY, ((g['opens_at'] - T0) / DAY, (g['closes_at'] - T0) / DAY))
    await X.call('auction.register', auction_id=aid); await Y.call('auction.register', auction_id=aid)
    await ctx.adv_to(g['closes_at'] - 2 * MIN)
    r = await X.call('auction.bid', auction_id=aid, amount=16_000_000)
    check('plan soft close 2min/3min', r['closes_at'] == r['ts'] + 3 * MIN, r['closes_at'] - r['ts'])
    c = r['closes_at']
    # jump far: past close, past due_at (c + 4d), past renotice (+7d) and the re-run's bidding (+2d) -> re-run unsold -> round 2
    await ctx.adv(20 * DAY)
    d = await bank.call('disposal.get', case_id=cid)
    print(json.dumps(d['rounds']))
    s = await a.call('settlement.get', settlement_id=(await a.call('auction.get', auction_id=aid))['settlement_id'])
    check('due_at = close + plan payment 4d', s['due_at'] == c + 4 * DAY and s['state'] == 'defaulted', (s['due_at'] - c, s['state']))
    rr = d['rounds']
    if len(rr) >= 3:
        g1b = await a.call('auction.get', auction_id=rr[1]['auction_id'])
        check('re-run opens at due_at + renotice 7d (despite jump)', g1b['opens_at'] == s['due_at'] + 7 * DAY, (g1b['opens_at'] - s['due_at']) / DAY)
        check('re-run bidding 2d, same start', g1b['closes_at'] == g1b['opens_at'] + 2 * DAY and g1b['start_price'] == 16_000_000, g1b)
        g2 = await a.call('auction.get', auction_id=rr[2]['auction_id'])
        check('round 2 start = cut 10%', g2['start_price'] == 14_400_000, g2['start_price'])
        check('round 2 opens at re-run close + renotice 7d', g2['opens_at'] == g1b['closes_at'] + 7 * DAY, (g2['opens_at'] - g1b['closes_at']) / DAY)
    else:
        check('re-run and round 2 present after jump', False, rr)
    await ctx.adv(30 * DAY)
    d = await bank.call('disposal.get', case_id=cid)
    so = d['rounds'][-1]
    if so['kind'] == 'sell_off':
        gs = await a.call('auction.get', auction_id=so['auction_id'])
        check('plan sell_off_ms 30d', gs['closes_at'] - gs['opens_at'] == 30 * DAY, (gs['closes_at'] - gs['opens_at']) / DAY)
    else:
        check('sell-off reached', False, d['rounds'])
    # co-owner as priority holder in a disposal
    await ctx.mk('individual')
    asset2 = 'CO-1'
    e = await a.errm('asset.register', asset_id=asset2, kind='invention_patent', title='co', owner=own.pid, region='chengdu', industry='other',
                     valuation=V, expires_at=T0 + 3650 * DAY, co_owners=[H.pid])
    print('co_owners as ids:', e[0], e[1] if e[0] != 'OK' else e[1].get('co_owners'))
    await bank.call('pledge.register', asset_id=asset2, pledgee=bank.pid, loan_outstanding=1_000_000, registration_no='RCO')
    r = await bank.call('disposal.open', assets=[asset2], pledgee=bank.pid, pledgor=own.pid, valuation=V)
    g = await a.call('auction.get', auction_id=r['auction_id'])
    print('auction fields', {k: g[k] for k in g if 'prior' in k})
    for c in (X, H): await c.call('auction.register', auction_id=r['auction_id'])
    await ctx.adv_to(g['opens_at'])
    await X.call('auction.bid', auction_id=r['auction_id'], amount=g['start_price'])
    e = await H.errm('auction.bid', auction_id=r['auction_id'], amount=g['start_price'])
    check('co-owner in a disposal may match the standing bid and lead (rule 6)', e[0] == 'OK', e)
run('r19', sc)
