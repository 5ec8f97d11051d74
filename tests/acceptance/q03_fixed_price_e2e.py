# DOMAIN rule 16 / PROTOCOL fixed_price, end to end (beyond r10): the seller may not register on its own listing;
# auction.bid / auction.accept on a listing not turned English -> INVALID_STATE (docs/protocol.md); one buyer buys at
# the listed price and the ledger follows through pay and confirm (deposit counts toward the price, buyer's premium,
# title moves, seller paid); two buyers and nobody bids after the turn -> unsold, deposits released; registration
# closes at the turn; after the turn the first bid is the listed price (above it BAD_PRICE), the winner pays its bid,
# losers' deposits are released at the close; a subscriber's snapshot + pushes show the turn (format, closes_at).
from common import *

def merge(snapshot, pushes):
    d = dict(snapshot)
    for p in pushes:
        if p['type'] != 'snapshot': d.update({k: v for k, v in p['data'].items() if k in d})
    return d

async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise', fund=1_000_000)
    X = await ctx.mk('individual', fund=10_000_000, region='deyang')
    Y = await ctx.mk('enterprise', fund=10_000_000, region='mianyang')
    Z = await ctx.mk('enterprise', fund=10_000_000, region='leshan')
    now = await ctx.now(); close = now + 20 * DAY
    kw = dict(fmt='fixed_price', start=2_000_000, inc=20_000, dep=200_000, closes=close, by=own)
    asset1, F1 = await new_auction(ctx, own, buyer_premium_bp=500, **kw)
    _, F2 = await new_auction(ctx, own, **kw)
    _, F3 = await new_auction(ctx, own, **kw)

    check('seller registering on its own listing -> NOT_QUALIFIED', await own.err('auction.register', auction_id=F1) == 'NOT_QUALIFIED')
    r = await X.call('auction.register', auction_id=F1)
    check('register = intent to buy: deposit held', r.get('deposit') == 200_000 and (await X.call('account.get'))['cash_held'] == 200_000, r)
    e = await X.err('auction.bid', auction_id=F1, amount=2_000_000)
    check('auction.bid on a fixed_price listing not turned English -> INVALID_STATE', e == 'INVALID_STATE', e)
    e = await X.err('auction.accept', auction_id=F1)
    check('auction.accept on a fixed_price listing -> INVALID_STATE', e == 'INVALID_STATE', e)
    for c in (X, Y): await c.call('auction.register', auction_id=F2)
    for c in (X, Y, Z): await c.call('auction.register', auction_id=F3)
    await Y.call('subscribe', channels=[f'auction.{F3}'])
    await asyncio.sleep(0.2)
    snap3 = [p for p in Y.pushes if p['type'] == 'snapshot' and p['channel'] == f'auction.{F3}']
    Y.pushes.clear()

    await ctx.adv_to(close)
    # one buyer: buys at the listed price; the ledger through pay and confirm
    g1 = await a.call('auction.get', auction_id=F1)
    check('one buyer: sold at the listed price at closes_at', g1['state'] == 'sold' and g1['price'] == 2_000_000 and g1['format'] == 'fixed_price', g1)
    s = await X.call('settlement.get', settlement_id=g1['settlement_id'])
    check('settlement: price, 5% premium, deposit counted, due 10 days after the close',
          (s['buyer'], s['price'], s.get('buyer_premium'), s['due_at']) == (X.pid, 2_000_000, 100_000, close + 10 * DAY), s)
    x0 = await X.call('account.get')
    await X.call('settlement.pay', settlement_id=g1['settlement_id'])
    x1 = await X.call('account.get')
    check('pay moves price + premium - deposit (1,900,000) into escrow',
          x0['cash_available'] - x1['cash_available'] == 1_900_000 and x1['cash_held'] - x0['cash_held'] == 1_900_000, (x0, x1))
    await a.call('settlement.confirm', settlement_id=g1['settlement_id'], registration_no='CNIPA-Q03-1')
    x2 = await X.call('account.get'); o2 = await own.call('account.get')
    check('after confirm: buyer holds the title, escrow for F1 released', pos(x2, asset1) and pos(x2, asset1)['units'] == 1, x2)
    check('after confirm: the seller no longer holds the title', pos(o2, asset1) is None, o2)
    check('after confirm: the seller is paid the price (no commission)', o2['cash_available'] == 1_000_000 + 2_000_000, o2)
    check('buyer paid price + premium in all (F2, F3 deposits still held)', x2['cash_available'] + x2['cash_held'] == 10_000_000 - 2_100_000 and x2['cash_held'] == 2 * 200_000, x2)

    # two buyers, nobody bids in the 24 h after the turn: unsold, deposits released
    g2 = await a.call('auction.get', auction_id=F2)
    check('two buyers: turned english, open until closes_at + 24 h', (g2['format'], g2['state'], g2['closes_at']) == ('english', 'open', close + DAY), g2)
    e = await Z.errm('auction.register', auction_id=F2)
    z = await Z.call('account.get')
    check('registration closes at the turn (a new buyer is refused, no deposit held)', e[0] != 'OK' and z['cash_held'] == 200_000, (e, z))
    print('  info: register after the turn ->', e)
    # F3: the first bid is the listed price; above it BAD_PRICE; the winner pays its bid
    e = await X.err('auction.bid', auction_id=F3, amount=2_020_000)
    check('after the turn, a first bid above the listed price -> BAD_PRICE', e == 'BAD_PRICE', e)
    await X.call('auction.bid', auction_id=F3, amount=2_000_000)
    await Z.call('auction.bid', auction_id=F3, amount=2_020_000)
    await ctx.adv_to(close + DAY)
    g2 = await a.call('auction.get', auction_id=F2)
    check('turned listing with no bid: unsold', g2['state'] == 'unsold', g2)
    g3 = await a.call('auction.get', auction_id=F3)
    check('turned listing: sold to the highest bid', g3['state'] == 'sold' and g3['price'] == 2_020_000, g3)
    s3 = await Z.call('settlement.get', settlement_id=g3['settlement_id'])
    check('winner Z, price its bid, due 10 days after the close', (s3['buyer'], s3['price'], s3['due_at']) == (Z.pid, 2_020_000, close + DAY + 10 * DAY), s3)
    x = await X.call('account.get'); y = await Y.call('account.get'); z = await Z.call('account.get')
    check('losers\' and the unsold listing\'s deposits released (X, Y hold nothing)', x['cash_held'] == 0 and y['cash_held'] == 0, (x, y))
    check('the winner\'s deposit stays held toward the price', z['cash_held'] == 200_000, z)
    # the subscriber sees the turn: snapshot + pushes merged = auction.get
    await asyncio.sleep(0.2)
    pushes = [p for p in Y.pushes if p['channel'] == f'auction.{F3}']
    if check('F3 snapshot received at subscribe', snap3, Y.pushes):
        m = merge(snap3[0]['data'], pushes)
        check('snapshot + pushes show the turn and the close (format, state, price, closes_at as auction.get)',
              all(m.get(k) == g3[k] for k in ('format', 'state', 'price', 'closes_at', 'winner')), ({k: m.get(k) for k in ('format', 'state', 'price', 'closes_at', 'winner')}, [p['type'] for p in pushes]))
        seqs = [p['seq'] for p in pushes]
        check('pushes continue the snapshot seq without gaps', seqs == list(range(snap3[0]['seq'] + 1, snap3[0]['seq'] + 1 + len(seqs))), seqs)
run('q03', sc)
