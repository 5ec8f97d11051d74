# Inputs that an outside client can send and that kill ipxd later, when a timer or a derived amount overflows int64
# (a seventh audit, from PROTOCOL.md / DOMAIN.md only). Each probe runs on its own fresh server, since a crash ends it:
#  A. auction.create start 10^15 fen with buyer_premium_bp 10000 (both accepted), one bid at the start; at closes_at
#     the premium (price x bp = 10^19) passes INT64_MAX in between. Then a restart on the same database: does the
#     server come back, and can the clock move past that close?
#  C. disposal.open with valuation 2^62 fen (valuation x 7000 passes INT64_MAX).
#  D. disposal.open with plan notice_ms 2^62 and bidding_ms 2^62 (their sum passes INT64_MAX).
# Contract: "Bad input gets a clear, stable error code and changes nothing"; "/healthz answers 200 while the process
# runs"; error codes are the listed ones ("INTERNAL" at worst) - a request or a timer must never end the process.
from common import *
import lib, signal
MAX = 2**63 - 1

async def probe_A(url, st):
    ctx = Ctx(url); await ctx.admin()
    try:
        own = await ctx.mk('enterprise'); X = await ctx.mk('individual', fund=3 * 10**15); Y = await ctx.mk('individual', fund=200_000)
        _, A = await new_auction(ctx, own, start=10**15, inc=100, dep=1000, buyer_premium_bp=10000)
        st['A'] = A
        await X.call('auction.register', auction_id=A); await Y.call('auction.register', auction_id=A)
        # a bid far past the start from a bidder holding only the deposit (10^17): noted only
        e = await Y.errm('auction.bid', auction_id=A, amount=10**17)
        print('  info: bid 10^17 (on the grid) with only the deposit ->', e)
        e = await X.errm('auction.bid', auction_id=A, amount=10**15)
        st['bid'] = e[0]
        print('  info: bid 10^15 ->', e[0])
        if e[0] != 'OK':
            return
        try:
            await ctx.adv(DAY); st['adv'] = 'OK'
            g = await ctx.adm.call('auction.get', auction_id=A)
            st['g'] = g
        except Exception as ex:
            st['adv'] = repr(ex)
    finally:
        for c in ctx.clients:
            try: await c.close()
            except Exception: pass

async def after_restart(url, st):
    ctx = Ctx(url); await ctx.admin()
    try:
        g = await ctx.adm.call('auction.get', auction_id=st['A'])
        print('  info: after restart the auction is', g['state'], 'closes_at', g['closes_at'])
        try:
            await ctx.adv(DAY); st['adv2'] = 'OK'
        except Exception as ex:
            st['adv2'] = repr(ex)
    finally:
        for c in ctx.clients:
            try: await c.close()
            except Exception: pass

async def probe_simple(url, kind, st):
    ctx = Ctx(url); await ctx.admin()
    try:
        own = await ctx.mk('enterprise'); bank = await ctx.mk('bank')
        if kind == 'B':
            X = await ctx.mk('individual', fund=3 * 10**15)
            _, A = await new_auction(ctx, own, start=10**15, inc=100, dep=1000, buyer_premium_bp=10000)
            await X.call('auction.register', auction_id=A); await X.call('auction.bid', auction_id=A, amount=10**15)
            await ctx.adv(DAY)
            g = await ctx.adm.call('auction.get', auction_id=A)
            s = await X.call('settlement.get', settlement_id=g['settlement_id'])
            st['res'] = ('OK', s['buyer_premium'])
        else:
            A = await new_asset(ctx, own)
            await bank.call('pledge.register', asset_id=A, pledgee=bank.pid, loan_outstanding=1_000_000, registration_no='R1')
            p = dict(assets=[A], pledgee=bank.pid, pledgor=own.pid)
            if kind == 'C': p['valuation'] = 2**62
            else: p.update(valuation=10_000_000, plan={'notice_ms': 2**62, 'bidding_ms': 2**62})
            e = await bank.errm('disposal.open', **p)
            st['res'] = e[:1] + ((e[1],) if e[0] != 'OK' else ())
    except Exception as ex:
        st['res'] = ('raised', repr(ex))
    finally:
        for c in ctx.clients:
            try: await c.close()
            except Exception: pass

def last_line(srv):
    try: return open(srv.log_path).read().strip().splitlines()[-1][:200]
    except Exception: return ''

def main():
    os.makedirs(LOGS, exist_ok=True)
    # --- A, with a restart on the same database
    srv = Server('x05a', T0); st = {}
    try:
        asyncio.run(probe_A(srv.url, st))
        if st.get('bid') == 'OK':
            alive = srv.proc.poll() is None
            check('A: auction price 10^15, buyer_premium_bp 10000 (both accepted), one bid: the close does not end the process',
                  alive and st.get('adv') == 'OK', (st.get('adv'), srv.proc.poll(), last_line(srv)))
            if alive and 'g' in st:
                print('  info: A closed as', st['g']['state'], st['g'].get('price'))
            if not alive:
                srv._start('x05a2', T0, ())
                asyncio.run(after_restart(srv.url, st))
                check('A: after a restart on the same database the clock moves past that close without a crash',
                      st.get('adv2') == 'OK' and srv.proc.poll() is None, (st.get('adv2'), srv.proc.poll(), last_line(srv)))
        else:
            check('A: setup bid at the start accepted', False, st)
    except Exception as e:
        import traceback; traceback.print_exc(); RESULTS.append(('A raised', False, repr(e)))
    finally:
        srv.stop()
    # --- B, C, D: each on a fresh server
    for kind, tag in (('C', 'C: disposal.open valuation 2^62 -> an answer (BAD_REQUEST or a case), the process alive'),
                      ('D', 'D: disposal.open plan notice_ms 2^62 + bidding_ms 2^62 -> an answer (BAD_REQUEST or a case), the process alive')):
        srv = Server(f'x05{kind.lower()}', T0); st = {}
        try:
            asyncio.run(probe_simple(srv.url, kind, st))
            res = st.get('res', ('none',))
            ok = srv.proc.poll() is None and res[0] in ('OK', 'BAD_REQUEST')
            if kind == 'B' and res[0] == 'OK': ok = ok and res[1] in (10**15,)
            check(tag, ok, (res, srv.proc.poll(), last_line(srv)))
            print(f'  info: {kind} ->', res)
        except Exception as e:
            import traceback; traceback.print_exc(); RESULTS.append((f'{kind} raised', False, repr(e)))
        finally:
            srv.stop()
    fails = [r for r in RESULTS if not r[1]]
    print('FAIL' if fails else 'PASS'); sys.exit(1 if fails else 0)
if not PG_BASE or not BIN:
    print('acceptance: set IPX_PG and IPX_IPXD (run_all.py does)', file=sys.stderr); sys.exit(2)
main()
