# Audit b (sale effects): licence purposes sold in the formats other scenarios leave out -- exclusive_licence by Dutch
# clock, sole_licence by sealed second price, exclusive_licence by fixed price turned English (two buyers) -- each with a
# buyer's premium and a seller's commission. After pay and confirm: the licensor keeps the title and is paid price -
# commission, the licensee pays price + premium and holds no title, escrow is empty. The confirmed licences then block
# overlapping exclusive/sole listings (PROTOCOL "Rule checks on listings"), and still do after the patent is assigned
# to a new owner ("a confirmed exclusive or sole licence of the same asset"). A fixed-price licence listing keeps its
# purpose and licence when it turns English.
from common import *

F = 20_000_000
BP, CP = 400, 250
def L(kind, terr, field, months=12, roy=300): return {'kind': kind, 'territory': terr, 'field': field, 'term_months': months, 'royalty_bp': roy}

async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=F); Y = await ctx.mk('enterprise', fund=F, region='deyang')
    Z = await ctx.mk('individual', fund=F)
    asset = await new_asset(ctx, own, expires_at=T0 + 5 * 365 * DAY)
    paid = {X.pid: 0, Y.pid: 0, Z.pid: 0}; got = [0]

    async def create(purpose, fmt, lic, close_in=DAY, by=own, **kw):
        now = await ctx.now()
        return await by.errm('auction.create', lot=[asset], purpose=purpose, format=fmt, start_price=1_000_000, increment=10_000,
                             deposit=100_000, opens_at=now, closes_at=now + close_in, licence=lic, buyer_premium_bp=BP,
                             seller_commission_bp=CP, **kw)

    async def settle(tag, A, winner, price):
        g = await a.call('auction.get', auction_id=A)
        check(f'{tag}: sold at {price:,}', g['state'] == 'sold' and g['price'] == price, g)
        sid = g['settlement_id']
        prem = yuan_floor(price * BP // 10000); comm = yuan_floor(price * CP // 10000)
        s = await winner.call('settlement.get', settlement_id=sid)
        check(f'{tag}: settlement: buyer = the licensee, price, premium {prem:,}', (s['buyer'], s['price'], s['buyer_premium']) == (winner.pid, price, prem), s)
        w0 = await winner.call('account.get')
        await winner.call('settlement.pay', settlement_id=sid)
        w1 = await winner.call('account.get')
        check(f'{tag}: pay moves price + premium - deposit to escrow', w0['cash_available'] - w1['cash_available'] == price + prem - 100_000
              and w1['cash_held'] == w0['cash_held'] - 100_000 + price + prem, (w0, w1))
        o0 = await own.call('account.get')
        c = await a.call('settlement.confirm', settlement_id=sid, registration_no='LIC-' + A)
        o1 = await own.call('account.get'); w2 = await winner.call('account.get')
        check(f'{tag}: confirmed', c['state'] == 'confirmed', c)
        check(f'{tag}: licensor keeps the title, paid price - commission {price - comm:,}',
              pos(o1, asset) is not None and o1['cash_available'] - o0['cash_available'] == price - comm, (o0, o1))
        paid[winner.pid] += price + prem; got[0] += price - comm
        check(f'{tag}: licensee holds no title, no escrow, paid price + premium in all',
              pos(w2, asset) is None and w2['cash_held'] == 0 and F - w2['cash_available'] == paid[winner.pid], w2)
        ga = await a.call('asset.get', asset_id=asset)
        check(f'{tag}: asset.get owner still the licensor', ga.get('owner') == own.pid, ga.get('owner'))

    # 1. exclusive licence chengdu/f1 by Dutch clock: 1,000,000 - 40,000 per 30 min, floor 700,000; X accepts at 95 min -> 880,000
    e = await create('exclusive_licence', 'dutch', L('exclusive', ['chengdu'], 'f1'), dutch={'decrement': 40_000, 'interval_ms': 30 * MIN, 'floor': 700_000})
    check('dutch exclusive licence listing accepted', e[0] == 'OK', e)
    A1 = e[1]['auction_id']; t0 = await ctx.now()
    await X.call('auction.register', auction_id=A1)
    await ctx.adv_to(t0 + 95 * MIN)
    r = await X.call('auction.accept', auction_id=A1)
    check('dutch accept at 95 min: 1,000,000 - 3 x 40,000 = 880,000', r['price'] == 880_000, r)
    await settle('exclusive/dutch', A1, X, 880_000)
    # 2. sole licence deyang/f1 by sealed second price: Y 1,500,000, Z 1,230,000 -> Y pays 1,230,000
    e = await create('sole_licence', 'sealed_second', L('sole', ['deyang'], 'f1'), close_in=HOUR)
    check('sealed_second sole licence listing accepted', e[0] == 'OK', e)
    A2 = e[1]['auction_id']
    for c in (Y, Z): await c.call('auction.register', auction_id=A2)
    await Y.call('auction.bid', auction_id=A2, amount=1_500_000); await Z.call('auction.bid', auction_id=A2, amount=1_230_000)
    await ctx.adv(HOUR)
    await settle('sole/sealed_second', A2, Y, 1_230_000)
    # 3. exclusive licence mianyang/f2 at a fixed price; two buyers -> English from start, licence kept
    lic3 = L('exclusive', ['mianyang'], 'f2', 24, 150)
    e = await create('exclusive_licence', 'fixed_price', lic3, close_in=3 * DAY)
    check('fixed_price exclusive licence listing accepted', e[0] == 'OK', e)
    A3 = e[1]['auction_id']
    for c in (X, Z): await c.call('auction.register', auction_id=A3)
    await ctx.adv(3 * DAY)
    g = await a.call('auction.get', auction_id=A3)
    check('fixed_price licence with two buyers -> english, open, purpose and licence unchanged',
          (g['format'], g['state'], g['purpose'], g.get('licence', lic3)) == ('english', 'open', 'exclusive_licence', lic3), g)
    await X.call('auction.bid', auction_id=A3, amount=1_000_000); await Z.call('auction.bid', auction_id=A3, amount=1_010_000)
    await ctx.adv_to(g['closes_at'])
    await settle('exclusive/fixed->english', A3, Z, 1_010_000)
    xa = await X.call('account.get')
    check('X (loser of #3) has nothing held', xa['cash_held'] == 0, xa)

    # the three confirmed licences block overlapping exclusive/sole listings; other territories/fields are free
    for purpose, lic, exp in (('sole_licence', L('sole', ['chengdu'], 'f1', 6), 'INVALID_STATE'),
                              ('exclusive_licence', L('exclusive', ['cn'], 'f1'), 'INVALID_STATE'),
                              ('sole_licence', L('sole', ['deyang', 'leshan'], 'all'), 'INVALID_STATE'),
                              ('exclusive_licence', L('exclusive', ['mianyang'], 'all', 1), 'INVALID_STATE'),
                              ('exclusive_licence', L('exclusive', ['leshan'], 'f1'), 'OK'),
                              ('sole_licence', L('sole', ['chengdu'], 'f3'), 'OK')):
        e = await create(purpose, 'english', lic)
        check(f'after the sales: {lic["kind"]} {lic["territory"]} {lic["field"]} -> {exp}', e[0] == exp, e)
        if e[0] == 'OK': await a.call('auction.cancel', auction_id=e[1]['auction_id'], reason='probe')

    # assign the patent to Y; the confirmed licences stay licences of the same asset
    now = await ctx.now()
    r = await own.call('auction.create', lot=[asset], purpose='transfer', format='english', start_price=5_000_000, increment=50_000,
                       deposit=500_000, opens_at=now, closes_at=now + DAY)
    T = r['auction_id']
    await Y.call('auction.register', auction_id=T); await Y.call('auction.bid', auction_id=T, amount=5_000_000)
    await ctx.adv(DAY)
    sid = (await a.call('auction.get', auction_id=T))['settlement_id']
    await Y.call('settlement.pay', settlement_id=sid); await a.call('settlement.confirm', settlement_id=sid, registration_no='ASSIGN-1')
    o = await own.call('account.get'); y = await Y.call('account.get')
    check('assignment: Y owns the title, the old owner does not; old owner paid 5,000,000 (no fees on this listing)',
          pos(y, asset) is not None and pos(o, asset) is None and o['cash_available'] == got[0] + 5_000_000, (o, y))
    e = await create('exclusive_licence', 'english', L('exclusive', ['chengdu'], 'f1'), by=Y)
    check("new owner Y licensing over X's confirmed exclusive chengdu/f1 licence -> INVALID_STATE (same asset)", e[0] == 'INVALID_STATE', e)
    e = await create('sole_licence', 'english', L('sole', ['leshan'], 'f9'), by=Y)
    check('new owner Y licensing a free territory/field -> accepted', e[0] == 'OK', e)
    e = await create('sole_licence', 'english', L('sole', ['leshan'], 'f8'))
    check('old owner licensing the assigned patent -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
run('b02', sc)
