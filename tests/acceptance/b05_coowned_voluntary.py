# Audit b (sale effects): co-owned patents in voluntary sales, and a voluntary winner's default.
# DOMAIN 6: "Priority purchase right holders (co-owners) bid like others but win ties: a holder may bid the same amount
# as the standing high bid and takes the lead if nobody goes higher; a higher-ranked holder beats a lower".
# PROTOCOL auction.create `priority_holders[]?`; "Titles appear in positions as {asset_id, units: 1}".
# Winner default (PROTOCOL "Edges"): "at due_at unpaid, the settlement becomes defaulted, the deposit is forfeited";
# DOMAIN 7 "Liability beyond the deposit: a parameter (default none)"; DOMAIN 8: the title never passed.
# What the contract leaves open is printed as info (co-owner listing alone, co-owners as automatic holders in a
# voluntary listing, co_owners after a sale, who receives a voluntary defaulter's deposit).
from common import *

async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise'); H = await ctx.mk('individual', fund=20_000_000); K = await ctx.mk('enterprise', fund=20_000_000)
    X = await ctx.mk('individual', fund=20_000_000)
    co = await new_asset(ctx, own, co_owners=[H.pid, K.pid])
    now = await ctx.now()
    base = dict(lot=[co], purpose='transfer', format='english', start_price=2_000_000, increment=20_000, deposit=200_000,
                opens_at=now, closes_at=now + DAY)

    # open readings, printed
    e = await H.errm('auction.create', **base)
    print('  info: a co-owner (not the owner) lists the co-owned patent alone ->', e[0])
    if e[0] == 'OK': await a.call('auction.cancel', auction_id=e[1]['auction_id'], reason='probe')
    e = await H.errm('market.create', market_id='CO-M', asset_id=co, licence=LIC, tick=100, min_qty=1)
    print('  info: a co-owner opens a non-exclusive licence market on the co-owned patent alone ->', e[0])
    r = await own.call('auction.create', **base)
    Ap = r['auction_id']
    for c in (X, H): await c.call('auction.register', auction_id=Ap)
    await X.call('auction.bid', auction_id=Ap, amount=2_000_000)
    e = await H.errm('auction.bid', auction_id=Ap, amount=2_000_000)
    # DOMAIN 6 "Priority purchase right holders (co-owners, ...) ... may bid the same amount as the standing high bid":
    # a co-owner holds the right in a sale of the title without the listing naming it (session 13; was BID_TOO_LOW).
    check('voluntary listing WITHOUT priority_holders: a co-owner matching the standing bid takes the lead (rule 6)',
          e[0] == 'OK', e)
    await a.call('auction.get', auction_id=Ap)
    await ctx.adv(DAY)
    g = await a.call('auction.get', auction_id=Ap)
    sidp = g['settlement_id']
    s = await a.call('settlement.get', settlement_id=sidp)
    await a.call('settlement.fail', settlement_id=sidp, reason='co-owner objects')
    print('  info: ... winner', 'co-owner' if s['buyer'] == H.pid else 'X', 'at', g['price'], '(failed by the operator, probe)')

    # explicit holders: K rank 1, H rank 2
    now = await ctx.now()
    r = await own.call('auction.create', **dict(base, opens_at=now, closes_at=now + DAY,
                       priority_holders=[{'participant_id': K.pid, 'rank': 1}, {'participant_id': H.pid, 'rank': 2}],
                       buyer_premium_bp=100))
    A = r['auction_id']
    code = {c.pid: (await c.call('auction.register', auction_id=A))['bidder_code'] for c in (X, H, K)}
    await X.call('auction.bid', auction_id=A, amount=2_000_000)
    e = await H.errm('auction.bid', auction_id=A, amount=2_000_000)
    check('holder H (rank 2) matches 2,000,000 and leads', e[0] == 'OK' and e[1]['leader'] == code[H.pid], e)
    e = await K.errm('auction.bid', auction_id=A, amount=2_000_000)
    check('holder K (rank 1) matches 2,000,000 and leads over H', e[0] == 'OK' and e[1]['leader'] == code[K.pid], e)
    e = await H.errm('auction.bid', auction_id=A, amount=2_000_000)
    check('H (lower rank) matching again does not take the lead back', e[0] != 'OK' or e[1]['leader'] == code[K.pid], e)
    await X.call('auction.bid', auction_id=A, amount=2_020_000)
    e = await H.errm('auction.bid', auction_id=A, amount=2_020_000)
    check('X raises to 2,020,000; H matches it and leads', e[0] == 'OK' and e[1]['leader'] == code[H.pid], e)
    await ctx.adv(DAY)
    g = await a.call('auction.get', auction_id=A)
    check('H wins at 2,020,000', (g['state'], g['winner'], g['price']) == ('sold', code[H.pid], 2_020_000), g)
    x = await X.call('account.get'); k = await K.call('account.get')
    check('losers X and K released', x['cash_held'] == 0 and k['cash_held'] == 0, (x, k))
    sid = g['settlement_id']
    await H.call('settlement.pay', settlement_id=sid)
    o0 = await own.call('account.get')
    await a.call('settlement.confirm', settlement_id=sid, registration_no='CO-REG')
    h = await H.call('account.get'); o1 = await own.call('account.get'); ga = await a.call('asset.get', asset_id=co)
    check('co-owner H bought: title, paid 2,020,000 + 1% premium 20,200', (pos(h, co) or {}).get('units') == 1 and
          (h['cash_available'], h['cash_held']) == (20_000_000 - 2_040_200, 0), h)
    check('the owner (seller) has no title and received 2,020,000', pos(o1, co) is None and o1['cash_available'] - o0['cash_available'] == 2_020_000, (o0, o1))
    check('asset.get owner = H', ga['owner'] == H.pid, ga)
    print('  info: co_owners after co-owner H bought the owner\'s patent:', ga.get('co_owners'), '; K got', (await K.call('account.get'))['cash_available'] - 20_000_000)

    # voluntary winner default: deposit forfeited, nothing beyond it, title stays with the seller
    asset2, A2 = await new_auction(ctx, own, by=own, start=3_000_000, inc=30_000, dep=300_000, payment_ms=2 * DAY)
    await X.call('auction.register', auction_id=A2); await X.call('auction.bid', auction_id=A2, amount=3_000_000)
    await ctx.adv(DAY)
    sid2 = (await a.call('auction.get', auction_id=A2))['settlement_id']
    s = await a.call('settlement.get', settlement_id=sid2)
    check('due_at = close + payment_ms 2 d', s['due_at'] == (await a.call('auction.get', auction_id=A2))['closes_at'] + 2 * DAY, s)
    x0 = await X.call('account.get'); o0 = await own.call('account.get')
    await ctx.adv_to(s['due_at'])
    s = await a.call('settlement.get', settlement_id=sid2)
    x1 = await X.call('account.get'); o1 = await own.call('account.get')
    check('at due_at unpaid -> defaulted', s['state'] == 'defaulted', s['state'])
    check('defaulter: the 300,000 deposit forfeited, nothing beyond it',
          (x1['cash_available'], x1['cash_held']) == (x0['cash_available'], x0['cash_held'] - 300_000), (x0, x1))
    print('  info: the voluntary defaulter\'s deposit went to: seller +', o1['cash_available'] - o0['cash_available'], '; transfers', s['transfers'])
    check('the title stays with the seller', pos(o1, asset2) is not None and pos(x1, asset2) is None, (o1, x1))
    e = await refused(ctx, 'pay after default', X, 'settlement.pay', [own, X], [A2], sids=[sid2], settlement_id=sid2)
    check('pay after default -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    e = await refused(ctx, 'confirm after default', a, 'settlement.confirm', [own, X], [A2], sids=[sid2], settlement_id=sid2, registration_no='R')
    check('confirm after default -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    now = await ctx.now()
    e = await own.errm('auction.create', lot=[asset2], purpose='transfer', format='english', start_price=3_000_000, increment=30_000,
                       deposit=300_000, opens_at=now, closes_at=now + DAY)
    check('after a voluntary default the seller may list the asset again', e[0] == 'OK', e)
    if e[0] == 'OK':
        e2 = await X.errm('auction.register', auction_id=e[1]['auction_id'])
        print('  info: the voluntary defaulter registers for the seller\'s next listing ->', e2[0])
run('b05', sc)
