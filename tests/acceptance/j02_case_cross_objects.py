# Hostile sequences (eighteenth audit): a disposal case against everything else a client may try on its asset.
# The pledgor registering for its own disposal round (docs auction.register: the seller gets NOT_QUALIFIED);
# a market on the asset during the case; another bank's / the case bank's pledge.register and pledge.consent while
# the case is in round 1 and in settlement (docs pledge.register / pledge.consent: INVALID_STATE under disposal);
# the pledgor's listing during settlement; after the sale, the bank reopening a case on the sold asset (no live
# pledge: NOT_FOUND, docs disposal.open). Every refusal changes nothing; cash is conserved.
from common import *

async def cash_total(ctx, people):
    t = 0
    for c in people:
        a = await ctx.adm.call('account.get', participant_id=c.pid); t += a['cash_available'] + a['cash_held']
    return t

async def scenario(ctx):
    a = ctx.adm
    O = await ctx.mk('enterprise', fund=5_000_000)
    X = await ctx.mk('individual', fund=50_000_000)
    B = await ctx.mk('bank'); B2 = await ctx.mk('bank')
    people = [O, X, B, B2]; FUNDED = 55_000_000
    aid, case, r1 = await new_case(ctx, B, O, 10_000_000, loan=3_000_000)
    # the pledgor's licence market on the asset in a case (listing rules: asset under disposal)
    e = await refused(ctx, 'pledgor creates a unit market on its asset under disposal', O, 'market.create', people, [r1], [case],
                      market_id='JM', asset_id=aid, licence=LIC, tick=100, min_qty=10)
    check('market.create on an asset under disposal: INVALID_STATE (docs auction.create listing rules, market.create)',
          e[0] == 'INVALID_STATE', e)
    e = await refused(ctx, 'another bank pledges the asset in round 1', B2, 'pledge.register', people, [r1], [case],
                      asset_id=aid, pledgee=B2.pid, loan_outstanding=1_000_000, registration_no='J02-B2')
    check('pledge.register on an asset in an open case: INVALID_STATE (docs pledge.register)', e[0] == 'INVALID_STATE', e)
    e = await refused(ctx, 'case bank consents during its own case', B, 'pledge.consent', people, [r1], [case], asset_id=aid)
    check('pledge.consent while the asset is under disposal: INVALID_STATE (docs pledge.consent)', e[0] == 'INVALID_STATE', e)
    await ctx.adv(30 * DAY)
    g = await a.call('auction.get', auction_id=r1); check('round 1 open after 30 d', g['state'] == 'open', g['state'])
    e = await refused(ctx, 'pledgor registers for its own disposal round', O, 'auction.register', people, [r1], [case], auction_id=r1)
    check('the pledgor (the seller) registering for its own disposal round: NOT_QUALIFIED (docs auction.register)',
          e[0] == 'NOT_QUALIFIED', e)
    await X.call('auction.register', auction_id=r1)
    await X.call('auction.bid', auction_id=r1, amount=g['start_price'])
    await ctx.adv(DAY)
    g = await a.call('auction.get', auction_id=r1); sid = g['settlement_id']
    check('round 1 sold to X', g['state'] == 'sold' and sid, g)
    s = await a.call('settlement.get', settlement_id=sid)
    print('  info: disposal settlement seller =', s.get('seller'), 'pledgor =', O.pid)
    d = await B.call('disposal.get', case_id=case); check('case in settlement', d['state'] == 'settlement', d['state'])
    for who, tag in ((B2, 'another bank'), (B, 'the case bank (a second loan)')):
        e = await refused(ctx, f'{tag} pledges the asset while its case is in settlement', who, 'pledge.register', people,
                          [r1], [case], [sid], asset_id=aid, pledgee=who.pid, loan_outstanding=1_000_000,
                          registration_no='J02-S-' + who.pid)
        check(f'pledge.register by {tag} during the case\'s settlement: INVALID_STATE (docs: open case / live sale)',
              e[0] == 'INVALID_STATE', e)
    now = await ctx.now()
    e = await refused(ctx, 'pledgor lists the asset during settlement', O, 'auction.create', people, [r1], [case], [sid],
                      lot=[aid], purpose='transfer', format='english', start_price=1_000_000, increment=10_000, deposit=0,
                      opens_at=now, closes_at=now + DAY)
    check('auction.create by the pledgor during the case\'s settlement: INVALID_STATE (asset under disposal)',
          e[0] == 'INVALID_STATE', e)
    e = await refused(ctx, 'operator cancels the sold round', a, 'auction.cancel', people, [r1], [case], [sid], auction_id=r1, reason='x')
    check('auction.cancel of a sold round: refused', e[0] != 'OK', e)
    await X.call('settlement.pay', settlement_id=sid)
    await a.call('settlement.confirm', settlement_id=sid, registration_no='J02-REG')
    ab = await a.call('account.get', participant_id=B.pid); ao = await a.call('account.get', participant_id=O.pid)
    ax = await a.call('account.get', participant_id=X.pid)
    price = g['price']
    check('the bank is paid its claim (3,000,000) from the sale', ab['cash_available'] == 3_000_000, ab)
    check('the pledgor gets the surplus (price - claim)', ao['cash_available'] == 5_000_000 + price - 3_000_000, (ao, price))
    check('X holds the title, cash = funded - price, nothing held', (pos(ax, aid) or {}).get('units') == 1 and
          ax['cash_available'] == 50_000_000 - price and ax['cash_held'] == 0, ax)
    check('cash conserved', await cash_total(ctx, people) == FUNDED)
    e = await refused(ctx, 'bank reopens a case on the sold asset', B, 'disposal.open', people, [r1], [case],
                      assets=[aid], pledgee=B.pid, pledgor=O.pid, valuation=10_000_000)
    check('disposal.open on the sold asset (pledges released): NOT_FOUND (docs disposal.open) or INVALID_STATE',
          e[0] in ('NOT_FOUND', 'INVALID_STATE'), e)
    e = await refused(ctx, 'bank opens a case on the sold asset naming the buyer as pledgor', B, 'disposal.open', people, [r1], [case],
                      assets=[aid], pledgee=B.pid, pledgor=X.pid, valuation=10_000_000)
    check('disposal.open against the buyer with no pledge: NOT_FOUND (docs disposal.open)', e[0] == 'NOT_FOUND', e)

run('j02', scenario)
