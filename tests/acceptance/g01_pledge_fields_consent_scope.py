# Audit g (pledges, banks and claims): pledge.register's fields at their bounds and pledge.consent's scope.
# PROTOCOL: "pledge.register | operator, bank | asset_id, pledgee, loan_outstanding, registration_no, interest?,
# penalties?, costs? -> the pledge (claim = the sum)"; "params is validated strictly: an unknown field, a wrong type, a
# missing required field or a value out of range is BAD_REQUEST with the field named in the message"; "Money: integer
# fen"; "pledge.consent | the pledgee bank"; "A rejected request changes nothing". DOMAIN 13/14.
# Every refusal is checked against account.get of all parties and the asset's pledges (asset.get, an added read)
# before and after. Consent scope: a pledge registered after a consent needs its pledgee's own consent (rule 13:
# "without the pledgee's consent" -- every pledgee); consent outlives a cancelled listing (open reading, printed).
from common import *

async def sc(ctx):
    a = ctx.adm
    A = await ctx.mk('bank'); B = await ctx.mk('bank'); O = await ctx.mk('operator')
    T = await ctx.mk('enterprise'); U = await ctx.mk('individual'); BS = await ctx.mk('backstop')
    people = [A, B, T, U]
    P = await new_asset(ctx, T, valuation=10_000_000)
    async def pl(asset=P): return (await a.call('asset.get', asset_id=asset)).get('pledges')
    async def refused_pl(name, who, code, **kw):
        b = (await snap(ctx, people), await pl())
        e = await who.errm('pledge.register', **kw)
        af = (await snap(ctx, people), await pl())
        field = [k for k in kw if k not in ('asset_id',)]
        ok = e[0] in (code if isinstance(code, tuple) else (code,))
        if ok and e[0] == 'BAD_REQUEST': ok = any(f in e[1] for f in field)
        check(f'{name} -> {code}' + (' naming the field' if code == 'BAD_REQUEST' else ''), ok, e)
        check(f'{name}: nothing changed', b == af, (b, af))
    base = dict(asset_id=P, pledgee=A.pid, loan_outstanding=1_000_000, registration_no='G01-1')
    for name, kw in [('registration_no ""', dict(registration_no='')), ('registration_no 65 chars', dict(registration_no='r' * 65)),
                     ('registration_no an integer', dict(registration_no=7)), ('loan_outstanding 1.5', dict(loan_outstanding=1.5)),
                     ('loan_outstanding "1000"', dict(loan_outstanding='1000')), ('loan_outstanding -1', dict(loan_outstanding=-1)),
                     ('loan_outstanding true', dict(loan_outstanding=True)), ('interest -1', dict(interest=-1)),
                     ('penalties -1', dict(penalties=-1)), ('costs -1', dict(costs=-1)), ('costs 0.5', dict(costs=0.5)),
                     ('interest "5"', dict(interest='5')), ('an unknown field "rank"', dict(rank=1))]:
        kw2 = dict(base, **kw)
        await refused_pl(name, A, 'BAD_REQUEST', **kw2)
    e = await A.errm('pledge.register', **dict(base, registration_no='G01-1'))
    check('a well-formed pledge after the refusals is rank 1', e[0] == 'OK' and e[1].get('rank') == 1, e)
    p = await A.call('pledge.register', asset_id=P, pledgee=A.pid, loan_outstanding=1, registration_no='r' * 64, interest=1, penalties=1, costs=1)
    check('registration_no of 64 chars accepted; claim = 1 + 1 + 1 + 1 = 4 fen; rank 2', (p.get('claim'), p.get('rank'), p.get('registration_no')) == (4, 2, 'r' * 64), p)
    p = await A.call('pledge.register', asset_id=P, pledgee=A.pid, loan_outstanding=7, registration_no='G01-0', interest=0, penalties=0, costs=0)
    check('explicit zero interest/penalties/costs: claim = loan 7', p.get('claim') == 7, p)
    e = await A.errm('pledge.register', **dict(base, registration_no='G01-N', interest=None))
    print('  info (open reading: null for an optional money field) interest null ->', e[0], e[1] if e[0] != 'OK' else e[1].get('claim'))
    # who may be the pledgee
    await refused_pl('operator names a trader as pledgee', O, ('NOT_FOUND', 'BAD_REQUEST', 'INVALID_STATE'), **dict(base, pledgee=U.pid, registration_no='G01-U'))
    await refused_pl('operator names a backstop as pledgee', O, ('NOT_FOUND', 'BAD_REQUEST', 'INVALID_STATE'), **dict(base, pledgee=BS.pid, registration_no='G01-S'))
    await refused_pl('bank names another bank as pledgee', A, ('FORBIDDEN', 'NOT_FOUND'), **dict(base, pledgee=B.pid, registration_no='G01-B'))
    await refused_pl('backstop pledge.register', BS, 'FORBIDDEN', **dict(base, pledgee=BS.pid, registration_no='G01-BS'))
    # duplicates: the same registration on the same asset, by the same bank and by another
    await refused_pl('same registration_no again on the same asset (same bank)', A, ('DUPLICATE', 'INVALID_STATE'), **base)
    await refused_pl('same registration_no on the same asset by another bank', B, ('DUPLICATE', 'INVALID_STATE'), **dict(base, pledgee=B.pid))
    ps = await pl()
    check('pledges on P: ranks 1..3 G01-1 / r*64 / G01-0, claims 1,000,000 / 4 / 7 (plus G01-N if null was taken)',
          [(x['rank'], x['registration_no'], x['claim']) for x in ps if x['registration_no'] != 'G01-N'] == [(1, 'G01-1', 1_000_000), (2, 'r' * 64, 4), (3, 'G01-0', 7)], ps)
    n0 = len(ps)
    # request_id retry of a pledge.register changes nothing
    r1 = await A.errm('pledge.register', asset_id=P, pledgee=A.pid, loan_outstanding=5, registration_no='G01-RQ', request_id='g01-rq')
    r2 = await A.errm('pledge.register', asset_id=P, pledgee=A.pid, loan_outstanding=5, registration_no='G01-RQ', request_id='g01-rq')
    check('pledge.register retried with its request_id: same reply, one pledge', r1 == r2 and r1[0] == 'OK' and len(await pl()) == n0 + 1, (r1, r2))

    # consent: who, and its scope
    e = await O.errm('pledge.consent', asset_id=P)
    check('operator pledge.consent -> FORBIDDEN ("the pledgee bank")', e[0] == 'FORBIDDEN', e)
    e = await BS.errm('pledge.consent', asset_id=P)
    check('backstop pledge.consent -> FORBIDDEN', e[0] == 'FORBIDDEN', e)
    now = await ctx.now()
    lst = dict(lot=[P], purpose='transfer', format='english', start_price=1_000_000, increment=10_000, deposit=100_000, opens_at=now + HOUR, closes_at=now + DAY)
    c = await A.call('pledge.consent', asset_id=P)
    check('A consents: consented true', c.get('consented') is True, c)
    check('A consent covers all of A\'s pledges on P', all(x['consented'] for x in await pl()), await pl())
    await B.call('pledge.register', asset_id=P, pledgee=B.pid, loan_outstanding=2_000_000, registration_no='G01-B1')
    b = await snap(ctx, people)
    e = await T.errm('auction.create', **lst)
    check('a pledge registered after A\'s consent (B, unconsented): the owner\'s listing -> INVALID_STATE (rule 13)', e[0] == 'INVALID_STATE', e)
    check('refused listing changed nothing', b == await snap(ctx, people))
    e = await T.errm('market.create', market_id='G01M', asset_id=P, licence=LIC, tick=100, min_qty=10)
    check('... and licensing (market.create) -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    await B.call('pledge.consent', asset_id=P)
    e = await T.errm('auction.create', **lst)
    check('every pledgee consented: the owner may list', e[0] == 'OK', e)
    if e[0] == 'OK':
        await a.call('auction.cancel', auction_id=e[1]['auction_id'], reason='g01')
        e = await T.errm('auction.create', **dict(lst, opens_at=await ctx.now() + HOUR, closes_at=await ctx.now() + DAY))
        print('  info (open reading: how long a consent lasts) listing again after a cancelled consented listing ->', e[0])
        if e[0] == 'OK': await a.call('auction.cancel', auction_id=e[1]['auction_id'], reason='g01')
    await A.call('pledge.register', asset_id=P, pledgee=A.pid, loan_outstanding=3_000, registration_no='G01-A9')
    e = await T.errm('auction.create', **dict(lst, opens_at=await ctx.now() + HOUR, closes_at=await ctx.now() + DAY))
    print('  info (open reading: does A\'s earlier consent cover A\'s later pledge?) listing ->', e[0])
    if e[0] == 'OK': await a.call('auction.cancel', auction_id=e[1]['auction_id'], reason='g01')

    # co-owned asset: the co-owner is not the owner
    C = await new_asset(ctx, T, valuation=5_000_000, co_owners=[U.pid])
    p = await A.call('pledge.register', asset_id=C, pledgee=A.pid, loan_outstanding=100_000, registration_no='G01-C')
    check('pledge on a co-owned asset: pledgor is the owner', p.get('claim') == 100_000 and p.get('pledgor') in (None, T.pid), p)
    now = await ctx.now()
    lc = dict(lot=[C], purpose='transfer', format='english', start_price=1_000_000, increment=10_000, deposit=100_000, opens_at=now + HOUR, closes_at=now + DAY)
    e = await T.errm('auction.create', **lc)
    check('owner lists the pledged co-owned asset without consent -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    e = await U.errm('auction.create', **lc)
    check('co-owner lists the pledged co-owned asset -> refused (NOT_FOUND: not its asset, or INVALID_STATE)', e[0] in ('NOT_FOUND', 'INVALID_STATE'), e)
    await A.call('pledge.consent', asset_id=C)
    e = await U.errm('auction.create', **lc)
    print('  info: co-owner lists the consented co-owned asset ->', e[0])
    e = await T.errm('auction.create', **lc)
    check('owner lists the consented co-owned asset', e[0] == 'OK', e)
run('g01', sc)
