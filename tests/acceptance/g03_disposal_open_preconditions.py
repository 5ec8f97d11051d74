# Audit g (pledges, banks and claims): disposal.open's preconditions, each refusal checked to change nothing.
# PROTOCOL: "disposal.open | operator, the pledgee bank | assets[], pledgee, pledgor, valuation, plan? -> case_id,
# auction_id (round 1)"; strict params (BAD_REQUEST naming the field); check order FORBIDDEN before NOT_FOUND before the
# rules; "A rejected request changes nothing". DOMAIN 14: the case bank's claim is the sum of its pledges' claims.
# Asset P is pledged to bank A (rank 1) then bank B; Q to B; N to nobody; W (owned by U) to B; C (owner T, co-owner U)
# to B; L to B, consented and listed. Refusals: trader opening (FORBIDDEN), bank naming another bank as pledgee, an
# asset named twice, an unpledged asset in the list, assets of two owners, a pledgor who is not the owner (a stranger,
# the co-owner, the bank itself), valuation 0 / 1.5 / "x", an asset in a live voluntary listing, a second case on an
# asset already in one (by either pledgee, alone or with other assets). Accepted: B on [P, Q] (claim = B's pledges on
# P and Q only), B on [W] against U, the operator on [C] for B. Snapshot = every account, the assets' pledges, every
# case (operator's report.disposals rows).
from common import *

