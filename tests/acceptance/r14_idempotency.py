# request_id: first reply (success or error) kept 24 h engine time; same params -> same reply, nothing applied;
# different params -> DUPLICATE; per participant; expiry after 24 h
from common import *
async def sc(ctx):
    a = ctx.adm
    own = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=10_000_000); Y = await ctx.mk('individual', fund=10_000_000)
    r1 = await a.call('participant.create', name='dup', kind='individual', region='leshan', whitelisted=True, request_id='pc-1')
    r2 = await a.call('participant.create', name='dup', kind='individual', region='leshan', whitelisted=True, request_id='pc-1')
    check('participant.create retry returns the same reply', r1 == r2, (r1, r2))
    e = await a.err('participant.create', name='dup2', kind='individual', region='leshan', whitelisted=True, request_id='pc-1')
    check('same request_id, different params -> DUPLICATE', e == 'DUPLICATE', e)
    f1 = await a.call('account.fund', participant_id=X.pid, amount=5, request_id='f-1')
    f2 = await a.call('account.fund', participant_id=X.pid, amount=5, request_id='f-1')
    acc = await X.call('account.get')
    check('account.fund retried applies once', acc['cash_available'] == 10_000_005 and f1 == f2, (acc, f1, f2))
    # key order / param order irrelevant? send same params in different order
    f3 = await a.raw('account.fund', {'amount': 5, 'participant_id': X.pid, 'request_id': 'f-1'})
    check('same params in another key order treated as the same', 'result' in f3 and f3['result'] == f1, f3)
    _, aid = await new_auction(ctx, own, start=1_000_000, inc=10_000, dep=100_000)
    await X.call('auction.register', auction_id=aid); await Y.call('auction.register', auction_id=aid)
    # an error reply is kept: bid too low with request_id, then (after the state changed) retry still returns the error
    e1 = await X.errm('auction.bid', auction_id=aid, amount=900_000, request_id='b-1')
    b = await X.call('auction.bid', auction_id=aid, amount=1_000_000, request_id='b-2')
    b2 = await X.call('auction.bid', auction_id=aid, amount=1_000_000, request_id='b-2')
    check('bid retry returns identical reply', b == b2, (b, b2))
    g = await a.call('auction.get', auction_id=aid)
    check('bid retry applied once', g['bids'] == 1, g['bids'])
    e2 = await X.errm('auction.bid', auction_id=aid, amount=900_000, request_id='b-1')
    check('kept error reply returned again', e1 == e2 and e1[0] == 'BID_TOO_LOW', (e1, e2))
    # request_id is per participant
    r = await Y.errm('auction.bid', auction_id=aid, amount=1_010_000, request_id='b-2')
    check('same request_id from another participant is independent', r[0] == 'OK', r)
    # error reply kept then retried after it would now succeed
    e3 = await X.errm('auction.bid', auction_id=aid, amount=1_010_000, request_id='b-3')  # BID_TOO_LOW? 1_010_000 == standing -> too low
    print('b-3', e3)
    Z = await ctx.mk('individual', fund=10_000_000)
    z1 = await Z.errm('auction.bid', auction_id=aid, amount=1_100_000, request_id='z-1')
    check('unregistered bid -> NOT_QUALIFIED', z1[0] == 'NOT_QUALIFIED', z1)
    await Z.call('auction.register', auction_id=aid)
    z2 = await Z.errm('auction.bid', auction_id=aid, amount=1_100_000, request_id='z-1')
    g = await a.call('auction.get', auction_id=aid)
    check('kept error replayed after state change; nothing applied', z2 == z1 and g['bids'] == 2, (z2, g['bids']))
    # DUPLICATE for registration twice
    e = await X.err('auction.register', auction_id=aid)
    check('register twice -> DUPLICATE', e == 'DUPLICATE', e)
    rr = await X.errm('auction.register', auction_id=aid, request_id='reg-x')
    rr2 = await X.errm('auction.register', auction_id=aid, request_id='reg-x')
    check('kept DUPLICATE reply repeated', rr == rr2, (rr, rr2))
    # read-only method with request_id is not remembered: account.get twice with same rid reflects new state
    g1 = await X.call('account.get', request_id='ro-1')
    await a.call('account.fund', participant_id=X.pid, amount=7)
    g2 = await X.call('account.get', request_id='ro-1')
    check('read-only methods do not remember request_id', g2['cash_available'] == g1['cash_available'] + 7, (g1, g2))
    # 24h expiry of engine time
    await ctx.adv(DAY + 1)
    f4 = await a.call('account.fund', participant_id=X.pid, amount=5, request_id='f-1')
    acc2 = await X.call('account.get')
    check('after 24 h engine time the request_id is forgotten (applies again)', acc2['cash_available'] == 10_000_017 and acc2['cash_held'] == 0, acc2)
    print('after expiry fund:', f4, acc2)
    # just before 24h: kept
    f5 = await a.call('account.fund', participant_id=Y.pid, amount=5, request_id='g-1')
    await ctx.adv(DAY - 1)
    f6 = await a.call('account.fund', participant_id=Y.pid, amount=5, request_id='g-1')
    accY = await Y.call('account.get')
    check('within 24 h (24h-1ms) still kept', f5 == f6, (f5, f6))
    await ctx.adv(1)
    f7 = await a.call('account.fund', participant_id=Y.pid, amount=5, request_id='g-1')
    accY2 = await Y.call('account.get')
    print('at exactly 24h:', accY2['cash_available'] - accY['cash_available'])
run('r14', sc)
