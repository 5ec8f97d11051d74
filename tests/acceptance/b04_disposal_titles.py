# Audit b (sale effects): purpose `disposal` -- titles, pledges and licences after a disposal sale.
# (1) a one-asset case sold short of the claim: after confirm the buyer owns the patent (asset.get owner, positions),
#     the pledgor does not; the pledgee has the hammer price (<= claim); the pledge is spent (DOMAIN 14: "a shortfall
#     stays a debt of the debtor", not a charge on the sold patent), so the buyer may list it with no pledgee consent
#     (PROTOCOL: INVALID_STATE only for "a trader listing ... a pledged asset without the pledgee's pledge.consent");
#     a confirmed exclusive licence granted before the case (with consent) still blocks an overlapping one ("a
#     confirmed exclusive or sole licence of the same asset").
# (2) a two-asset lot: both titles pass to the buyer only at confirm (DOMAIN 8), surplus to the pledgor.
# (3) a co-owner named as priority holder wins by matching the standing bid (DOMAIN 6) and takes the title.
from common import *

PLAN = dict(notice_ms=MIN, bidding_ms=DAY)
def L(kind, terr, field, months=12): return {'kind': kind, 'territory': terr, 'field': field, 'term_months': months, 'royalty_bp': 200}

async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('enterprise', fund=50_000_000, region='deyang')
    H = await ctx.mk('individual', fund=50_000_000)
    V = 10_000_000   # start 7,000,000 (70,000 CNY: increment 2% = 140,000), deposit 700,000

    # --- (1) licence with consent, then a disposal short of the claim
    asset = await new_asset(ctx, own, valuation=V)
    await bank.call('pledge.register', asset_id=asset, pledgee=bank.pid, loan_outstanding=9_000_000, registration_no='PL-1')
    await bank.call('pledge.consent', asset_id=asset)
    now = await ctx.now()
    r = await own.call('auction.create', lot=[asset], purpose='exclusive_licence', format='english', start_price=500_000, increment=10_000,
                       deposit=50_000, opens_at=now, closes_at=now + DAY, licence=L('exclusive', ['chengdu'], 'all', 36))
    await Y.call('auction.register', auction_id=r['auction_id']); await Y.call('auction.bid', auction_id=r['auction_id'], amount=500_000)
    await ctx.adv(DAY)
    sid = (await a.call('auction.get', auction_id=r['auction_id']))['settlement_id']
    await Y.call('settlement.pay', settlement_id=sid); await a.call('settlement.confirm', settlement_id=sid, registration_no='LIC-1')
    b = await bank.call('account.get')
    check('licence sale of the pledged patent: 500,000 to the pledgee first (rule 13)', b['cash_available'] == 500_000, b)
    d = await bank.call('disposal.open', assets=[asset], pledgee=bank.pid, pledgor=own.pid, valuation=V, plan=PLAN)
    cid, A1 = d['case_id'], d['auction_id']
    dg = await bank.call('disposal.get', case_id=cid)
    print('  info: case claim after a 500,000 licence payout on a 9,000,000 loan:', dg['claim'])
    g = await a.call('auction.get', auction_id=A1)
    check('round 1: purpose disposal, start 7,000,000, deposit 700,000, increment 140,000',
          (g['purpose'], g['start_price'], g['deposit'], g['increment']) == ('disposal', 7_000_000, 700_000, 140_000), g)
    await X.call('auction.register', auction_id=A1)
    await ctx.adv_to(g['opens_at'])
    await X.call('auction.bid', auction_id=A1, amount=7_000_000)
    await ctx.adv_to(g['closes_at'])
    g = await a.call('auction.get', auction_id=A1); sid = g['settlement_id']
    dg = await bank.call('disposal.get', case_id=cid)
    check('sold close: case in settlement, settlement_id set', dg['state'] == 'settlement' and dg.get('settlement_id') == sid, dg)
    await X.call('settlement.pay', settlement_id=sid)
    ga = await a.call('asset.get', asset_id=asset); o = await own.call('account.get')
    check('paid, not confirmed: pledgor still owns the title', ga['owner'] == own.pid and pos(o, asset) is not None, (ga['owner'], o))
    b0 = await bank.call('account.get')
    await a.call('settlement.confirm', settlement_id=sid, registration_no='DISP-1')
    b1 = await bank.call('account.get'); x = await X.call('account.get'); o = await own.call('account.get')
    ga = await a.call('asset.get', asset_id=asset)
    check('confirm: the buyer owns the patent (asset.get owner, position units 1), the pledgor not',
          ga['owner'] == X.pid and (pos(x, asset) or {}).get('units') == 1 and pos(o, asset) is None, (ga, x, o))
    check('confirm: the pledgee got the whole hammer 7,000,000 (short of its claim), the pledgor nothing',
          b1['cash_available'] - b0['cash_available'] == 7_000_000 and o['cash_available'] == 0, (b0, b1, o))
    check('confirm: the buyer paid 7,000,000 and holds nothing', (x['cash_available'], x['cash_held']) == (43_000_000, 0), x)
    dg = await bank.call('disposal.get', case_id=cid)
    check('case closed, outcome sold', (dg['state'], dg.get('outcome')) == ('closed', 'sold'), dg)
    live = [p for p in (ga.get('pledges') or []) if p.get('status') not in ('released', 'discharged', 'realised', 'realized', 'closed', 'settled')]
    print('  info: asset.get pledges after the disposal:', ga.get('pledges'), 'pledge:', ga.get('pledge'))
    now = await ctx.now()
    e = await X.errm('auction.create', lot=[asset], purpose='transfer', format='english', start_price=8_000_000, increment=80_000,
                     deposit=800_000, opens_at=now, closes_at=now + DAY)
    check('the buyer lists the patent it bought in the disposal without any consent -> accepted (the pledge was realised)', e[0] == 'OK', e)
    if e[0] == 'OK': await a.call('auction.cancel', auction_id=e[1]['auction_id'], reason='probe')
    e = await X.errm('auction.create', lot=[asset], purpose='exclusive_licence', format='english', start_price=500_000, increment=10_000,
                     deposit=50_000, opens_at=now, closes_at=now + DAY, licence=L('exclusive', ['chengdu'], 'f7'))
    check("the confirmed exclusive licence (chengdu/all) survives the disposal: an overlapping exclusive one -> INVALID_STATE", e[0] == 'INVALID_STATE', e)
    e = await bank.errm('disposal.open', assets=[asset], pledgee=bank.pid, pledgor=own.pid, valuation=V)
    check('a second case on the sold patent by the old pledgee is refused', e[0] != 'OK', e)

    # --- (2) a two-asset lot, surplus to the pledgor
    a1 = await new_asset(ctx, own, valuation=5_000_000); a2 = await new_asset(ctx, own, valuation=5_000_000)
    await bank.call('pledge.register', asset_id=a1, pledgee=bank.pid, loan_outstanding=1_000_000, registration_no='PL-2')
    await bank.call('pledge.register', asset_id=a2, pledgee=bank.pid, loan_outstanding=2_000_000, registration_no='PL-3')
    d = await bank.call('disposal.open', assets=[a1, a2], pledgee=bank.pid, pledgor=own.pid, valuation=V, plan=PLAN)
    g = await a.call('auction.get', auction_id=d['auction_id'])
    check('two-asset lot on the round', sorted(g['lot']) == sorted([a1, a2]), g['lot'])
    await Y.call('auction.register', auction_id=d['auction_id'])
    await ctx.adv_to(g['opens_at']); await Y.call('auction.bid', auction_id=d['auction_id'], amount=7_000_000)
    await ctx.adv_to(g['closes_at'])
    sid = (await a.call('auction.get', auction_id=d['auction_id']))['settlement_id']
    await Y.call('settlement.pay', settlement_id=sid)
    y = await Y.call('account.get')
    check('two-asset lot, paid: no title yet', pos(y, a1) is None and pos(y, a2) is None, y)
    b0 = (await bank.call('account.get'))['cash_available']; o0 = (await own.call('account.get'))['cash_available']
    await a.call('settlement.confirm', settlement_id=sid, registration_no='DISP-2')
    y = await Y.call('account.get'); o = await own.call('account.get'); b1 = (await bank.call('account.get'))['cash_available']
    check('two-asset lot, confirmed: the buyer has both titles, the pledgor neither',
          pos(y, a1) and pos(y, a2) and pos(o, a1) is None and pos(o, a2) is None, (y, o))
    check('two-asset lot: pledgee 3,000,000 (claim), pledgor the surplus 4,000,000',
          (b1 - b0, o['cash_available'] - o0) == (3_000_000, 4_000_000), (b1 - b0, o['cash_available'] - o0))
    for x_ in (a1, a2):
        ga = await a.call('asset.get', asset_id=x_)
        check(f'{x_}: asset.get owner = the buyer', ga['owner'] == Y.pid, ga)

    # --- (3) a co-owner as priority holder in a disposal takes the title by matching the standing bid
    a3 = 'CO-AS-1'
    await a.call('asset.register', asset_id=a3, kind='invention_patent', title='co-owned', owner=own.pid, region='chengdu', industry='other',
                 valuation=V, expires_at=T0 + 3650 * DAY, co_owners=[H.pid])
    await bank.call('pledge.register', asset_id=a3, pledgee=bank.pid, loan_outstanding=20_000_000, registration_no='PL-4')
    d = await bank.call('disposal.open', assets=[a3], pledgee=bank.pid, pledgor=own.pid, valuation=V, plan=PLAN)
    g = await a.call('auction.get', auction_id=d['auction_id'])
    hc = (await H.call('auction.register', auction_id=d['auction_id']))['bidder_code']
    await X.call('auction.register', auction_id=d['auction_id'])
    await ctx.adv_to(g['opens_at'])
    await X.call('auction.bid', auction_id=d['auction_id'], amount=7_000_000)
    e = await H.errm('auction.bid', auction_id=d['auction_id'], amount=7_000_000)
    check('co-owner matches the standing bid 7,000,000 and leads (rule 6)', e[0] == 'OK' and e[1].get('leader') == hc, e)
    await ctx.adv_to(g['closes_at'])
    g = await a.call('auction.get', auction_id=d['auction_id'])
    check('co-owner wins at 7,000,000', g['winner'] == hc and g['price'] == 7_000_000, g)
    sid = g['settlement_id']
    await H.call('settlement.pay', settlement_id=sid); await a.call('settlement.confirm', settlement_id=sid, registration_no='DISP-3')
    h = await H.call('account.get'); ga = await a.call('asset.get', asset_id=a3)
    check('co-owner buyer: title, paid 7,000,000', pos(h, a3) and (h['cash_available'], h['cash_held']) == (43_000_000, 0), h)
    check('asset.get owner = the co-owner who bought', ga['owner'] == H.pid, ga)
    print('  info: co_owners after the co-owner bought the pledgor\'s patent:', ga.get('co_owners'), '(owner', ga['owner'], ')')
run('b04', sc)