async def sc(ctx):
    a = ctx.adm
    A = await ctx.mk('bank'); B = await ctx.mk('bank'); T = await ctx.mk('enterprise'); U = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=10_000_000)
    people = [A, B, T, U, X]
    P = await new_asset(ctx, T, valuation=10_000_000); Q = await new_asset(ctx, T, valuation=6_000_000)
    N = await new_asset(ctx, T, valuation=1_000_000); W = await new_asset(ctx, U, valuation=2_000_000)
    C = await new_asset(ctx, T, valuation=3_000_000, co_owners=[U.pid]); L = await new_asset(ctx, T, valuation=4_000_000)
    ALL = [P, Q, N, W, C, L]
    await A.call('pledge.register', asset_id=P, pledgee=A.pid, loan_outstanding=1_000_000, registration_no='A-P', interest=10_000)
    await B.call('pledge.register', asset_id=P, pledgee=B.pid, loan_outstanding=2_000_000, registration_no='B-P', penalties=3_000)
    await B.call('pledge.register', asset_id=Q, pledgee=B.pid, loan_outstanding=1_500_000, registration_no='B-Q', costs=7)
    await B.call('pledge.register', asset_id=W, pledgee=B.pid, loan_outstanding=500_000, registration_no='B-W')
    await B.call('pledge.register', asset_id=C, pledgee=B.pid, loan_outstanding=800_000, registration_no='B-C')
    await B.call('pledge.register', asset_id=L, pledgee=B.pid, loan_outstanding=900_000, registration_no='B-L')
    await B.call('pledge.consent', asset_id=L)
    now = await ctx.now()
    la = (await T.call('auction.create', lot=[L], purpose='transfer', format='english', start_price=3_000_000, increment=30_000,
                       deposit=0, opens_at=now, closes_at=now + 2 * DAY))['auction_id']

    async def state():
        s = await snap(ctx, people, auctions=[la])
        for x in ALL: s['as' + x] = (await a.call('asset.get', asset_id=x)).get('pledges')
        s['cases'] = (await a.call('report.disposals'))['rows']
        return s
    async def refuse(name, who, codes, field=None, **kw):
        b = await state()
        e = await who.errm('disposal.open', **dict(dict(pledgee=B.pid, pledgor=T.pid, valuation=5_000_000), **kw))
        ok = e[0] in codes and (field is None or field in e[1])
        check(f'{name} -> {"/".join(codes)}' + (f' naming {field}' if field else ''), ok, e)
        af = await state()
        check(f'{name}: nothing changed', b == af, {k: (b[k], af[k]) for k in b if b[k] != af[k]})
        return e
    await refuse('trader opens a case on its own asset', T, ('FORBIDDEN',), assets=[Q])
    await refuse('bank B names bank A as pledgee', B, ('FORBIDDEN', 'NOT_FOUND'), assets=[P], pledgee=A.pid)
    await refuse('bank A opens on Q (pledged to B only)', A, ('NOT_FOUND',), assets=[Q], pledgee=A.pid)
    await refuse('an asset named twice', B, ('BAD_REQUEST',), 'assets', assets=[Q, Q])
    await refuse('[Q, N]: N not pledged to B', B, ('NOT_FOUND',), assets=[Q, N])
    await refuse('[Q, W]: assets of two owners', B, ('INVALID_STATE', 'BAD_REQUEST', 'NOT_FOUND'), assets=[Q, W])
    await refuse('pledgor U is not the owner of Q', B, ('INVALID_STATE', 'NOT_FOUND', 'BAD_REQUEST'), assets=[Q], pledgor=U.pid)
    await refuse('pledgor = the co-owner U of C (owner T)', B, ('INVALID_STATE', 'NOT_FOUND', 'BAD_REQUEST'), assets=[C], pledgor=U.pid)
    await refuse('pledgor = the bank itself', B, ('INVALID_STATE', 'NOT_FOUND', 'BAD_REQUEST'), assets=[Q], pledgor=B.pid)
    await refuse('valuation 0', B, ('BAD_REQUEST',), 'valuation', assets=[Q], valuation=0)
    await refuse('valuation 1.5', B, ('BAD_REQUEST',), 'valuation', assets=[Q], valuation=1.5)
    await refuse('valuation "5000000"', B, ('BAD_REQUEST',), 'valuation', assets=[Q], valuation='5000000')
    await refuse('assets not a list', B, ('BAD_REQUEST',), 'assets', assets=Q)
    await refuse('L in a live consented listing', B, ('INVALID_STATE',), assets=[L])
    await refuse('[Q, L]: L in a live listing', B, ('INVALID_STATE',), assets=[Q, L])

    r = await B.call('disposal.open', assets=[P, Q], pledgee=B.pid, pledgor=T.pid, valuation=16_000_000)
    case1 = r['case_id']
    check("B's case on [P, Q]: claim = B-P 2,003,000 + B-Q 1,500,007 = 3,503,007 (not A's, not W/C/L)", r.get('claim') == 3_503_007, r.get('claim'))
    g = await a.call('auction.get', auction_id=r['auction_id'])
    check('round 1: lot [P, Q], start 70 % = 11,200,000, deposit 1,120,000, increment 1 % (112,000 CNY) = 112,000',
          (sorted(g['lot']), g['start_price'], g['deposit'], g['increment']) == (sorted([P, Q]), 11_200_000, 1_120_000, 112_000), g)
    await refuse('second case on P by the senior pledgee A', A, ('INVALID_STATE',), assets=[P], pledgee=A.pid)
    await refuse('second case on Q by B', B, ('INVALID_STATE',), assets=[Q])
    await refuse('[P] alone again by B', B, ('INVALID_STATE',), assets=[P])
    await refuse('the operator opens a second case on [Q] for B', a, ('INVALID_STATE',), assets=[Q])
    r2 = await B.errm('disposal.open', assets=[W], pledgee=B.pid, pledgor=U.pid, valuation=2_000_000)
    check('B opens a separate case on W against its owner U: claim 500,000', r2[0] == 'OK' and r2[1].get('claim') == 500_000, r2)
    r3 = await a.errm('disposal.open', assets=[C], pledgee=B.pid, pledgor=T.pid, valuation=3_000_000)
    check('the operator opens a case on the co-owned C for B against the owner T: claim 800,000', r3[0] == 'OK' and r3[1].get('claim') == 800_000, r3)
    if r3[0] == 'OK':
        e = await B.errm('disposal.get', case_id=r3[1]['case_id'])
        check('B reads the case the operator opened for it ("that bank")', e[0] == 'OK' and e[1].get('pledgee') == B.pid, e)
    rows = (await B.call('report.disposals'))['rows']
    check("B's report: its three cases", sorted(x['case_id'] for x in rows) == sorted([case1] + [x[1]['case_id'] for x in (r2, r3) if x[0] == 'OK']), rows)
    # the listed asset sells normally: B first, then T
    await X.call('auction.register', auction_id=la); await X.call('auction.bid', auction_id=la, amount=3_000_000)
    await ctx.adv(2 * DAY)
    g = await a.call('auction.get', auction_id=la)
    await X.call('settlement.pay', settlement_id=g['settlement_id'])
    b0 = [(await c.call('account.get'))['cash_available'] for c in (B, T)]
    await a.call('settlement.confirm', settlement_id=g['settlement_id'], registration_no='G03-L')
    b1 = [(await c.call('account.get'))['cash_available'] for c in (B, T)]
    check('L sold at 3,000,000: B +900,000, T +2,100,000', [y - x for x, y in zip(b0, b1)] == [900_000, 2_100_000], (b0, b1))
run('g03', sc)
