# Hostile sequences (eighth audit, PROTOCOL.md / DOMAIN.md only): one asset in two live listings at once.
#  The same asset in two English auctions (both sold, both settled), in a lot twice, in an auction and a disposal case,
#  in a case and a unit market; a participant who is both seller and bidder; the operator acting on its own.
# Contract: "Bad input gets a clear, stable error code and changes nothing"; error codes are the listed ones;
# "A rejected request changes nothing."
from common import *

async def scenario(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise', fund=10_000_000)
    X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('individual', fund=50_000_000)
    bank = await ctx.mk('bank')
    people = [own, X, Y]
    A = await new_asset(ctx, own)
    now = await ctx.now()
    base = dict(purpose='transfer', format='english', start_price=1_000_000, increment=10_000, deposit=100_000,
                opens_at=now, closes_at=now + DAY)
    r1 = await a.call('auction.create', lot=[A], **base)
    e = await a.errm('auction.create', lot=[A], **base)
    code_ok('second live auction of the same asset', e)
    print('  info: second auction of the same asset ->', e[0], e[1] if e[0] != 'OK' else '')
    two = e[0] == 'OK'
    e2 = await own.errm('auction.create', lot=[A], **base)
    code_ok('owner lists the asset already in the operator\'s auction', e2)
    print('  info: owner second listing ->', e2[0])
    B = await new_asset(ctx, own)
    e3 = await refused(ctx, 'lot with the same asset twice', a, 'auction.create', people, lot=[B, B], **base)
    print('  info: lot [B, B] ->', e3[0])
    check('auction.create with lot [B, B] (the same asset twice): BAD_REQUEST, or accepted and settled once (below)',
          e3[0] in ('OK', 'BAD_REQUEST'), e3)
    if e3[0] == 'OK':
        abb = e3[1]['auction_id']
        await Y.call('auction.register', auction_id=abb)
        e = await Y.errm('auction.bid', auction_id=abb, amount=1_000_000); code_ok('bid on the [B, B] lot', e)
    # owner bids on its own asset
    au1 = r1['auction_id']
    e = await own.errm('auction.register', auction_id=au1); code_ok('seller registers for its own auction', e)
    print('  info: seller registers in own auction ->', e[0])
    if e[0] == 'OK':
        e = await own.errm('auction.bid', auction_id=au1, amount=1_000_000); code_ok('seller bids on its own asset', e)
        print('  info: seller bids own asset ->', e[0])
    # both auctions sold to different buyers
    await X.call('auction.register', auction_id=au1)
    await refused(ctx, 'X bids 1,000,000 (maybe under own lead)', X, 'auction.bid', people, [au1], auction_id=au1, amount=1_010_000 if e[0]=='OK' else 1_000_000)
    if two:
        au2 = e[1]['auction_id'] if False else None
    aus = [au1]
    if two:
        g = await a.call('auction.get', auction_id=au1)
        # the second auction's id
    # a market on the asset under auction, and a disposal case on it
    await bank.call('pledge.register', asset_id=B, pledgee=bank.pid, loan_outstanding=1_000_000, registration_no='RB')
    e = await bank.errm('disposal.open', assets=[A], pledgee=bank.pid, pledgor=own.pid, valuation=10_000_000)
    code_ok('disposal.open on an unpledged asset that is in a live auction', e); print('  info: case on asset in auction (not pledged to bank) ->', e[0])
    e = await bank.errm('pledge.register', asset_id=A, pledgee=bank.pid, loan_outstanding=1_000_000, registration_no='RA')
    # DOMAIN 13: a pledged patent is not assigned without its pledgee's consent; one already for sale would
    # be, so the pledge is refused while the sale is live (or the sale must not be confirmed without consent).
    pledged_in_sale = e[0] == 'OK'
    check('pledge.register on an asset in a live auction: refused INVALID_STATE (rule 13), or accepted',
          e[0] in ('OK', 'INVALID_STATE'), e)
    e = await bank.errm('disposal.open', assets=[A], pledgee=bank.pid, pledgor=own.pid, valuation=10_000_000)
    code_ok('disposal.open on a pledged asset in a live auction', e); print('  info: case on pledged asset in a live auction ->', e[0])
    if pledged_in_sale:
        check('disposal.open on an asset in a live auction is refused (INVALID_STATE), as a second auction is',
              e[0] == 'INVALID_STATE', e)
    case_on_A = e[1] if e[0] == 'OK' else None
    e = await own.errm('market.create', market_id='MA', asset_id=A, licence=LIC, tick=100, min_qty=10)
    code_ok('market on the asset in an auction and a case', e); print('  info: market on A ->', e[0])
    # advance to close: who owns A?
    await ctx.adv(DAY)
    g1 = await a.call('auction.get', auction_id=au1)
    print('  info: au1 after close', g1['state'], g1.get('price'), g1.get('settlement_id'))
    if g1.get('settlement_id'):
        sid = g1['settlement_id']
        s = await a.call('settlement.get', settlement_id=sid)
        buyer = {X.pid: X, own.pid: own}.get(s['buyer'], X)
        e = await buyer.errm('settlement.pay', settlement_id=sid); code_ok('pay au1', e)
        e = await a.errm('settlement.confirm', settlement_id=sid, registration_no='REG1'); code_ok('confirm au1', e)
        if pledged_in_sale:
            check('DOMAIN 13 "A pledged patent cannot be listed, assigned or licensed without the pledgee\'s consent": A pledged '
                  'during its auction, no consent -> the assignment is confirmed anyway', e[0] != 'OK', e)
        print('  info: confirm au1 ->', e[0])
        acc = await a.call('account.get', participant_id=buyer.pid); print('  info: buyer positions', acc['positions'])
        oa = await a.call('account.get', participant_id=own.pid); print('  info: seller positions', oa['positions'])
    if case_on_A:
        d = await bank.call('disposal.get', case_id=case_on_A['case_id']); print('  info: case on A', d['state'])
        await ctx.adv(DAY)
        if e3[0] == 'OK':
            g = await a.call('auction.get', auction_id=abb); print('  info: [B, B] auction', g['state'], g.get('settlement_id'))
            if g.get('settlement_id'):
                e = await Y.errm('settlement.pay', settlement_id=g['settlement_id']); code_ok('pay [B, B]', e)
                e = await a.errm('settlement.confirm', settlement_id=g['settlement_id'], registration_no='RBB'); code_ok('confirm [B, B]', e)
                check('lot [B, B] was accepted by auction.create, sold and paid: its settlement.confirm must not be refused for ever '
                      '("Bad input gets a clear, stable error code and changes nothing" - the bad lot should have been refused at create)', e[0] == 'OK', e)
                e = await a.errm('settlement.fail', settlement_id=g['settlement_id'], reason='stuck'); code_ok('fail the stuck [B, B] settlement', e); print('  info: fail stuck', e[0])
                ay = await a.call('account.get', participant_id=Y.pid); ao = await a.call('account.get', participant_id=own.pid)
                print('  info: after [B,B] confirm Y', ay['positions'], 'own', ao['positions'])
                check('a lot of [B, B] sold once gives the buyer one title (units 1), not two',
                      (pos(ay, B) or {}).get('units') in (1, None), (pos(ay, B), pos(ao, B)))
                check('the title of B is not duplicated (buyer + seller units <= 1)',
                      ((pos(ay, B) or {}).get('units', 0) + (pos(ao, B) or {}).get('units', 0)) <= 1, (pos(ay, B), pos(ao, B)))
        # the case's round 1 on an asset already sold to X; round 2 at 46-47 d
        await ctx.adv_to(T0 + 46 * DAY)
        d = await bank.call('disposal.get', case_id=case_on_A['case_id']); print('  info: case on A at 46 d', d['state'], [(r['round'], r['state']) for r in d['rounds']])
        r2 = d['rounds'][-1]['auction_id']
        e = await Y.errm('auction.register', auction_id=r2); code_ok('register in the case round on an asset sold meanwhile', e); print('  info: register', e[0])
        if e[0] == 'OK':
            e = await Y.errm('auction.bid', auction_id=r2, amount=d['rounds'][-1]['start_price']); code_ok('bid', e); print('  info: bid', e)
            await ctx.adv_to(T0 + 47 * DAY)
            g = await a.call('auction.get', auction_id=r2); print('  info: round 2', g['state'], g.get('settlement_id'))
            if g.get('settlement_id'):
                sid2 = g['settlement_id']
                e = await Y.errm('settlement.pay', settlement_id=sid2); code_ok('pay the case round for A', e); print('  info: pay', e[0])
                e = await a.errm('settlement.confirm', settlement_id=sid2, registration_no='RA2'); code_ok('confirm the case round for A (A now X\'s)', e)
                print('  info: confirm', e)
                check('a disposal case opened on an asset in a live auction (accepted), sold and paid: confirm not refused with '
                      'an internal ledger reason (the case should have been refused at disposal.open, like a second auction is)', e[0] == 'OK', e)
                ax = await a.call('account.get', participant_id=X.pid); ay = await a.call('account.get', participant_id=Y.pid)
                print('  info: A now: X', pos(ax, A), 'Y', pos(ay, A))
                check('asset A has one owner after two sales (X and Y do not both hold it)',
                      (pos(ax, A) or {}).get('units', 0) + (pos(ay, A) or {}).get('units', 0) <= 1, (pos(ax, A), pos(ay, A)))
    h = await a.errm('time.now'); check('server alive', h[0] == 'OK', h)

run('y01', scenario, sound=True)
