# Rate limit (burst 1000, RATE_LIMITED not kept for request_id), invalid UTF-8 close 1007, request_id across connections, proxy bid shape
from common import *
import websockets, struct, os as _os
async def sc(ctx):
    a = ctx.adm
    X = await ctx.mk('individual', fund=10_000_000); own = await ctx.mk('enterprise'); Y = await ctx.mk('individual', fund=10_000_000)
    # same participant, second connection, same request_id -> kept reply
    r1 = await X.call('auction.register', auction_id=(await new_auction(ctx, own))[1], request_id='k1')
    X2 = await Client.connect(ctx.url); await X2.login(X.key, X.secret); ctx.clients.append(X2)
    g = await a.call('auction.get', auction_id='A-1')
    r2 = await X2.call('auction.register', auction_id='A-1', request_id='k1')
    check('request_id kept across connections of one participant', r1 == r2, (r1, r2))
    # proxy
    r = await X.errm('auction.proxy', auction_id='A-1', max_amount=1_050_000)
    check('proxy reply has bid fields', r[0] == 'OK' and {'auction_id', 'amount', 'ts', 'leader', 'closes_at', 'min_next_bid'} <= set(r[1]), r)
    await Y.call('auction.register', auction_id='A-1')
    r = await Y.call('auction.bid', auction_id='A-1', amount=1_010_000)
    g = await a.call('auction.get', auction_id='A-1')
    print('after Y bid vs X proxy:', r, g['price'], g['leader'])
    check('proxy outbids Y automatically', g['price'] == 1_020_000 and g['leader'] == r1['bidder_code'], (g['price'], g['leader'], r1))
    # rate limit: 1000 burst
    C = await Client.connect(ctx.url); await C.login(X.key, X.secret); ctx.clients.append(C)
    N = 3000  # well past the 1,000 burst however slowly this client sends (refill 1,000/s)
    for i in range(N):
        await C.ws.send(json.dumps({'id': 10_000 + i, 'method': 'time.now'}))
    await C.ws.send(json.dumps({'id': 99_999, 'method': 'account.get'}))
    await asyncio.sleep(2.0)
    got = C.unmatched
    codes = [m.get('error', {}).get('code', 'OK') for m in got]
    print('rate test replies', len(got), {c: codes.count(c) for c in set(codes)})
    check('over burst -> RATE_LIMITED for some frames', codes.count('RATE_LIMITED') >= 500 and codes.count('OK') >= 1000, {c: codes.count(c) for c in set(codes)})
    # invalid UTF-8 text frame
    ws = await websockets.connect(ctx.url)
    mask = _os.urandom(4); payload = b'{"id":1,"method":"time.now","x":"\xff\xfe"}'
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    frame = bytes([0x81, 0x80 | len(payload)]) + mask + masked
    ws.transport.write(frame)
    try:
        await asyncio.wait_for(ws.recv(), 5); code = 'no close'
    except websockets.ConnectionClosed as ex:
        code = ex.rcvd.code if ex.rcvd else None
    check('invalid UTF-8 -> close 1007', code == 1007, code)
run('r22', sc)
