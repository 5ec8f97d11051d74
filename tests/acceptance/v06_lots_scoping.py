# Multi-asset lots (auction.create lot[], disposal.open assets[]): every title moves to the buyer at confirm
# ("Titles appear in positions as {asset_id, units: 1}"); NOT_FOUND for another participant's resources where the
# caller's role could use the method on its own; the seller's private channel hears of the proceeds.
from common import *

async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise'); oth = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=100_000_000); Y = await ctx.mk('individual', fund=100_000_000)
    bank = await ctx.mk('bank'); bank2 = await ctx.mk('bank')
    # --- a two-asset lot by the operator
    a1 = await new_asset(ctx, own); a2 = await new_asset(ctx, own)
    now = await ctx.now()
    A = (await a.call('auction.create', lot=[a1, a2], purpose='transfer', format='english', start_price=1_000_000, increment=10_000,
                      deposit=100_000, opens_at=now, closes_at=now + DAY))['auction_id']
    g = await a.call('auction.get', auction_id=A)
    check('auction.get lot = both assets', g['lot'] == [a1, a2], g['lot'])
    await X.call('auction.register', auction_id=A); await X.call('auction.bid', auction_id=A, amount=1_000_000)
    await own.call('subscribe', channels=['private']); await own.drain()
    await ctx.adv(DAY)
    sid = (await a.call('auction.get', auction_id=A))['settlement_id']
    await X.call('settlement.pay', settlement_id=sid)
    await a.call('settlement.confirm', settlement_id=sid, registration_no='REG-L')
    ax = await X.call('account.get'); ao = await own.call('account.get')
    check('both titles to the buyer {asset_id, units: 1}', pos(ax, a1) and pos(ax, a2) and pos(ax, a1)['units'] == 1 and pos(ax, a2)['units'] == 1, ax['positions'])
    check('seller keeps neither title', not (pos(ao, a1) or {}).get('units') and not (pos(ao, a2) or {}).get('units'), ao['positions'])
    check('seller paid 1,000,000', ao['cash_available'] == 1_000_000, ao)
    pp = [m for m in await own.drain() if m['channel'] == 'private']
    check("seller's private channel: a push showing the proceeds (balance 1,000,000)", any('1000000' in json.dumps(m['data']) for m in pp), pp)
    # --- a two-asset disposal case: the round-1 lot holds both; the buyer gets both
    b1 = await new_asset(ctx, own, valuation=5_000_000); b2 = await new_asset(ctx, own, valuation=5_000_000)
    for i, b in enumerate((b1, b2)):
        await bank.call('pledge.register', asset_id=b, pledgee=bank.pid, loan_outstanding=2_000_000, registration_no=f'RB{i}')
    r = await bank.call('disposal.open', assets=[b1, b2], pledgee=bank.pid, pledgor=own.pid, valuation=10_000_000)
    cid, R1 = r['case_id'], r['auction_id']
    g = await a.call('auction.get', auction_id=R1)
    check('disposal round 1: lot = both assets, start 70% of the case valuation', sorted(g['lot']) == sorted([b1, b2]) and g['start_price'] == 7_000_000, g)
    # --- scoping: another bank's case, another trader's account/asset/order/settlement -> NOT_FOUND
    e = await bank2.errm('disposal.get', case_id=cid)
    check("disposal.get of another bank's case -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await X.errm('account.get', participant_id=Y.pid)
    check("trader account.get of another trader -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await Y.errm('settlement.get', settlement_id=sid)
    check("settlement.get by a non-party trader -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await Y.errm('settlement.pay', settlement_id=sid)
    check("settlement.pay of another's settlement -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    c1 = await new_asset(ctx, oth)
    now = await ctx.now()
    e = await own.errm('auction.create', lot=[c1], purpose='transfer', format='english', start_price=1_000_000, increment=10_000,
                       deposit=100_000, opens_at=now, closes_at=now + DAY)
    check("trader auction.create of another trader's asset -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    c0 = await new_asset(ctx, own)
    e = await own.errm('auction.create', lot=[c0, c1], purpose='transfer', format='english', start_price=1_000_000, increment=10_000,
                       deposit=100_000, opens_at=now, closes_at=now + DAY)
    check("trader auction.create with own + another's asset -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await own.errm('market.create', market_id='MX', asset_id=c1, licence=LIC, tick=10, min_qty=1)
    check("trader market.create on another trader's asset -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    await oth.call('market.create', market_id='MO', asset_id=c1, licence=LIC, tick=10, min_qty=1)
    await oth.call('units.issue', market_id='MO', qty=10)
    o = await oth.call('order.place', market_id='MO', side='sell', type='limit', price=100, qty=10, tif='gtc', client_order_id='o1')
    e = await X.errm('order.cancel', market_id='MO', order_id=o['order_id'])
    check("order.cancel of another's order -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await X.errm('order.cancel', market_id='MO', client_order_id='o1')
    check("order.cancel by another's client_order_id -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await bank2.errm('pledge.register', asset_id=c1, pledgee=bank.pid, loan_outstanding=1, registration_no='RZ')
    print('  info: a bank registering a pledge for another bank ->', e)
    # the two-asset case sells; both titles move
    await ctx.adv_to(g['opens_at'])
    await Y.call('auction.register', auction_id=R1); await Y.call('auction.bid', auction_id=R1, amount=7_000_000)
    await ctx.adv_to(g['closes_at'])
    d = await bank.call('disposal.get', case_id=cid)
    await Y.call('settlement.pay', settlement_id=d['settlement_id'])
    await a.call('settlement.confirm', settlement_id=d['settlement_id'], registration_no='REG-C')
    ay = await Y.call('account.get'); ab = await bank.call('account.get'); ao2 = await own.call('account.get')
    check('case: both titles to the buyer', pos(ay, b1) and pos(ay, b2) and pos(ay, b1)['units'] == 1 and pos(ay, b2)['units'] == 1, ay['positions'])
    check('case: pledgor keeps neither', not (pos(ao2, b1) or {}).get('units') and not (pos(ao2, b2) or {}).get('units'), ao2['positions'])
    d = await bank.call('disposal.get', case_id=cid)
    check('case closed, outcome sold', d['state'] == 'closed' and d.get('outcome') == 'sold', d)
    print('  info: two-asset case claim', d['claim'], 'bank cash', ab['cash_available'], 'pledgor cash', ao2['cash_available'] - 1_000_000)
run('v06', sc)
