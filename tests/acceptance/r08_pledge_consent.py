# Rule 13/14: pledged asset cannot be listed/licensed by its owner without consent; consent by the pledgee only;
# proceeds to pledgees first, in registration order; surplus to pledgor
from common import *
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); bank2 = await ctx.mk('bank'); own = await ctx.mk('enterprise'); other = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=100_000_000)
    asset = await new_asset(ctx, own, valuation=10_000_000)
    p = await bank.call('pledge.register', asset_id=asset, pledgee=bank.pid, loan_outstanding=3_000_000, registration_no='P1', interest=100_000)
    check('pledge claim = sum', p['claim'] == 3_100_000, p)
    p2 = await bank2.call('pledge.register', asset_id=asset, pledgee=bank2.pid, loan_outstanding=2_000_000, registration_no='P2')
    now = await ctx.now()
    lst = dict(lot=[asset], purpose='transfer', format='english', start_price=7_000_000, increment=100_000, deposit=500_000, opens_at=now, closes_at=now + DAY)
    e = await own.errm('auction.create', **lst)
    check('owner listing pledged asset w/o consent -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    e = await own.errm('auction.create', **dict(lst, purpose='exclusive_licence', licence={'kind': 'exclusive', 'territory': ['chengdu'], 'field': 'all', 'term_months': 12, 'royalty_bp': 0}))
    check('owner licensing pledged asset w/o consent -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    e = await own.errm('market.create', market_id='M1', asset_id=asset, licence={'kind': 'non_exclusive', 'territory': ['cn'], 'field': 'all', 'term_months': 12, 'royalty_bp': 0}, tick=100, min_qty=1)
    check('owner market.create on pledged asset w/o consent -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    e = await other.err('auction.create', **lst)
    check("trader listing another trader's asset -> NOT_FOUND", e == 'NOT_FOUND', e)
    e = await own.err('pledge.consent', asset_id=asset)
    check('trader pledge.consent -> FORBIDDEN', e == 'FORBIDDEN', e)
    e = await bank2.errm('pledge.consent', asset_id=asset)
    print('second pledgee consent:', e)
    bank3 = await ctx.mk('bank')
    e = await bank3.err('pledge.consent', asset_id=asset)
    check('unrelated bank pledge.consent -> NOT_FOUND', e == 'NOT_FOUND', e)
    e = await bank.err('pledge.consent', asset_id='NOPE')
    check('pledge.consent unknown asset -> NOT_FOUND', e == 'NOT_FOUND', e)
    c = await bank.call('pledge.consent', asset_id=asset)
    check('consent result consented=true', c.get('consented') is True, c)
    e = await own.errm('auction.create', **lst)
    print('after first pledgee consent only:', e[0], e[1] if e[0] != 'OK' else '')
    if e[0] != 'OK':
        await bank2.call('pledge.consent', asset_id=asset)
        e = await own.errm('auction.create', **lst)
    check('owner may list after consent', e[0] == 'OK', e)
    aid = e[1]['auction_id']
    await X.call('auction.register', auction_id=aid)
    await X.call('auction.bid', auction_id=aid, amount=7_000_000)
    await ctx.adv(DAY)
    g = await a.call('auction.get', auction_id=aid)
    s = await X.call('settlement.pay', settlement_id=g['settlement_id'])
    await a.call('settlement.confirm', settlement_id=g['settlement_id'], registration_no='REG')
    b1 = (await bank.call('account.get'))['cash_available']; b2 = (await bank2.call('account.get'))['cash_available']
    o = (await own.call('account.get'))['cash_available']
    check('proceeds: bank1 claim 3.1M, bank2 2.0M, owner 1.9M', (b1, b2, o) == (3_100_000, 2_000_000, 1_900_000), (b1, b2, o))
    check('title to buyer', pos(await X.call('account.get'), asset) is not None and pos(await own.call('account.get'), asset) is None)
    # registration order in a disposal where proceeds < total claims
    asset2 = await new_asset(ctx, own, valuation=10_000_000)
    await bank2.call('pledge.register', asset_id=asset2, pledgee=bank2.pid, loan_outstanding=5_000_000, registration_no='Q1')
    await bank.call('pledge.register', asset_id=asset2, pledgee=bank.pid, loan_outstanding=5_000_000, registration_no='Q2')
    r = await bank.errm('disposal.open', assets=[asset2], pledgee=bank.pid, pledgor=own.pid, valuation=10_000_000)
    print('junior pledgee disposal.open:', r[0], r[1] if r[0] != 'OK' else r[1]['claim'])
    if r[0] == 'OK':
        cid, aid = r[1]['case_id'], r[1]['auction_id']
        g = await a.call('auction.get', auction_id=aid)
        await X.call('auction.register', auction_id=aid); await ctx.adv_to(g['opens_at'])
        await X.call('auction.bid', auction_id=aid, amount=g['start_price']); await ctx.adv_to(g['closes_at'])
        g = await a.call('auction.get', auction_id=aid)
        await X.call('settlement.pay', settlement_id=g['settlement_id'])
        b1_0 = (await bank.call('account.get'))['cash_available']; b2_0 = (await bank2.call('account.get'))['cash_available']
        await a.call('settlement.confirm', settlement_id=g['settlement_id'], registration_no='REG2')
        b1 = (await bank.call('account.get'))['cash_available'] - b1_0; b2 = (await bank2.call('account.get'))['cash_available'] - b2_0
        check('registration order: senior (bank2) 5M first, junior (bank) 2M', (b2, b1) == (5_000_000, 2_000_000), (b2, b1))
run('r08', sc)
