# PROTOCOL "Authentication" / "Edges": "Nonces are remembered for 5 minutes of the server's real clock" -- so moving
# ENGINE time a day forward does not free a nonce; ts is checked against wall "whatever engine time is". DOMAIN rule 1
# "The starting price is public and is the reserve" (round 1 of a default disposal). Rule 3 "Deposit ... held before the
# bidder may bid": auction.register with exactly the deposit available, and one fen short (INSUFFICIENT_FUNDS, nothing
# held). PROTOCOL market.create "operator, the asset's owner (licensor)": a market made by the operator has the owner as
# licensor, who issues the units.
from common import *
import hmac, hashlib
async def rs(ws, frame):
    await ws.send(json.dumps(frame))
    return json.loads(await asyncio.wait_for(ws.recv(), 10))
def lg(key, secret, ts, nonce, rid=1):
    sig = hmac.new(secret.encode(), f'{key}\n{ts}\n{nonce}'.encode(), hashlib.sha256).hexdigest()
    return {'id': rid, 'method': 'auth.login', 'params': {'key': key, 'ts': ts, 'nonce': nonce, 'sig': sig}}
async def sc(ctx):
    a = ctx.adm
    # nonce vs engine time
    n = 'nonce-' + os.urandom(6).hex()
    ws = await websockets.connect(ctx.url)
    r = await rs(ws, lg(ADMIN_KEY, ADMIN_SECRET, int(time.time() * 1000), n))
    check('login with a fresh nonce ok', 'result' in r, r)
    await ws.close()
    await ctx.adv(DAY)          # engine time +1 day; the real clock has moved only a moment
    ws = await websockets.connect(ctx.url)
    r = await rs(ws, lg(ADMIN_KEY, ADMIN_SECRET, int(time.time() * 1000), n))
    check('same nonce after time.advance 1 day (engine) -> UNAUTHENTICATED (nonces use the real clock)',
          r.get('error', {}).get('code') == 'UNAUTHENTICATED', r)
    n2 = 'nonce-' + os.urandom(6).hex()
    r = await rs(ws, lg(ADMIN_KEY, ADMIN_SECRET, int(time.time() * 1000), n2, rid=2))
    check('fresh nonce with real ts after the engine jumped a day -> ok', 'result' in r, r)
    # uppercase hex signature (the contract says lowercase hex) -- informational
    ws2 = await websockets.connect(ctx.url)
    n3 = 'nonce-' + os.urandom(6).hex(); ts = int(time.time() * 1000)
    f = lg(ADMIN_KEY, ADMIN_SECRET, ts, n3); f['params']['sig'] = f['params']['sig'].upper()
    r = await rs(ws2, f)
    print('  info: uppercase-hex sig ->', r.get('error', {}).get('code', 'OK'))
    await ws.close(); await ws2.close()
    # rule 1: the start is the reserve
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    _, cid, aid = await new_case(ctx, bank, own, 10_000_000)
    g = await a.call('auction.get', auction_id=aid)
    check('disposal round 1: reserve is the start (or not separately set)', g.get('reserve') in (None, g['start_price']), g)
    # rule 3: deposit exactly available / one fen short
    dep = g['deposit']
    X = await ctx.mk('individual', fund=dep); Y = await ctx.mk('individual', fund=dep - 1)
    e = await X.errm('auction.register', auction_id=aid)
    acc = await X.call('account.get')
    check('register with exactly the deposit available -> ok, all of it held', e[0] == 'OK' and acc['cash_available'] == 0 and acc['cash_held'] == dep, (e, acc))
    e = await Y.errm('auction.register', auction_id=aid)
    acc = await Y.call('account.get')
    check('register one fen short of the deposit -> INSUFFICIENT_FUNDS, nothing held', e[0] == 'INSUFFICIENT_FUNDS' and acc['cash_held'] == 0
          and acc['cash_available'] == dep - 1, (e, acc))
    await ctx.adv_to(g['opens_at'])
    e = await Y.errm('auction.bid', auction_id=aid, amount=g['start_price'])
    check('the refused registrant may not bid (NOT_QUALIFIED)', e[0] == 'NOT_QUALIFIED', e)
    e = await X.errm('auction.bid', auction_id=aid, amount=g['start_price'])
    check('the registered bidder with its deposit held may bid', e[0] == 'OK', e)
    # market.create by the operator: the owner is the licensor
    op = await ctx.mk('operator')
    asset = await new_asset(ctx, own)
    e = await op.errm('market.create', market_id='OPM', asset_id=asset, licence=LIC, tick=10, min_qty=1)
    check('operator market.create on an owner\'s asset -> ok', e[0] == 'OK', e)
    e = await own.errm('units.issue', market_id='OPM', qty=50)
    check('the asset owner (licensor) issues units on the operator-made market', e[0] == 'OK', e)
    u = mp(await own.call('account.get'), 'OPM')
    check('owner position 50 units, none held', u == (50, 0), u)
    Z = await ctx.mk('individual', fund=1_000_000)
    e = await Z.errm('units.issue', market_id='OPM', qty=5)
    check('another trader units.issue on that market -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
run('w06', sc)
