# Hostile sequences (eighteenth audit, PROTOCOL.md / DOMAIN.md / docs/protocol.md): a patent with a running
# licence-unit market is sold by a transfer auction. Cash and units are conserved through every step; after the
# sale the old owner may no longer list, license or pledge the patent (PROTOCOL "Edges": another trader's asset is
# NOT_FOUND; docs pledge.register: pledgor must be the owner), the new owner may (market.create: "the asset's owner
# (licensor)"); every refused step changes nothing.
from common import *

async def totals(ctx, people, markets):
    cash = 0; units = {m: 0 for m in markets}
    for c in people:
        a = await ctx.adm.call('account.get', participant_id=c.pid)
        cash += a['cash_available'] + a['cash_held']
        for m in markets: units[m] += mp(a, m)[0]
    return cash, units

async def scenario(ctx):
    a = ctx.adm
    O = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('individual', fund=50_000_000)
    bank = await ctx.mk('bank')
    people = [O, X, Y, bank]; FUNDED = 100_000_000
    A = await new_asset(ctx, O)
    await O.call('market.create', market_id='M1', asset_id=A, licence=LIC, tick=100, min_qty=10)
    await O.call('units.issue', market_id='M1', qty=1000)
    OM = order_maker('M1', 'sell'); YM = order_maker('M1', 'buy')
    await O.call('order.place', **OM(price=1000, qty=300, client_order_id='o-s1'))
    r = await Y.call('order.place', **YM(price=1000, qty=100, client_order_id='y-b1'))
    check('Y buys 100 units from the licensor', r['filled_qty'] == 100, r)
    await Y.call('order.place', **YM(price=900, qty=50, client_order_id='y-b2'))
    # the patent is sold by its owner while the market runs
    now = await ctx.now()
    au = (await O.call('auction.create', lot=[A], purpose='transfer', format='english', start_price=1_000_000,
                       increment=10_000, deposit=100_000, opens_at=now, closes_at=now + DAY))['auction_id']
    await X.call('auction.register', auction_id=au)
    await X.call('auction.bid', auction_id=au, amount=1_000_000)
    await ctx.adv(DAY)
    sid = (await a.call('auction.get', auction_id=au))['settlement_id']
    check('transfer auction sold', sid is not None)
    await X.call('settlement.pay', settlement_id=sid)
    await a.call('settlement.confirm', settlement_id=sid, registration_no='REG-J01')
    ax = await a.call('account.get', participant_id=X.pid); ao = await a.call('account.get', participant_id=O.pid)
    check('title passed: X holds the patent (units 1)', (pos(ax, A) or {}).get('units') == 1, ax['positions'])
    check('title passed: O no longer holds the patent', not (pos(ao, A) or {}).get('units'), ao['positions'])
    check('O received the price (1,000,000 fen) and the 100,000 of unit sales',
          ao['cash_available'] + ao['cash_held'] == 1_100_000, ao)
    cash, units = await totals(ctx, people, ['M1'])
    check('cash conserved after the sale', cash == FUNDED, cash)
    check('units of M1 conserved after the sale (1000 issued)', units['M1'] == 1000, units)
    # the old owner acts on the patent it sold
    e = await refused(ctx, 'old owner creates a new market on the sold patent', O, 'market.create', people,
                      market_id='M2', asset_id=A, licence=LIC, tick=100, min_qty=10)
    check('old owner market.create on the sold patent: NOT_FOUND (PROTOCOL Edges: another trader\'s asset)',
          e[0] == 'NOT_FOUND', e)
    now = await ctx.now()
    e = await refused(ctx, 'old owner lists the sold patent', O, 'auction.create', people, lot=[A], purpose='transfer',
                      format='english', start_price=1_000_000, increment=10_000, deposit=0, opens_at=now, closes_at=now + DAY)
    check('old owner auction.create on the sold patent: NOT_FOUND (PROTOCOL Edges)', e[0] == 'NOT_FOUND', e)
    e = await refused(ctx, 'old owner licenses the sold patent (exclusive licence auction)', O, 'auction.create', people,
                      lot=[A], purpose='exclusive_licence', format='english', start_price=1_000_000, increment=10_000,
                      deposit=0, opens_at=now, closes_at=now + DAY,
                      licence={'kind': 'exclusive', 'territory': ['cn'], 'field': 'all', 'term_months': 12, 'royalty_bp': 0})
    check('old owner exclusive licence auction on the sold patent: NOT_FOUND', e[0] == 'NOT_FOUND', e)
    e = await refused(ctx, 'bank pledges the sold patent naming the old owner as pledgor', bank, 'pledge.register', people,
                      asset_id=A, pledgee=bank.pid, loan_outstanding=500_000, registration_no='J01-P1', pledgor=O.pid)
    check('pledge.register with pledgor = the former owner: INVALID_STATE (docs pledge.register)', e[0] == 'INVALID_STATE', e)
    # the new owner licenses it
    e = await X.errm('market.create', market_id='M3', asset_id=A, licence=LIC, tick=100, min_qty=10)
    check('new owner may create a unit market on its patent (market.create: the asset\'s owner)', e[0] == 'OK', e)
    if e[0] == 'OK':
        check('the new market\'s licensor is the new owner', e[1].get('licensor') == X.pid, e[1])
        e = await X.errm('units.issue', market_id='M3', qty=100); check('new owner issues units', e[0] == 'OK', e)
    # the old market: what the old licensor may still do (contract silent: reported, not asserted)
    e = await O.errm('units.issue', market_id='M1', qty=100); code_ok('old licensor issues units on the old market', e)
    issued_after_sale = 100 if e[0] == 'OK' else 0
    print('  info: old licensor units.issue on M1 after selling the patent ->', e[0], e[1] if e[0] != 'OK' else '')
    e = await O.errm('order.place', **OM(price=1100, qty=10, client_order_id='o-s2')); code_ok('old licensor new sell', e)
    print('  info: old licensor new sell order on M1 ->', e[0])
    e = await X.errm('units.issue', market_id='M1', qty=100); code_ok('new owner issues units on the old market', e)
    print('  info: new owner units.issue on M1 ->', e[0])
    # the new owner pledges the patent (no consent): DOMAIN 13, docs units.issue: while the asset has a pledge its
    # pledgee has not consented to, units.issue and the licensor's own new sell orders are INVALID_STATE; resting sells
    # stay and their proceeds go to the pledgees first.
    pl = await bank.call('pledge.register', asset_id=A, pledgee=bank.pid, loan_outstanding=500_000, registration_no='J01-P2')
    check('the new owner is the pledgor of the new pledge', pl.get('pledgor') == X.pid, pl)
    e = await refused(ctx, 'old licensor issues units on the now-pledged patent', O, 'units.issue', people, qty=100, market_id='M1')
    check('DOMAIN 13 / docs units.issue: units.issue on a market of a pledged patent without consent is INVALID_STATE '
          '(whoever the market\'s licensor is)', e[0] == 'INVALID_STATE', e)
    e = await refused(ctx, 'old licensor new sell on the now-pledged patent', O, 'order.place', people,
                      **OM(price=1200, qty=10, client_order_id='o-s4'))
    check('DOMAIN 13 / docs units.issue: the licensor\'s new sell order on a pledged patent without consent is INVALID_STATE',
          e[0] == 'INVALID_STATE', e)
    e = await refused(ctx, 'new owner issues on its own market of the pledged patent', X, 'units.issue', people, market_id='M3', qty=10)
    check('DOMAIN 13: the new owner\'s units.issue on its pledged patent without consent is INVALID_STATE', e[0] == 'INVALID_STATE', e)
    # the old licensor's resting sell (200 left at 1000) trades: proceeds to the pledgee first (docs units.issue)
    before = {c.pid: await a.call('account.get', participant_id=c.pid) for c in (O, bank)}
    r = await Y.call('order.place', **YM(price=1000, qty=100, client_order_id='y-b3'))
    after = {c.pid: await a.call('account.get', participant_id=c.pid) for c in (O, bank)}
    got_o = after[O.pid]['cash_available'] - before[O.pid]['cash_available']
    got_b = after[bank.pid]['cash_available'] - before[bank.pid]['cash_available']
    print('  info: Y takes 100 of the old licensor\'s resting sell after the sale and the pledge: filled', r['filled_qty'],
          'O +', got_o, 'bank +', got_b)
    if r['filled_qty'] == 100:
        check('docs units.issue/settlement.confirm: a licensor\'s resting sell on a pledged patent pays the pledgee first '
              '(100,000 fen, claim 500,000) - not the licensor', got_b == 100_000 and got_o == 0, (got_o, got_b))
    cash, units = await totals(ctx, people, ['M1', 'M3'])
    check('cash conserved at the end', cash == FUNDED, cash)
    print('  info: units at the end', units)
    check('units of M1 = 1000 + the issue after the sale if it was accepted', units['M1'] == 1000 + issued_after_sale, units)

run('j01', scenario)
