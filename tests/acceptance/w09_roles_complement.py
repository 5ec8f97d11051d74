# PROTOCOL "Methods" table, column "who", for the role/method pairs t01 does not call: each role that the column does
# not name gets FORBIDDEN (well-formed params naming real objects), and the refused call changes nothing.
# (admin -> admin, operator; operator -> operator; bank -> bank; enterprise/individual -> trader; backstop -> backstop.)
from common import *
async def sc(ctx):
    a = ctx.adm
    op = await ctx.mk('operator'); bank = await ctx.mk('bank')
    own = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=50_000_000)
    bs = await ctx.mk('backstop', fund=50_000_000); rf = await ctx.mk('risk_fund')
    plain = await new_asset(ctx, own)
    pl = await new_asset(ctx, own)
    await bank.call('pledge.register', asset_id=pl, pledgee=bank.pid, loan_outstanding=1_000_000, registration_no='R-PL')
    _, E = await new_auction(ctx, own)
    mkt_asset = await new_asset(ctx, own)
    await own.call('market.create', market_id='M1', asset_id=mkt_asset, licence=LIC, tick=10, min_qty=1)
    await own.call('units.issue', market_id='M1', qty=100)
    o = await X.call('order.place', market_id='M1', side='buy', type='limit', price=100, qty=5, tif='gtc', client_order_id='x1')
    roles = {'admin': a, 'operator': op, 'bank': bank, 'trader': X, 'backstop': bs, 'risk_fund': rf}
    now = await ctx.now()
    calls = [
        ('participant.create', dict(name='n', kind='enterprise', region='chengdu', whitelisted=True), ['operator', 'bank', 'trader']),
        ('account.fund', dict(participant_id=X.pid, amount=1), ['operator']),
        ('time.advance', dict(ms=1), ['trader']),
        ('asset.register', dict(asset_id='ZZ1', kind='trademark', title='t', owner=own.pid, region='chengdu', industry='other',
                                valuation=100, expires_at=now + DAY), ['bank']),
        ('pledge.consent', dict(asset_id=pl), ['trader']),
        ('auction.cancel', dict(auction_id=E, reason='r'), ['trader']),
        ('auction.register', dict(auction_id=E), ['risk_fund']),
        ('market.create', dict(market_id='M2', asset_id=plain, licence=LIC, tick=10, min_qty=1), ['bank', 'backstop']),
        ('units.issue', dict(market_id='M1', qty=1), ['bank']),
        ('order.place', dict(market_id='M1', side='buy', type='limit', price=100, qty=1, tif='gtc', client_order_id='r1'),
         ['admin', 'bank', 'backstop']),
        ('order.cancel', dict(market_id='M1', order_id=o['order_id']), ['backstop', 'operator']),
    ]
    before = {k: await a.call('account.get', participant_id=c.pid) for k, c in roles.items() if k != 'admin'}
    n0 = await ctx.now()
    for m, p, who in calls:
        for w in who:
            e = await roles[w].errm(m, **p)
            check(f'{m} by {w} -> FORBIDDEN', e[0] == 'FORBIDDEN', e)
    after = {k: await a.call('account.get', participant_id=c.pid) for k, c in roles.items() if k != 'admin'}
    check('refused calls changed no account', before == after, [k for k in before if before[k] != after[k]])
    check('refused time.advance did not move the clock', await ctx.now() == n0)
    g = await a.call('auction.get', auction_id=E)
    check('auction E untouched', g['state'] == 'open' and g['bids'] == 0, g)
    e = await a.errm('asset.register', asset_id='ZZ1', kind='trademark', title='t', owner=own.pid, region='chengdu', industry='other',
                     valuation=100, expires_at=now + DAY)
    check('asset ZZ1 was not created by the refused call (admin may create it now)', e[0] == 'OK', e)
    e = await own.errm('market.create', market_id='M2', asset_id=plain, licence=LIC, tick=10, min_qty=1)
    check('market M2 was not created by the refused calls (owner may create it now)', e[0] == 'OK', e)
run('w09', sc)
