# Audit a (reads, visibility, access): identities and hidden values in less common states.
# PROTOCOL: "leader and winner are bidder codes (...; names are never shown to other bidders)"; auction.get is for "anyone
# logged in"; "settlements are seen only by their parties and the operator"; private is "the participant's own orders,
# fills, deposits, settlements, balances"; winner default: "the round is run again as a new auction". Checked: an auction
# with priority holders read by a non-holder; a proxy bidder's maximum never reaches the rival's private channel; after a
# winner default the defaulter does not read the re-run's settlement and the new buyer does not read the defaulted one;
# a disposal round's auction.get read by outsiders; an unsold sealed auction after close.
from common import *

async def sc(ctx):
    a = ctx.adm
    op = await ctx.mk('operator'); bank = await ctx.mk('bank'); own = await ctx.mk('enterprise', name='OwnerOu')
    X = await ctx.mk('individual', fund=100_000_000, name='XavierXu'); Y = await ctx.mk('individual', fund=100_000_000, name='YvonneYe')
    H = await ctx.mk('enterprise', fund=100_000_000, name='HolderHe'); N = await ctx.mk('individual', fund=100_000_000, name='NosyNie')
    ids = [f'"{c.pid}"' for c in (X, Y, H, N, bank)] + ['XavierXu', 'YvonneYe', 'HolderHe', 'NosyNie']
    def leaks(obj, allow=()):
        s = json.dumps(obj); return [x for x in ids if x in s and x not in allow]

    # ---------- priority holders: the holder's identity is not shown to other bidders
    asset = await new_asset(ctx, own)
    _, P = await new_auction(ctx, own, asset=asset, priority_holders=[{'participant_id': H.pid, 'rank': 1}])
    ch = (await H.call('auction.register', auction_id=P))['bidder_code']
    cx = (await X.call('auction.register', auction_id=P))['bidder_code']
    await X.call('auction.bid', auction_id=P, amount=1_000_000)
    await H.call('auction.bid', auction_id=P, amount=1_000_000)
    g = await N.call('auction.get', auction_id=P)
    print('  info: auction.get with priority holders, read by a non-bidder:', g)
    check('priority auction: the holder matching the standing bid leads (bidder code)', g['leader'] == ch and g['price'] == 1_000_000, g)
    gx = await X.call('auction.get', auction_id=P)
    check('priority auction.get read by another bidder: no participant id or name', not leaks(gx), (leaks(gx), gx))
    check('priority auction.get read by a non-bidder: no participant id or name', not leaks(g), (leaks(g), g))
    await N.call('subscribe', channels=[f'auction.{P}'])
    ps = await N.drain(0.3)
    check('priority auction snapshot to a non-bidder: no participant id or name', not leaks(ps), (leaks(ps), ps))
    e = await N.errm('auction.list')
    if e[0] == 'OK':
        rows = [r for r in e[1].get('auctions', []) if r.get('auction_id') == P]
        check('priority auction in auction.list (added read): no participant id or name', not leaks(rows), (leaks(rows), rows))

    # ---------- proxy max never reaches the rival's private channel, nor the rival's bid reply
    _, Q = await new_auction(ctx, own)
    await X.call('auction.register', auction_id=Q); await Y.call('auction.register', auction_id=Q)
    await Y.call('subscribe', channels=['private', f'auction.{Q}']); await Y.drain(0.3)
    await X.call('auction.proxy', auction_id=Q, max_amount=1_470_000)
    r = await Y.call('auction.bid', auction_id=Q, amount=1_200_000)
    r2 = await Y.call('auction.bid', auction_id=Q, amount=1_300_000)
    py = await Y.drain(0.3)
    check("rival's bid replies and pushes never show the proxy max 1,470,000", '1470000' not in json.dumps([r, r2, py]), (r, r2, py))
    check("rival's pushes name no other participant", not leaks(py, allow=(f'"{Y.pid}"', 'YvonneYe')), leaks(py, allow=(f'"{Y.pid}"',)))

    # ---------- a disposal round read by an outsider; the defaulted settlement and the re-run's
    aid, cid, r1 = await new_case(ctx, bank, own, 10_000_000, plan={'payment_ms': DAY, 'renotice_ms': DAY})
    g = await N.call('auction.get', auction_id=r1)
    print('  info: a disposal round read by a non-bidder:', g)
    check('disposal round auction.get by an outsider: purpose disposal, no bank or pledgor id', g['purpose'] == 'disposal' and not leaks(g), leaks(g))
    check('disposal round: reserve (if shown) = start price (rule 1)', g.get('reserve') in (None, g['start_price']), g)
    for c in (X, Y): await c.call('auction.register', auction_id=r1)
    await ctx.adv_to(g['opens_at'])
    await X.call('auction.bid', auction_id=r1, amount=7_000_000)
    await ctx.adv_to(g['closes_at'])
    s1 = (await a.call('auction.get', auction_id=r1))['settlement_id']
    await ctx.adv(DAY)   # unpaid at due_at -> defaulted, re-run announced after renotice_ms
    s = await X.errm('settlement.get', settlement_id=s1)
    check('the defaulter still reads its defaulted settlement', s[0] == 'OK' and s[1]['state'] == 'defaulted', s)
    d = await bank.call('disposal.get', case_id=cid)
    rerun = [rd for rd in d['rounds'] if rd.get('auction_id') != r1]
    check('case has a re-run round', rerun, d)
    if rerun:
        r1b = rerun[-1]['auction_id']
        gb = await a.call('auction.get', auction_id=r1b)
        await Y.call('auction.register', auction_id=r1b)
        e = await X.errm('auction.register', auction_id=r1b)
        check('defaulter barred from the re-run (NOT_QUALIFIED)', e[0] == 'NOT_QUALIFIED', e)
        await ctx.adv_to(gb['opens_at'])
        await Y.call('auction.bid', auction_id=r1b, amount=gb['start_price'])
        await ctx.adv_to(gb['closes_at'])
        s2 = (await a.call('auction.get', auction_id=r1b)).get('settlement_id')
        check('re-run sold with a new settlement', s2 and s2 != s1, s2)
        e = await X.errm('settlement.get', settlement_id=s2)
        check("defaulter reading the re-run's settlement -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
        e = await Y.errm('settlement.get', settlement_id=s1)
        check("new buyer reading the defaulted settlement -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
        for c, nm in ((Y, 'new buyer'), (own, 'pledgor'), (op, 'operator')):
            e = await c.errm('settlement.get', settlement_id=s2)
            check(f're-run settlement read by {nm} -> ok, buyer = Y', e[0] == 'OK' and e[1]['buyer'] == Y.pid, e)
        e = await own.errm('settlement.get', settlement_id=s1)
        check('pledgor reads the defaulted settlement too (a party)', e[0] == 'OK' and e[1]['state'] == 'defaulted', e)

    # ---------- sealed, unsold (reserve not met): what is shown after close
    _, S = await new_auction(ctx, own, fmt='sealed_first', reserve=2_000_000)
    for c in (X, Y): await c.call('auction.register', auction_id=S)
    await X.call('auction.bid', auction_id=S, amount=1_510_000); await Y.call('auction.bid', auction_id=S, amount=1_400_000)
    await ctx.adv(DAY)
    g = await N.call('auction.get', auction_id=S)
    print('  info (open reading): unsold sealed auction after close, read by a non-bidder:', g)
    check('unsold sealed: state unsold, no winner, no settlement', g['state'] == 'unsold' and not g.get('winner') and not g.get('settlement_id'), g)
    check('unsold sealed: no participant id or name', not leaks(g), leaks(g))

    # ---------- titles: what an owner's account shows for a registered asset (printed)
    acc = await own.call('account.get')
    print('  info (open reading): owner positions after asset.register:', acc['positions'][:4])
    # ---------- Dutch before opening: price shown (printed)
    now = await ctx.now()
    _, D = await new_auction(ctx, own, fmt='dutch', start=1_000_000, opens=now + HOUR, closes=now + DAY,
                             dutch={'decrement': 10_000, 'interval_ms': 10 * MIN, 'floor': 800_000})
    g = await N.call('auction.get', auction_id=D)
    print('  info (open reading): scheduled Dutch auction.get price ->', g['price'], 'min_next_bid ->', g['min_next_bid'], 'leader ->', g['leader'])
run('a05', sc)
