# Audit b (sale effects): licence-unit markets (market.create / units.issue, non-exclusive licences) next to confirmed
# exclusive / sole licences and pledges, and licence terms against the patent's expiry at the edge.
# Contract checks: market.create takes only a non_exclusive licence; a non-overlapping market beside a confirmed
# exclusive licence is accepted; units in a licence market never move the title; "a trader listing or licensing a
# pledged asset without the pledgee's pledge.consent" is INVALID_STATE -- and so is issuing more units (licensing)
# after a new pledge without consent; "a licence term running past the asset's expires_at" is INVALID_STATE.
# Open readings printed as info: a non-exclusive market overlapping a confirmed EXCLUSIVE licence (DOMAIN 15: "not
# even the licensor may use"); an exclusive licence over a live non-exclusive unit market; month arithmetic at the
# expiry boundary.
from common import *
import datetime

def L(kind, terr, field, months=12): return {'kind': kind, 'territory': terr, 'field': field, 'term_months': months, 'royalty_bp': 100}
def add_months(ms, n):
    d = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    y, m = divmod(d.month - 1 + n, 12)
    return int(d.replace(year=d.year + y, month=m + 1).timestamp() * 1000)

async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise'); bank = await ctx.mk('bank'); bank2 = await ctx.mk('bank')
    X = await ctx.mk('individual', fund=20_000_000); Y = await ctx.mk('individual', fund=20_000_000)

    # 1. a confirmed exclusive licence chengdu/all, then unit markets beside it
    A = await new_asset(ctx, own)
    now = await ctx.now()
    r = await own.call('auction.create', lot=[A], purpose='exclusive_licence', format='sealed_first', start_price=1_000_000, increment=10_000,
                       deposit=100_000, opens_at=now, closes_at=now + HOUR, licence=L('exclusive', ['chengdu'], 'all', 24))
    await X.call('auction.register', auction_id=r['auction_id']); await X.call('auction.bid', auction_id=r['auction_id'], amount=1_100_000)
    await ctx.adv(HOUR)
    sid = (await a.call('auction.get', auction_id=r['auction_id']))['settlement_id']
    await X.call('settlement.pay', settlement_id=sid)
    c = await a.call('settlement.confirm', settlement_id=sid, registration_no='EX-1')
    check('sealed exclusive licence confirmed', c['state'] == 'confirmed', c)
    e = await own.errm('market.create', market_id='M-OVER', asset_id=A, licence=L('non_exclusive', ['chengdu'], 'f1'), tick=100, min_qty=1)
    print('  info: non-exclusive market overlapping the confirmed exclusive chengdu/all licence ->', e[0], e[1] if e[0] != 'OK' else '')
    e = await own.errm('market.create', market_id='M-FREE', asset_id=A, licence=L('non_exclusive', ['deyang'], 'f1'), tick=100, min_qty=1)
    check('non-exclusive market in deyang beside the exclusive chengdu licence -> accepted', e[0] == 'OK', e)
    e = await own.errm('market.create', market_id='M-SOLE', asset_id=A, licence=L('sole', ['deyang'], 'f1'), tick=100, min_qty=1)
    check('market.create with a sole licence -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    await own.call('units.issue', market_id='M-FREE', qty=100)
    await own.call('order.place', market_id='M-FREE', side='sell', type='limit', price=1_000, qty=40, tif='gtc', client_order_id='s1')
    f = await Y.call('order.place', market_id='M-FREE', side='buy', type='limit', price=1_000, qty=40, tif='gtc', client_order_id='b1')
    o = await own.call('account.get'); y = await Y.call('account.get')
    check('units trade: Y 40 units for 40,000; the title stays with the licensor',
          f['status'] == 'filled' and mp(y, 'M-FREE') == (40, 0) and y['cash_available'] == 20_000_000 - 40_000
          and pos(o, A) is not None and pos(y, A) is None and mp(o, 'M-FREE') == (60, 0), (f, o, y))

    # 2. a live non-exclusive market first, then an exclusive licence over it
    B = await new_asset(ctx, own)
    await own.call('market.create', market_id='M-B', asset_id=B, licence=L('non_exclusive', ['cn'], 'all'), tick=100, min_qty=1)
    await own.call('units.issue', market_id='M-B', qty=10)
    now = await ctx.now()
    e = await own.errm('auction.create', lot=[B], purpose='exclusive_licence', format='english', start_price=1_000_000, increment=10_000,
                       deposit=100_000, opens_at=now, closes_at=now + DAY, licence=L('exclusive', ['chengdu'], 'f1'))
    print('  info: exclusive licence listing over a live cn/all non-exclusive unit market ->', e[0], e[1] if e[0] != 'OK' else '')
    if e[0] == 'OK': await a.call('auction.cancel', auction_id=e[1]['auction_id'], reason='probe')

    # 3. pledges: consented pledge -> market and units; a second pledge without consent -> no more licensing
    C = await new_asset(ctx, own)
    await bank.call('pledge.register', asset_id=C, pledgee=bank.pid, loan_outstanding=500_000, registration_no='PC-1')
    e = await own.errm('market.create', market_id='M-C', asset_id=C, licence=L('non_exclusive', ['cn'], 'all'), tick=100, min_qty=1)
    check('market.create on a pledged patent without consent -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    await bank.call('pledge.consent', asset_id=C)
    e = await own.errm('market.create', market_id='M-C', asset_id=C, licence=L('non_exclusive', ['cn'], 'all'), tick=100, min_qty=1)
    check('after consent -> accepted', e[0] == 'OK', e)
    e = await own.errm('units.issue', market_id='M-C', qty=50)
    check('units.issue under the consented pledge -> accepted', e[0] == 'OK' and e[1]['units'] == 50, e)
    await bank2.call('pledge.register', asset_id=C, pledgee=bank2.pid, loan_outstanding=300_000, registration_no='PC-2')
    before = await own.call('account.get')
    e = await own.errm('units.issue', market_id='M-C', qty=50)
    after = await own.call('account.get')
    check('units.issue after a second pledge without its consent -> INVALID_STATE (licensing a pledged asset), nothing issued',
          e[0] == 'INVALID_STATE' and mp(after, 'M-C') == mp(before, 'M-C'), (e, mp(after, 'M-C')))

    # 4. licence term against expires_at: a 24-month sole licence listed and confirmed on 2026-01-0x for a patent
    # expiring 722 days later would run to the same day of 2028 (730/731 days), ~8 days past the patent's expiry
    # (DOMAIN 15 "No licence term runs past the patent's expiry"; PROTOCOL INVALID_STATE for "a licence term running
    # past the asset's expires_at"). The audited server counted a month as 30 days and accepted it (fixed in session 13).
    now = await ctx.now()
    E = await new_asset(ctx, own, expires_at=now + 722 * DAY)
    end24 = add_months(now, 24)
    print(f'  info: 24 calendar months from now end {(end24 - now) / DAY:.0f} days later; the patent expires in 722 days')
    e = await own.errm('auction.create', lot=[E], purpose='sole_licence', format='english', start_price=1_000_000, increment=10_000,
                       deposit=100_000, opens_at=now, closes_at=now + HOUR, licence=L('sole', ['cn'], 'all', 24))
    print('  info: listing ->', e[0])
    if e[0] == 'OK':
        A4 = e[1]['auction_id']
        await Y.call('auction.register', auction_id=A4); await Y.call('auction.bid', auction_id=A4, amount=1_000_000)
        await ctx.adv(HOUR)
        sid4 = (await a.call('auction.get', auction_id=A4))['settlement_id']
        await Y.call('settlement.pay', settlement_id=sid4)
        e = await a.errm('settlement.confirm', settlement_id=sid4, registration_no='SOLE-24')
        print('  info: confirm ->', e[0], e[1] if e[0] != 'OK' else e[1]['state'])
    check('a 24-month licence on a patent expiring in 722 days (24 calendar months = 730 days) is refused '
          '(INVALID_STATE at listing, or not confirmed)', e[0] == 'INVALID_STATE', e)
    for label, days in (('360 days', 360), ('364 days', 364)):
        D = await new_asset(ctx, own, expires_at=now + days * DAY)
        e1 = await own.errm('market.create', market_id='M-' + D, asset_id=D, licence=L('non_exclusive', ['cn'], 'all', 12), tick=100, min_qty=1)
        check(f'a 12-month non-exclusive market on a patent expiring in {label} (12 calendar months >= 365 days) '
              '-> INVALID_STATE', e1[0] == 'INVALID_STATE', e1)
    now = await ctx.now()
    D = await new_asset(ctx, own, expires_at=now + 300 * DAY)
    e = await own.errm('auction.create', lot=[D], purpose='sole_licence', format='dutch', start_price=1_000_000, increment=10_000,
                       deposit=100_000, opens_at=now, closes_at=now + DAY, licence=L('sole', ['cn'], 'all', 12),
                       dutch={'decrement': 10_000, 'interval_ms': HOUR, 'floor': 500_000})
    check('a 12-month sole licence on a patent expiring in 300 days (dutch listing) -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    e = await own.errm('market.create', market_id='M-SHORT', asset_id=D, licence=L('non_exclusive', ['cn'], 'all', 9), tick=100, min_qty=1)
    check('a 9-month non-exclusive market on it -> accepted', e[0] == 'OK', e)
run('b06', sc)
