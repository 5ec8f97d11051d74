# market.create roles and validation; units.issue; positions shape
from common import *
async def sc(ctx):
    a = ctx.adm
    op = await ctx.mk('operator'); bank = await ctx.mk('bank'); bs = await ctx.mk('backstop')
    own = await ctx.mk('enterprise'); X = await ctx.mk('individual')
    asset = await new_asset(ctx, own)
    base = dict(market_id='M1', asset_id=asset, licence=LIC, tick=100, min_qty=10)
    for who, c, exp in (('bank', bank, 'FORBIDDEN'), ('backstop', bs, 'FORBIDDEN'), ('other trader', X, 'NOT_FOUND')):
        e = await c.errm('market.create', **base)
        check(f'market.create by {who} -> {exp}', e[0] == exp, e)
    e = await own.errm('market.create', **dict(base, asset_id='NO-SUCH'))
    check('market.create unknown asset -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    bad = [(dict(tick=0), 'tick'), (dict(tick=-100), 'tick'), (dict(min_qty=0), 'min_qty'), (dict(min_qty=-1), 'min_qty'),
           (dict(tick='100'), 'tick'), (dict(maker_fee_bp=-1), 'maker_fee_bp'), (dict(taker_fee_bp=-5), 'taker_fee_bp'),
           (dict(maker_fee_bp='1'), 'maker_fee_bp'), (dict(market_id=5), 'market_id'), (dict(bogus=1), 'bogus'),
           (dict(licence=dict(LIC, kind='exclusive')), 'kind'), (dict(licence=dict(LIC, kind='sole')), 'kind'),
           (dict(licence=dict(LIC, kind='weird')), 'kind'), (dict(licence='x'), 'licence'),
           (dict(licence=dict(LIC, territory=['Chengdu'])), 'territory'), (dict(licence=dict(LIC, term_months=0)), 'term_months'),
           (dict(licence=dict(LIC, royalty_bp=-1)), 'royalty_bp'), (dict(licence=dict(LIC, extra=1)), 'extra')]
    for k, f in bad:
        p = dict(base, **k)
        e = await own.errm('market.create', **p)
        check(f'market.create {k} -> BAD_REQUEST naming {f}', e[0] == 'BAD_REQUEST' and f in e[1], e)
    for f in ('market_id', 'asset_id', 'licence', 'tick', 'min_qty'):
        p = dict(base); p.pop(f)
        e = await own.errm('market.create', **p)
        check(f'market.create missing {f} -> BAD_REQUEST naming it', e[0] == 'BAD_REQUEST' and f in e[1], e)
    e = await own.errm('market.create', **dict(base, maker_fee_bp=10001))
    print('  info: maker_fee_bp 10001 ->', e)
    # licence term past expiry -> INVALID_STATE
    short = await new_asset(ctx, own, expires_at=T0 + 30 * DAY)
    e = await own.errm('market.create', **dict(base, market_id='MS', asset_id=short))
    check('market licence term past asset expiry -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    # pledged asset without consent
    pa = await new_asset(ctx, own)
    await bank.call('pledge.register', asset_id=pa, pledgee=bank.pid, loan_outstanding=1000, registration_no='RP1')
    e = await own.errm('market.create', **dict(base, market_id='MP', asset_id=pa))
    check('trader market on pledged asset without consent -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    await bank.call('pledge.consent', asset_id=pa)
    e = await own.errm('market.create', **dict(base, market_id='MP', asset_id=pa))
    check('after consent market.create ok', e[0] == 'OK', e)
    # good create by owner
    m = await own.call('market.create', **base)
    check('market.create returns the market', m.get('market_id') == 'M1' and m.get('asset_id') == asset and m.get('tick') == 100 and m.get('min_qty') == 10, m)
    print('  info: market result', m)
    check('fees default 0', m.get('maker_fee_bp', 0) == 0 and m.get('taker_fee_bp', 0) == 0, m)
    e = await own.errm('market.create', **dict(base))
    check('same market_id again -> DUPLICATE', e[0] == 'DUPLICATE', e)
    # operator may create a market on any asset; licensor = asset owner
    a2 = await new_asset(ctx, own)
    r = await op.errm('market.create', **dict(base, market_id='M2', asset_id=a2, maker_fee_bp=10, taker_fee_bp=20))
    check('operator market.create on trader asset ok', r[0] == 'OK', r)
    r = await own.errm('units.issue', market_id='M2', qty=100)
    check('asset owner (licensor) may issue units on operator-created market', r[0] == 'OK', r)
    r = await op.errm('units.issue', market_id='M2', qty=100)
    print('  info: operator units.issue ->', r[0])
    # units.issue
    e = await X.errm('units.issue', market_id='M1', qty=10)
    check('units.issue by non-licensor trader -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    e = await bank.errm('units.issue', market_id='M1', qty=10)
    check('units.issue by bank -> FORBIDDEN', e[0] == 'FORBIDDEN', e)
    e = await own.errm('units.issue', market_id='NOPE', qty=10)
    check('units.issue unknown market -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    for q in (0, -10, '10', 1.5):
        e = await own.errm('units.issue', market_id='M1', qty=q)
        check(f'units.issue qty {q!r} -> BAD_REQUEST naming qty', e[0] == 'BAD_REQUEST' and 'qty' in e[1], e)
    e = await own.errm('units.issue', market_id='M1', qty=15)
    print('  info: units.issue qty not a lot multiple ->', e)
    x = 15 if e[0] == 'OK' else 0
    r = await own.call('units.issue', market_id='M1', qty=500)
    check('units.issue returns the position', r.get('market_id') == 'M1' and r.get('units') == 500 + x and r.get('units_held') == 0, r)
    r = await own.call('units.issue', market_id='M1', qty=300)
    check('units.issue accumulates', r.get('units') == 800 + x, r)
    acc = await own.call('account.get')
    p = [q for q in acc['positions'] if q.get('market_id') == 'M1']
    check('account.get position {market_id, units, units_held}', len(p) == 1 and p[0]['units'] == 800 + x and p[0]['units_held'] == 0, acc)
    # a trader owning an asset registered by operator can also register own assets and create a market
    e = await X.errm('asset.register', asset_id='XA', kind='copyright', title='t', owner=X.pid, region='leshan', industry='other', valuation=100, expires_at=T0 + 3650 * DAY)
    r = await X.errm('market.create', **dict(base, market_id='MX', asset_id='XA'))
    check('trader creates market on own registered asset', e[0] == 'OK' and r[0] == 'OK', (e, r))
    # market on a disposal-pledged asset? market id uniqueness across owners
    r = await X.errm('market.create', **dict(base, market_id='M1', asset_id='XA'))
    check('market_id taken by another owner -> DUPLICATE', r[0] == 'DUPLICATE', r)
run('s03', sc)
