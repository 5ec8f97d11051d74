# Audit e (least-covered bullets at their bounds): PROTOCOL Defaults "Sealed second-price: the winner pays max(second-highest
# bid, reserve, start_price). Ties in any format: the earlier bid, except rule 6's priority holders." with DOMAIN rule 6
# "a holder may bid the same amount as the standing high bid and takes the lead if nobody goes higher; a higher-ranked holder
# beats a lower; equal rank: the earlier bid", in sealed_second (a holder's tie: what is "the second-highest bid"?) and
# sealed_first; the reserve exactly at the highest bid, one increment above it, and between the two highest bids; an English
# reserve met exactly by the last bid; rule 3 "Losers' deposits are released ... the engine releases at close".
from common import *
S, INC, DEP = 1_000_000, 10_000, 100_000
async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise')
    P = {n: await ctx.mk('individual', fund=10_000_000) for n in ('X', 'Y', 'H1', 'H2', 'H2b')}
    now = await ctx.now(); C = now + HOUR
    holders = [{'participant_id': P['H1'].pid, 'rank': 1}, {'participant_id': P['H2'].pid, 'rank': 2}, {'participant_id': P['H2b'].pid, 'rank': 2}]
    # name: format, reserve, bids in order, expected (state, winner, price)
    plan = [
        ('reserve=highest', 'sealed_second', 1_200_000, [('X', 1_200_000), ('Y', 1_100_000)], ('sold', 'X', 1_200_000)),
        ('reserve=highest+inc', 'sealed_second', 1_210_000, [('X', 1_200_000), ('Y', 1_100_000)], ('unsold', None, None)),
        ('reserve between', 'sealed_second', 1_150_000, [('X', 1_200_000), ('Y', 1_100_000)], ('sold', 'X', 1_150_000)),
        ('reserve=second', 'sealed_second', 1_100_000, [('X', 1_200_000), ('Y', 1_100_000)], ('sold', 'X', 1_100_000)),
        ('holder tie 2nd-price', 'sealed_second', None, [('X', 1_300_000), ('Y', 1_200_000), ('H2', 1_300_000)], ('sold', 'H2', 1_300_000)),
        ('rank 1 beats rank 2', 'sealed_second', None, [('H2', 1_300_000), ('X', 1_200_000), ('H1', 1_300_000)], ('sold', 'H1', 1_300_000)),
        ('equal rank: earlier', 'sealed_second', None, [('H2', 1_300_000), ('H2b', 1_300_000), ('X', 1_200_000)], ('sold', 'H2', 1_300_000)),
        ('non-holders tie: earlier', 'sealed_second', None, [('Y', 1_300_000), ('X', 1_300_000)], ('sold', 'Y', 1_300_000)),
        ('holder below the high bid', 'sealed_first', None, [('X', 1_300_000), ('H1', 1_290_000)], ('sold', 'X', 1_300_000)),
        ('holder ties sealed_first', 'sealed_first', None, [('X', 1_300_000), ('H2', 1_300_000), ('Y', 1_100_000)], ('sold', 'H2', 1_300_000)),
        ('english reserve met exactly', 'english', 1_020_000, [('X', 1_000_000), ('Y', 1_010_000), ('X', 1_020_000)], ('sold', 'X', 1_020_000)),
        ('english reserve missed by inc', 'english', 1_020_000, [('X', 1_000_000), ('Y', 1_010_000)], ('unsold', None, None)),
    ]
    A = {}; codes = {}
    for name, fmt, reserve, bids, _ in plan:
        kw = {'priority_holders': holders}
        if reserve is not None: kw['reserve'] = reserve
        _, A[name] = await new_auction(ctx, own, fmt=fmt, start=S, inc=INC, dep=DEP, opens=now, closes=C, **kw)
        for who in sorted({b[0] for b in bids}):
            codes[(name, who)] = (await P[who].call('auction.register', auction_id=A[name]))['bidder_code']
        for who, amt in bids:
            r = await P[who].errm('auction.bid', auction_id=A[name], amount=amt)
            check(f'{name}: {who} bids {amt} accepted', r[0] == 'OK', r)
            await ctx.adv(1)   # distinct engine times: "the earlier bid"
        if fmt != 'english':
            g = await a.call('auction.get', auction_id=A[name])
            check(f'{name}: before close price / leader / min_next_bid null, bids counted',
                  (g['price'], g['leader'], g['min_next_bid'], g['bids']) == (None, None, None, len(bids)), g)
    await ctx.adv_to(C - 1)
    g = await a.call('auction.get', auction_id=A['reserve=highest'])
    check('1 ms before closes_at: still open', g['state'] == 'open', g['state'])
    await ctx.adv(1)
    won = {n: 0 for n in P}
    for name, fmt, reserve, bids, (state, winner, price) in plan:
        g = await a.call('auction.get', auction_id=A[name])
        wcode = codes.get((name, winner)) if winner else None
        check(f'{name}: {state}, winner {winner}, price {price}', (g['state'], g.get('winner'), g['price'] if state == 'sold' else None) == (state, wcode, price),
              (g['state'], g.get('winner'), g['price'], {v: k[1] for k, v in codes.items() if k[0] == name}))
        if state == 'sold':
            if g.get('settlement_id'):
                st = await a.call('settlement.get', settlement_id=g['settlement_id'])
                check(f'{name}: settlement buyer {winner}, price {price}', (st['buyer'], st['price']) == (P[winner].pid, price), (st['buyer'], st['price']))
            won[winner] += 1
    for n, c in P.items():
        acc = await c.call('account.get')
        check(f"{n}: after every close only the winners' deposits are held ({won[n]} x 100,000)", acc['cash_held'] == won[n] * DEP, (acc['cash_held'], won[n]))
run('e03', sc)
