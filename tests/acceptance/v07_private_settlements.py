# PROTOCOL Channels: "private (the participant's own orders, fills, deposits, settlements, balances)": each step of
# a settlement (opened at the close, paid, confirmed, failed, defaulted) and each deposit held / released / forfeited
# reaches its owner's private channel, gap-free, and nobody else's.
from common import *

def priv(ps): return [m for m in ps if m['channel'] == 'private']
def mentions(ps, *needles): return any(all(str(n) in json.dumps(m['data']) for n in needles) for m in ps)
def gapfree(ps): s = [m['seq'] for m in ps]; return s == list(range(s[0], s[0] + len(s))) if s else True

async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=10_000_000); Y = await ctx.mk('individual', fund=10_000_000); Z = await ctx.mk('individual', fund=10_000_000)
    allp = {}
    for c in (X, Y, Z, own):
        await c.call('subscribe', channels=['private']); allp[c.pid] = priv(await c.drain())
    _, A = await new_auction(ctx, own); _, B = await new_auction(ctx, own); _, C = await new_auction(ctx, own)
    await X.call('auction.register', auction_id=A)
    px = priv(await X.drain())
    check('X private: deposit held on register (100,000 held)', mentions(px, 100000), px)
    allp[X.pid] += px
    await Y.call('auction.register', auction_id=A); await Y.call('auction.register', auction_id=C)
    await Z.call('auction.register', auction_id=B)
    await X.call('auction.bid', auction_id=A, amount=1_000_000); await Z.call('auction.bid', auction_id=B, amount=1_000_000)
    for c in (Y, Z, own): allp[c.pid] += priv(await c.drain())
    await a.call('auction.cancel', auction_id=C, reason='withdrawn')
    py = priv(await Y.drain()); allp[Y.pid] += py
    check('Y private: deposit released on cancel', mentions(py, C) or any(m['type'] in ('balance', 'deposit') for m in py), py)
    await ctx.adv(DAY)
    gA = await a.call('auction.get', auction_id=A); gB = await a.call('auction.get', auction_id=B)
    sA, sB = gA['settlement_id'], gB['settlement_id']
    px = priv(await X.drain()); py = priv(await Y.drain()); pz = priv(await Z.drain()); po = priv(await own.drain())
    allp[X.pid] += px; allp[Y.pid] += py; allp[Z.pid] += pz; allp[own.pid] += po
    check('winner X private: the settlement (id, awaiting_payment)', mentions(px, sA, 'awaiting_payment'), px)
    check('loser Y private: deposit released at the close', any(m['type'] != 'snapshot' for m in py), py)
    check('seller private: the settlement (a party)', mentions(po, sA), po)
    check('Y never sees X\u2019s settlement', not mentions(allp[Y.pid], sA), allp[Y.pid])
    await X.call('settlement.pay', settlement_id=sA)
    px = priv(await X.drain()); allp[X.pid] += px
    check('X private: settlement paid', mentions(px, sA, 'paid'), px)
    await a.call('settlement.confirm', settlement_id=sA, registration_no='R-A')
    px = priv(await X.drain()); po = priv(await own.drain()); allp[X.pid] += px; allp[own.pid] += po
    check('X private: settlement confirmed', mentions(px, sA, 'confirmed'), px)
    check('seller private: settlement confirmed', mentions(po, sA, 'confirmed'), po)
    # Z does not pay: defaulted at due_at, deposit forfeited
    sb = await a.call('settlement.get', settlement_id=sB)
    await ctx.adv_to(sb['due_at'])
    pz = priv(await Z.drain()); allp[Z.pid] += pz
    check('Z private: settlement defaulted', mentions(pz, sB, 'defaulted'), pz)
    for c, n in ((X, 'X'), (Y, 'Y'), (Z, 'Z'), (own, 'seller')):
        check(f'{n} private seq gap-free from the snapshot', gapfree(allp[c.pid]), [m['seq'] for m in allp[c.pid]])
run('v07', sc)
