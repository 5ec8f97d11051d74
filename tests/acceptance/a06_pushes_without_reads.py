# Audit a (reads, visibility, access): what subscribers learn with no read in between, and reads by less usual callers.
# PROTOCOL "Channels": "auction.<id>: ... updates for each bid, extension, open and close"; Dutch "unsold when the floor
# has stood for one interval unaccepted"; "A timer fires at its own due time"; "private (the participant's own orders,
# fills, deposits, settlements, balances)"; rule 17 "The share is a ledger transfer from the fund's account to the
# pledgee"; auction.get / subscribe are for "anyone logged in" (a participant created with whitelisted false included).
from common import *

async def sc(ctx):
    a = ctx.adm
    op = await ctx.mk('operator'); bank = await ctx.mk('bank'); bank2 = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=100_000_000); Y = await ctx.mk('individual', fund=100_000_000)
    W = await ctx.mk('individual', fund=0)
    NW = await ctx.mk('individual', fund=5_000_000, whitelisted=False)
    rf = await ctx.mk('risk_fund', fund=50_000_000)

    # ---------- Dutch: the unsold close reaches a subscriber at its due time, with no read in between
    now = await ctx.now()
    _, D = await new_auction(ctx, own, fmt='dutch', start=1_000_000, inc=10_000, dep=100_000, opens=now + 10 * MIN, closes=now + DAY,
                             dutch={'decrement': 100_000, 'interval_ms': 10 * MIN, 'floor': 800_000})
    await X.call('auction.register', auction_id=D)
    await W.call('subscribe', channels=[f'auction.{D}', 'private']); s0 = await W.drain(0.3)
    await X.call('subscribe', channels=['private']); await X.drain(0.2)
    await ctx.adv(2 * HOUR)   # opens at +10 min, floor from +30 min, unsold at +40 min
    pw = [m for m in await W.drain(0.5) if m['channel'] == f'auction.{D}']
    types = [m['type'] for m in pw]
    print('  info: Dutch pushes with no read:', [(m['type'], m['ts'], m['data']) for m in pw])
    check('Dutch: open push then close push reach the subscriber without any read', 'open' in types and 'close' in types, types)
    cl = [m for m in pw if m['type'] == 'close']
    check('Dutch close push: state unsold, ts = opens_at + 30 min (floor stood one interval)',
          cl and cl[0]['data'].get('state') == 'unsold' and cl[0]['ts'] == now + 40 * MIN, cl)
    op_ = [m for m in pw if m['type'] == 'open']
    check('Dutch open push ts = opens_at', op_ and op_[0]['ts'] == now + 10 * MIN, op_)
    snap0 = [m for m in s0 if m['channel'] == f'auction.{D}']
    check('Dutch pushes gap-free after the snapshot', snap0 and [m['seq'] for m in pw] == list(range(snap0[0]['seq'] + 1, snap0[0]['seq'] + 1 + len(pw))), (snap0, pw))
    px = await X.drain(0.3)
    check("registrant's deposit release reaches its private channel at the unsold close", any(m['data'].get('cash_held') == 0 for m in px) or any('release' in json.dumps(m) for m in px),
          [(m['type'], m['data']) for m in px])
    check('nothing of X reaches W\'s private channel', not [m for m in await W.drain(0.1) if m['channel'] == 'private'])
    g = await W.call('auction.get', auction_id=D)
    check('Dutch auction.get after: unsold', g['state'] == 'unsold', g)

    # ---------- a participant created with whitelisted false may still read
    for m, p in (('auction.get', dict(auction_id=D)), ('account.get', {}), ('time.now', {}), ('subscribe', dict(channels=[f'auction.{D}', 'private']))):
        e = await NW.errm(m, **p)
        check(f'non-whitelisted trader: {m} -> ok', e[0] == 'OK', e)
    e = await NW.errm('account.get', participant_id=X.pid)
    check("non-whitelisted trader: another's account -> NOT_FOUND", e[0] == 'NOT_FOUND', e)

    # ---------- a cancelled auction: readable by anyone, its channel snapshot says cancelled
    _, K = await new_auction(ctx, own)
    await Y.call('auction.register', auction_id=K)
    await op.call('auction.cancel', auction_id=K, reason='withdrawn')
    g = await W.call('auction.get', auction_id=K)
    await W.call('subscribe', channels=[f'auction.{K}'])
    ps = [m for m in await W.drain(0.3) if m['channel'] == f'auction.{K}']
    check('cancelled auction: auction.get state cancelled; snapshot = auction.get', g['state'] == 'cancelled' and ps and ps[0]['data'] == g, (g, ps))
    check("cancelled: Y's deposit released (its account)", (await Y.call('account.get'))['cash_held'] == 0)

    # ---------- the same channel twice in one subscribe (printed: the contract is silent)
    e = await W.errm('subscribe', channels=['private', 'private'])
    ps = await W.drain(0.3)
    print('  info (open reading): subscribe [private, private] ->', e, 'snapshots:', len([m for m in ps if m['type'] == 'snapshot']))

    # ---------- a case with two pledgees and a risk fund: private balance pushes at confirm, to those paid only
    asset = await new_asset(ctx, own, valuation=10_000_000)
    await bank.call('pledge.register', asset_id=asset, pledgee=bank.pid, loan_outstanding=5_000_000, registration_no='R1')
    await bank2.call('pledge.register', asset_id=asset, pledgee=bank2.pid, loan_outstanding=5_000_000, registration_no='R2')
    r = await bank.call('disposal.open', assets=[asset], pledgee=bank.pid, pledgor=own.pid, valuation=10_000_000,
                        plan={'risk_fund': {'participant_id': rf.pid, 'share_bp': 5000}})
    cid, r1 = r['case_id'], r['auction_id']
    for k, c in (('second pledgee: disposal.get', bank2), ):
        e = await c.errm('disposal.get', case_id=cid)
        print(f'  info (open reading): {k} ->', e[0])
    e = await bank2.errm('subscribe', channels=[f'disposal.{cid}'])
    print('  info (open reading): second pledgee: subscribe disposal.<case> ->', e[0])
    await bank2.drain(0.2)
    g = await a.call('auction.get', auction_id=r1)
    await X.call('auction.register', auction_id=r1)
    await ctx.adv_to(g['opens_at'])
    await X.call('auction.bid', auction_id=r1, amount=7_000_000)
    await ctx.adv_to(g['closes_at'])
    sid = (await a.call('auction.get', auction_id=r1))['settlement_id']
    e = await bank2.errm('settlement.get', settlement_id=sid)
    print('  info (open reading): second pledgee: settlement.get ->', e[0])
    await X.call('settlement.pay', settlement_id=sid)
    for c in (bank, bank2, rf, own, Y): await c.call('subscribe', channels=['private'])
    for c in (bank, bank2, rf, own, Y): await c.drain(0.1)
    b0 = {c.pid: await c.call('account.get') for c in (bank, bank2, rf, own)}
    await op.call('settlement.confirm', settlement_id=sid, registration_no='REG')
    b1 = {c.pid: await c.call('account.get') for c in (bank, bank2, rf, own)}
    got = {c.pid: await c.drain(0.3 if c is bank else 0.05) for c in (bank, bank2, rf, own, Y)}
    for nm, c in (('first pledgee', bank), ('second pledgee', bank2), ('risk fund', rf), ('pledgor', own)):
        changed = b0[c.pid]['cash_available'] != b1[c.pid]['cash_available']
        pushed = any(m['data'].get('cash_available') == b1[c.pid]['cash_available'] for m in got[c.pid])
        print(f'  info: {nm}: cash {b0[c.pid]["cash_available"]} -> {b1[c.pid]["cash_available"]}')
        if changed:
            check(f'{nm}: its balance changed at confirm and its private channel says so', pushed, [(m['type'], m['data']) for m in got[c.pid]])
    check('first pledgee paid 5,000,000 (its claim), second 2,000,000, fund share 50% of the second\'s... (printed above)', b1[bank.pid]['cash_available'] - b0[bank.pid]['cash_available'] == 5_000_000, (b0, b1))
    check('a bystander (Y) gets no private push at confirm', not got[Y.pid], got[Y.pid])
run('a06', sc)
