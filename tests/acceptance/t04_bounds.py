# Numeric bounds at the bound and one past it: plan renotice (rule 9: round 2 within 30 days), risk-fund share_bp,
# Dutch parameters and clock steps, licence fields, bp fields; a refused call changes nothing.
from common import *
OPENED = [0]
async def try_case(ctx, bank, own, plan):
    try:
        _, cid, aid = await new_case(ctx, bank, own, 10_000_000, plan=plan)
        OPENED[0] += 1
        return 'OK', (cid, aid)
    except Err as ex:
        return ex.code, ex.msg
async def sc(ctx):
    a = ctx.adm
    op = await ctx.mk('operator'); bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=50_000_000); rf = await ctx.mk('risk_fund')
    # --- rule 9: "Round 1 unsold -> round 2 within 30 days"
    e = await try_case(ctx, bank, own, {'renotice_ms': 30 * DAY})
    check('plan renotice_ms = 30 d accepted', e[0] == 'OK', e)
    e = await try_case(ctx, bank, own, {'renotice_ms': 30 * DAY + 1})
    check('plan renotice_ms = 30 d + 1 ms -> BAD_REQUEST (rule 9: round 2 within 30 days)', e[0] == 'BAD_REQUEST' and 'renotice_ms' in str(e[1]), e)
    for f in ('notice_ms', 'renotice_ms'):
        e = await try_case(ctx, bank, own, {f: 0})
        print(f'  info: plan {f} = 0 ->', e)
        e = await try_case(ctx, bank, own, {f: -1})
        check(f'plan {f} = -1 -> BAD_REQUEST', e[0] == 'BAD_REQUEST' and f in str(e[1]), e)
    for f in ('bidding_ms', 'sell_off_ms', 'payment_ms', 'extend_by_ms'):
        e = await try_case(ctx, bank, own, {f: 0})
        check(f'plan {f} = 0 -> BAD_REQUEST', e[0] == 'BAD_REQUEST' and f in str(e[1]), e)
    # --- start_bp and cut_bp together: round 2 floor 56% of valuation online (rule 9)
    e = await try_case(ctx, bank, own, {'start_bp': 7000, 'cut_bp': 2000})
    check('plan start 70% with cut 20% (round 2 at 56%) accepted', e[0] == 'OK', e)
    e = await try_case(ctx, bank, own, {'cut_bp': -1})
    check('plan cut_bp -1 -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    # --- risk fund share_bp 0..10000
    e = await try_case(ctx, bank, own, {'risk_fund': {'participant_id': rf.pid, 'share_bp': 10000}})
    check('plan risk_fund share_bp 10000 accepted', e[0] == 'OK', e)
    e = await try_case(ctx, bank, own, {'risk_fund': {'participant_id': rf.pid, 'share_bp': 10001}})
    check('plan risk_fund share_bp 10001 -> BAD_REQUEST', e[0] == 'BAD_REQUEST' and 'share_bp' in str(e[1]), e)
    e = await try_case(ctx, bank, own, {'risk_fund': {'participant_id': rf.pid}})
    check('plan risk_fund without share_bp -> BAD_REQUEST', e[0] == 'BAD_REQUEST' and 'share_bp' in str(e[1]), e)
    e = await try_case(ctx, bank, own, {'risk_fund': {'participant_id': 'P-nope', 'share_bp': 5000}})
    print('  info: plan risk_fund unknown participant ->', e)
    check('plan risk_fund unknown participant refused', e[0] in ('NOT_FOUND', 'BAD_REQUEST'), e)
    e = await try_case(ctx, bank, own, {'risk_fund': {'participant_id': X.pid, 'share_bp': 5000}})
    print('  info: plan risk_fund naming a trader (not a risk_fund) ->', e)
    # --- a refused disposal.open changed nothing: the asset can still be opened once
    rep = await bank.call('report.disposals')
    check('refused plans opened no case (report rows = accepted plans)', len(rep['rows']) == OPENED[0], (len(rep['rows']), OPENED[0]))
    # --- Dutch params
    now = await ctx.now()
    asset = await new_asset(ctx, own)
    base = dict(lot=[asset], purpose='transfer', format='dutch', start_price=1_000_000, increment=10_000, deposit=100_000,
                opens_at=now, closes_at=now + DAY)
    for d, f in (({'decrement': 0, 'interval_ms': MIN, 'floor': 500_000}, 'decrement'),
                 ({'decrement': 10_000, 'interval_ms': 0, 'floor': 500_000}, 'interval_ms'),
                 ({'decrement': 10_000, 'interval_ms': MIN, 'floor': 1_000_001}, 'floor'),
                 ({'decrement': 10_000, 'interval_ms': MIN}, 'floor'),
                 ({'decrement': -1, 'interval_ms': MIN, 'floor': 500_000}, 'decrement')):
        e = await op.errm('auction.create', **base, dutch=d)
        check(f'dutch {d} -> BAD_REQUEST naming {f}', e[0] == 'BAD_REQUEST' and f in e[1], e)
    e = await op.errm('auction.create', **base, dutch={'decrement': 10_000, 'interval_ms': 10 * MIN, 'floor': 900_000})
    check('dutch ok', e[0] == 'OK', e)
    D = e[1]['auction_id']
    await X.call('auction.register', auction_id=D)
    # price steps at exact interval boundaries
    for t, exp in ((10 * MIN - 1, 1_000_000), (10 * MIN, 990_000), (100 * MIN - 1, 910_000), (100 * MIN, 900_000)):
        await ctx.adv_to(now + t)
        g = await a.call('auction.get', auction_id=D)
        check(f'dutch price at opens+{t} ms = {exp}', g['price'] == exp and g['state'] == 'open', (g['price'], g['state']))
    await ctx.adv_to(now + 110 * MIN - 1)
    g = await a.call('auction.get', auction_id=D)
    check('dutch floor reached at +100 min: still open 1 ms before it stood one interval', g['state'] == 'open', g['state'])
    r = await X.errm('auction.accept', auction_id=D)
    check('dutch accept at floor, 1 ms before unsold -> price = floor', r[0] == 'OK' and r[1]['price'] == 900_000, r)
    # --- licence fields
    now = await ctx.now()
    def lic(**k): return dict(dict(kind='exclusive', territory=['chengdu'], field='all', term_months=12, royalty_bp=500), **k)
    for L, f in ((lic(term_months=0), 'term_months'), (lic(term_months=-1), 'term_months'), (lic(royalty_bp=10001), 'royalty_bp'),
                 (lic(royalty_bp=-1), 'royalty_bp'), (lic(kind='open'), 'kind'), (lic(territory=[]), 'territory'),
                 (lic(territory=['Chengdu']), 'territory'), (lic(territory='cn'), 'territory'), (lic(field=5), 'field')):
        e = await op.errm('auction.create', lot=[await new_asset(ctx, own)], purpose='exclusive_licence', format='english', start_price=1_000_000,
                          increment=10_000, deposit=100_000, opens_at=now, closes_at=now + DAY, licence=L)
        check(f'licence {f}={L[f]!r} -> BAD_REQUEST naming {f}', e[0] == 'BAD_REQUEST' and f in e[1], e)
    e = await op.errm('auction.create', lot=[await new_asset(ctx, own)], purpose='exclusive_licence', format='english', start_price=1_000_000,
                      increment=10_000, deposit=100_000, opens_at=now, closes_at=now + DAY, licence=lic(royalty_bp=10000))
    check('licence royalty_bp 10000 accepted', e[0] == 'OK', e)
    ex = await new_asset(ctx, own, expires_at=now + 365 * DAY)
    e = await op.errm('auction.create', lot=[ex], purpose='exclusive_licence', format='english', start_price=1_000_000,
                      increment=10_000, deposit=100_000, opens_at=now, closes_at=now + DAY, licence=lic(term_months=11))
    check('licence term well within expiry accepted', e[0] == 'OK', e)
    # --- bp fields on auction.create
    for f in ('buyer_premium_bp', 'seller_commission_bp'):
        e = await op.errm('auction.create', lot=[await new_asset(ctx, own)], purpose='transfer', format='english', start_price=1_000_000,
                          increment=10_000, deposit=100_000, opens_at=now, closes_at=now + DAY, **{f: 10001})
        check(f'{f} 10001 (over 100%) -> BAD_REQUEST', e[0] == 'BAD_REQUEST' and f in e[1], e)
    # --- DOMAIN rule 3 / 4 / 5 on auction.create (informational: parameters of a voluntary auction)
    for k, v, what in (('deposit', 49_900, 'deposit 4.99% of start'), ('deposit', 200_100, 'deposit 20.01% of start'),
                       ('increment', 10_100, 'increment above the 1% tier')):
        p = dict(lot=[await new_asset(ctx, own)], purpose='transfer', format='english', start_price=1_000_000, increment=10_000,
                 deposit=100_000, opens_at=now, closes_at=now + DAY); p[k] = v
        e = await op.errm('auction.create', **p)
        print(f'  info: auction.create {what} ->', e[0], e[1] if e[0] != 'OK' else '')
    e = await op.errm('auction.create', lot=[await new_asset(ctx, own)], purpose='transfer', format='english', start_price=1_000_000,
                      increment=10_000, deposit=100_000, opens_at=now, closes_at=now + DAY - 1)
    print('  info: auction.create bidding 24 h - 1 ms ->', e[0], e[1] if e[0] != 'OK' else '')
    e = await op.errm('auction.create', lot=[await new_asset(ctx, own)], purpose='transfer', format='english', start_price=1_000_000,
                      increment=10_000, deposit=100_000, opens_at=now, closes_at=now + DAY, extend_window_ms=0)
    print('  info: auction.create extend_window_ms 0 ->', e[0], e[1] if e[0] != 'OK' else '')
    e = await op.errm('auction.create', lot=[await new_asset(ctx, own)], purpose='transfer', format='english', start_price=1_000_000,
                      increment=10_000, deposit=100_000, opens_at=now, closes_at=now)
    check('auction.create closes_at = opens_at -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    e = await op.errm('auction.create', lot=[await new_asset(ctx, own)], purpose='transfer', format='english', start_price=1_000_000,
                      increment=10_000, deposit=100_000, opens_at=now - HOUR, closes_at=now + DAY)
    check('auction.create opens_at in the past -> opens at once', e[0] == 'OK' and (await a.call('auction.get', auction_id=e[1]['auction_id']))['state'] == 'open', e)
    # --- backstop.offer price_bp bounds
    bs = await ctx.mk('backstop')
    e = await bs.errm('backstop.offer', price_bp=10000, max_amount=1)
    check('backstop.offer price_bp 10000 accepted', e[0] == 'OK', e)
    e = await bs.errm('backstop.offer', price_bp=10001, max_amount=1)
    print('  info: backstop.offer price_bp 10001 ->', e)
    e = await bs.errm('backstop.offer', price_bp=3000, max_amount=1, expires_at=now - 1)
    print('  info: backstop.offer expires_at in the past ->', e)
    # --- market.create fee bp bounds, tick/min_qty
    ma = await new_asset(ctx, own)
    for k, v in (('tick', 0), ('min_qty', 0), ('maker_fee_bp', 10001), ('taker_fee_bp', 10001), ('taker_fee_bp', -1)):
        p = dict(market_id='MB', asset_id=ma, licence=LIC, tick=1, min_qty=1); p[k] = v
        e = await own.errm('market.create', **p)
        check(f'market.create {k}={v} -> BAD_REQUEST naming it', e[0] == 'BAD_REQUEST' and k in e[1], e)
    e = await own.errm('market.create', market_id='MB', asset_id=ma, licence=LIC, tick=1, min_qty=1, maker_fee_bp=-1)
    print('  info: maker_fee_bp -1 (rebate?) ->', e[0])
    e = await own.errm('market.create', market_id='MB', asset_id=ma, licence=LIC, tick=1, min_qty=1, maker_fee_bp=10000, taker_fee_bp=10000)
    check('market.create fees 10000 bp accepted', e[0] == 'OK', e)
run('t04', sc)
