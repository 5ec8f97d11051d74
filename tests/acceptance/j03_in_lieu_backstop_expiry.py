# Hostile sequences (eighteenth audit): round trips after a case ends, and confirmations after the asset's expiry.
# 1. A case ends in lieu (DOMAIN 11): the bank holds the title; it cannot open a case on it again (no live pledge:
#    NOT_FOUND, docs disposal.open); the old pledgor cannot list it (another's asset: NOT_FOUND); the operator sells it
#    for the bank: one title, cash conserved.
# 2. A backstop participant that is itself the pledgor: its own round (seller: NOT_QUALIFIED) and its own standing offer
#    (contract silent: reported), cash and title conserved.
# 3. An exclusive licence confirmed so late that its term would pass the expiry: INVALID_STATE, nothing changed, the
#    settlement stays paid and settlement.fail refunds in full (DOMAIN 15; docs settlement.confirm).
from common import *

async def cash_total(ctx, people):
    t = 0
    for c in people:
        a = await ctx.adm.call('account.get', participant_id=c.pid); t += a['cash_available'] + a['cash_held']
    return t

PLAN = dict(notice_ms=HOUR, renotice_ms=HOUR, bidding_ms=DAY, sell_off_ms=DAY)

async def scenario(ctx):
    a = ctx.adm
    O = await ctx.mk('enterprise', fund=1_000_000)
    X = await ctx.mk('individual', fund=50_000_000)
    B = await ctx.mk('bank')
    K = await ctx.mk('backstop', fund=50_000_000)
    people = [O, X, B, K]; FUNDED = 101_000_000
    # 1. in lieu
    aid, case, r1 = await new_case(ctx, B, O, 10_000_000, plan=PLAN, loan=3_000_000)
    await ctx.adv(10 * DAY)
    d = await B.call('disposal.get', case_id=case)
    check('case 1 closed in lieu (no bidder, no backstop offer yet)', d['state'] == 'closed' and d['outcome'] == 'in_lieu',
          (d['state'], d['outcome']))
    ab = await a.call('account.get', participant_id=B.pid); ao = await a.call('account.get', participant_id=O.pid)
    check('DOMAIN 11: the asset went to the pledgee (bank holds the title)', (pos(ab, aid) or {}).get('units') == 1, ab['positions'])
    check('the pledgor no longer holds it', not (pos(ao, aid) or {}).get('units'), ao['positions'])
    e = await refused(ctx, 'bank reopens a case on the asset it took in lieu', B, 'disposal.open', people, cases=[case],
                      assets=[aid], pledgee=B.pid, pledgor=B.pid, valuation=10_000_000)
    check('disposal.open on an asset held in lieu (no live pledge): NOT_FOUND (docs disposal.open)', e[0] == 'NOT_FOUND', e)
    e = await refused(ctx, 'bank reopens naming the old pledgor', B, 'disposal.open', people, cases=[case],
                      assets=[aid], pledgee=B.pid, pledgor=O.pid, valuation=10_000_000)
    check('disposal.open naming the old pledgor (pledge ended in lieu): NOT_FOUND', e[0] == 'NOT_FOUND', e)
    now = await ctx.now()
    e = await refused(ctx, 'old pledgor lists the asset taken in lieu', O, 'auction.create', people, cases=[case],
                      lot=[aid], purpose='transfer', format='english', start_price=1_000_000, increment=10_000, deposit=0,
                      opens_at=now, closes_at=now + DAY)
    check('old pledgor auction.create on the asset taken in lieu: NOT_FOUND (another\'s asset)', e[0] == 'NOT_FOUND', e)
    e = await B.errm('pledge.register', asset_id=aid, pledgee=B.pid, loan_outstanding=1_000_000, registration_no='J03-SELF')
    code_ok('bank pledges to itself the asset it holds', e); print('  info: bank pledge.register on its own asset ->', e[0])
    e = await a.errm('auction.create', lot=[aid], purpose='transfer', format='english', start_price=1_000_000,
                     increment=10_000, deposit=100_000, opens_at=now, closes_at=now + DAY)
    code_ok('operator lists the bank\'s asset', e); print('  info: operator lists the asset held in lieu ->', e[0])
    if e[0] == 'OK':
        au = e[1]['auction_id']
        await X.call('auction.register', auction_id=au); await X.call('auction.bid', auction_id=au, amount=1_000_000)
        await ctx.adv(DAY)
        sid = (await a.call('auction.get', auction_id=au))['settlement_id']
        await X.call('settlement.pay', settlement_id=sid)
        e = await a.errm('settlement.confirm', settlement_id=sid, registration_no='J03-R1'); code_ok('confirm', e)
        ab = await a.call('account.get', participant_id=B.pid); ax = await a.call('account.get', participant_id=X.pid)
        print('  info: bank after selling its in-lieu asset: cash', ab['cash_available'], 'positions', ab['positions'])
        if e[0] == 'OK':
            check('one title: X holds it, the bank does not', (pos(ax, aid) or {}).get('units') == 1 and
                  not (pos(ab, aid) or {}).get('units'), (ax['positions'], ab['positions']))
    check('cash conserved after part 1', await cash_total(ctx, people) == FUNDED)
    # 2. a backstop participant that is the pledgor
    aid2 = 'J03-K'
    e = await a.errm('asset.register', asset_id=aid2, kind='invention_patent', title='k', owner=K.pid, region='chengdu',
                     industry='other', valuation=10_000_000, expires_at=T0 + 3650 * DAY)
    code_ok('operator registers an asset owned by a backstop participant', e)
    print('  info: asset owned by a backstop ->', e[0])
    if e[0] == 'OK':
        await B.call('pledge.register', asset_id=aid2, pledgee=B.pid, loan_outstanding=2_000_000, registration_no='J03-K1')
        c2 = await B.call('disposal.open', assets=[aid2], pledgee=B.pid, pledgor=K.pid, valuation=10_000_000, plan=PLAN)
        await ctx.adv(HOUR)
        e = await refused(ctx, 'backstop pledgor registers for its own disposal round', K, 'auction.register', people,
                          [c2['auction_id']], [c2['case_id']], auction_id=c2['auction_id'])
        check('the pledgor (backstop) registering for its own round: NOT_QUALIFIED (docs auction.register: the seller)',
              e[0] == 'NOT_QUALIFIED', e)
        await K.call('backstop.offer', price_bp=5000, max_amount=10_000_000)
        await ctx.adv(10 * DAY)
        d = await B.call('disposal.get', case_id=c2['case_id'])
        print('  info: case whose pledgor is the only backstop buyer ->', d['state'], d['outcome'], d.get('settlement_id'))
        if d.get('settlement_id'):
            s = await a.call('settlement.get', settlement_id=d['settlement_id'])
            print('  info: its settlement buyer', s['buyer'], 'seller', s.get('seller'), 'state', s['state'], 'price', s['price'])
            e = await a.errm('settlement.confirm', settlement_id=d['settlement_id'], registration_no='J03-K'); code_ok('confirm', e); print('  info: confirm of the self-backstop purchase ->', e[0], e[1] if e[0] != 'OK' else '')
            check('docs settlement.confirm ("A paid settlement only"; PROTOCOL: -> confirmed): the paid backstop purchase the '
                  'engine itself made (its buyer is the pledgor) is confirmed - or the engine should not have chosen that '
                  'offer - not left paid for ever with the buyer\'s cash held', e[0] == 'OK', e)
            ak = await a.call('account.get', participant_id=K.pid); ab = await a.call('account.get', participant_id=B.pid)
            print('  info: after confirm: K', ak['cash_available'], ak['cash_held'], ak['positions'], 'bank', ab['cash_available'])
        check('cash conserved after part 2', await cash_total(ctx, people) == FUNDED)
    # 3. an exclusive licence confirmed after its term would pass the expiry
    now = await ctx.now()
    aid3 = await new_asset(ctx, O, expires_at=now + 400 * DAY)
    lic = {'kind': 'exclusive', 'territory': ['cn'], 'field': 'all', 'term_months': 12, 'royalty_bp': 0}
    au3 = (await O.call('auction.create', lot=[aid3], purpose='exclusive_licence', format='english', start_price=1_000_000,
                        increment=10_000, deposit=100_000, opens_at=now, closes_at=now + DAY, licence=lic))['auction_id']
    await X.call('auction.register', auction_id=au3); await X.call('auction.bid', auction_id=au3, amount=1_000_000)
    await ctx.adv(DAY)
    sid3 = (await a.call('auction.get', auction_id=au3))['settlement_id']
    await X.call('settlement.pay', settlement_id=sid3)
    await ctx.adv(60 * DAY)   # 12 months from now run past now + 400 d - 61 d
    e = await refused(ctx, 'late exclusive licence confirmation past the expiry', a, 'settlement.confirm', people, [au3], sids=[sid3],
                      settlement_id=sid3, registration_no='J03-L')
    check('DOMAIN 15 / docs settlement.confirm: a licence whose term from confirmation passes the expiry: INVALID_STATE',
          e[0] == 'INVALID_STATE', e)
    s = await a.call('settlement.get', settlement_id=sid3); check('settlement stays paid', s['state'] == 'paid', s['state'])
    bx = await a.call('account.get', participant_id=X.pid)
    await a.call('settlement.fail', settlement_id=sid3, reason='late')
    ax = await a.call('account.get', participant_id=X.pid)
    check('settlement.fail refunds the buyer in full (held 1,000,000 back to available)',
          ax['cash_available'] == bx['cash_available'] + 1_000_000 and ax['cash_held'] == bx['cash_held'] - 1_000_000, (bx, ax))
    check('cash conserved at the end', await cash_total(ctx, people) == FUNDED)

run('j03', scenario)
