# Rule 13 / 14 on licences of a pledged patent: listing or licensing needs EVERY pledgee's consent; "proceeds go to the
# pledgee first" for licence sales (auctions) and for the licensor's sales of licence units on a market; the payout to a
# pledgee over all the asset's sales is capped at its claim (PROTOCOL "The pledgee's payout is capped at the claim").
from common import *
async def sc(ctx):
    a = ctx.adm
    b1 = await ctx.mk('bank'); b2 = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('individual', fund=50_000_000)
    asset = await new_asset(ctx, own)
    await b1.call('pledge.register', asset_id=asset, pledgee=b1.pid, loan_outstanding=1_000_000, registration_no='P1', interest=50_000)
    await b2.call('pledge.register', asset_id=asset, pledgee=b2.pid, loan_outstanding=2_000_000, registration_no='P2')
    await b1.call('pledge.consent', asset_id=asset)
    now = await ctx.now()
    lic = lambda terr: {'kind': 'exclusive', 'territory': [terr], 'field': 'all', 'term_months': 12, 'royalty_bp': 0}
    lst = lambda terr: dict(lot=[asset], purpose='exclusive_licence', format='english', start_price=2_000_000, increment=100_000, deposit=200_000,
                            opens_at=now, closes_at=now + DAY, licence=lic(terr))
    e = await own.errm('auction.create', **lst('chengdu'))
    check('licence listing with one of two pledgees consenting -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    e = await own.errm('market.create', market_id='M', asset_id=asset, licence=LIC, tick=100, min_qty=10)
    check('market.create (licensing units) with one of two consents -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    await b2.call('pledge.consent', asset_id=asset)
    r = await own.call('auction.create', **lst('chengdu'))
    await X.call('auction.register', auction_id=r['auction_id']); await X.call('auction.bid', auction_id=r['auction_id'], amount=2_000_000)
    await ctx.adv(DAY)
    g = await a.call('auction.get', auction_id=r['auction_id'])
    await X.call('settlement.pay', settlement_id=g['settlement_id'])
    await a.call('settlement.confirm', settlement_id=g['settlement_id'], registration_no='L1')
    c = [(await p.call('account.get'))['cash_available'] for p in (b1, b2, own)]
    check('licence sale 2,000,000: b1 1,050,000 (claim), b2 950,000, owner 0', c == [1_050_000, 950_000, 0], c)
    # licence units market on the consented asset: the licensor's sale proceeds go to the pledgees first (b2 still owed 1,050,000)
    await own.call('market.create', market_id='M', asset_id=asset, licence=LIC, tick=100, min_qty=10)
    await own.call('units.issue', market_id='M', qty=100)
    await own.call('order.place', market_id='M', side='sell', type='limit', price=10_000, qty=100, tif='gtc', client_order_id='s')
    await Y.call('order.place', market_id='M', side='buy', type='limit', price=10_000, qty=100, tif='gtc', client_order_id='b')
    c2 = [(await p.call('account.get'))['cash_available'] for p in (b1, b2, own)]
    d = [x - y for x, y in zip(c2, c)]
    print('  info: units sale of 1,000,000 -> b1, b2, owner got', d)
    check('units sale 1,000,000 by the licensor of a pledged asset: proceeds to the pledgee still owed first (b2 +1,000,000, owner +0)', d == [0, 1_000_000, 0], d)
    # a second licence sale: b1 already paid its full claim, must get nothing more
    now = await ctx.now()
    lst2 = dict(lst('deyang'), opens_at=now, closes_at=now + DAY)
    r = await own.call('auction.create', **lst2)
    await X.call('auction.register', auction_id=r['auction_id']); await X.call('auction.bid', auction_id=r['auction_id'], amount=2_000_000)
    await ctx.adv(DAY)
    g = await a.call('auction.get', auction_id=r['auction_id'])
    await X.call('settlement.pay', settlement_id=g['settlement_id'])
    await a.call('settlement.confirm', settlement_id=g['settlement_id'], registration_no='L2')
    c3 = [(await p.call('account.get'))['cash_available'] for p in (b1, b2, own)]
    print('  info: totals after the second licence sale (b1, b2, owner):', c3)
    check('over all sales b1 is paid at most its claim 1,050,000', c3[0] <= 1_050_000, c3[0])
    check('over all sales b2 is paid at most its claim 2,000,000', c3[1] <= 2_000_000, c3[1])
    check('all 5,000,000 of proceeds reach b1 + b2 + owner', sum(c3) == 5_000_000, sum(c3))
    p = await a.call('asset.get', asset_id=asset) if True else None
    print('  info: pledges after the sales', [(x['pledgee'], x['claim'], x['status']) for x in (p.get('pledges') or [])])
run('u09', sc)
