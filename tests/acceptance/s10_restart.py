# Durability of the order book: replies come after effects are durable, so after a kill -9 and restart on the same
# database, balances, holds, positions, resting orders (book snapshot), client_order_id uniqueness and GTD expiry survive
from common import *
import signal
async def phase1(url, st):
    ctx = Ctx(url); await ctx.admin()
    P = await ctx.mk('enterprise', fund=1_000_000); X = await ctx.mk('individual', fund=1_000_000)
    st['P'] = (P.key, P.secret, P.pid); st['X'] = (X.key, X.secret, X.pid)
    asset = await new_asset(ctx, P)
    await P.call('market.create', market_id='R', asset_id=asset, licence=LIC, tick=100, min_qty=10, taker_fee_bp=10)
    await P.call('units.issue', market_id='R', qty=500)
    await P.call('order.place', market_id='R', side='sell', type='limit', price=1000, qty=100, tif='gtc', client_order_id='ps1')
    await X.call('order.place', market_id='R', side='buy', type='limit', price=1000, qty=30, tif='gtc', client_order_id='xb1')
    await X.call('order.place', market_id='R', side='buy', type='limit', price=800, qty=20, tif='gtc', client_order_id='xb2')
    now = await ctx.now()
    await X.call('order.place', market_id='R', side='buy', type='limit', price=700, qty=10, tif='gtd', expire_at=now + HOUR, client_order_id='xg')
    await X.call('subscribe', channels=['book.R']); p = await X.drain(0.3)
    st['book'] = p[0]['data']; st['seq'] = p[0]['seq']
    st['accP'] = await P.call('account.get'); st['accX'] = await X.call('account.get'); st['now'] = await ctx.now()
    for c in ctx.clients:
        try: await c.close()
        except Exception: pass
async def phase2(url, st):
    ctx = Ctx(url); await ctx.admin()
    P = await Client.connect(url); await P.login(*st['P'][:2]); X = await Client.connect(url); await X.login(*st['X'][:2]); ctx.clients += [P, X]
    n = await ctx.now()
    check('engine time not behind the pre-crash time', n >= st['now'], (n, st['now']))
    aP = await P.call('account.get'); aX = await X.call('account.get')
    check('accounts survive kill -9 (P)', aP == st['accP'], (aP, st['accP']))
    check('accounts survive kill -9 (X)', aX == st['accX'], (aX, st['accX']))
    await X.call('subscribe', channels=['book.R']); p = await X.drain(0.3)
    check('book survives kill -9', p and p[0]['data'] == st['book'], (p[0]['data'] if p else None, st['book']))
    print('  info: book seq before/after restart', st['seq'], p[0]['seq'] if p else None)
    e = await X.errm('order.place', market_id='R', side='buy', type='limit', price=100, qty=10, tif='gtc', client_order_id='xb2')
    check('client_order_id still taken after restart', e[0] == 'DUPLICATE', e)
    r = await P.call('order.place', market_id='R', side='sell', type='limit', price=800, qty=20, tif='gtc', client_order_id='ps2')
    check('resting buy still matches after restart', r['filled_qty'] == 20 and r['fills'][0]['price'] == 800, r)
    await ctx.adv_to(st['now'] + HOUR)
    e = await X.errm('order.cancel', market_id='R', client_order_id='xg')
    check('GTD timer survives restart (expired at expire_at)', e[0] == 'INVALID_STATE', e)
    aX = await X.call('account.get')
    check('holds consistent after expiry: none left', aX['cash_held'] == 0, aX)
    for c in ctx.clients:
        try: await c.close()
        except Exception: pass
def main():
    os.makedirs(LOGS, exist_ok=True)
    srv = Server('s10', T0); st = {}
    try:
        asyncio.run(phase1(srv.url, st))
        srv.proc.send_signal(signal.SIGKILL); srv.proc.wait()
        srv._start('s10b', T0, ())
        asyncio.run(phase2(srv.url, st))
    except Exception as e:
        import traceback; traceback.print_exc(); RESULTS.append(('scenario raised', False, repr(e)))
    finally:
        srv.stop()
    fails = [r for r in RESULTS if not r[1]]
    print('FAIL' if fails else 'PASS'); sys.exit(1 if fails else 0)
main()
