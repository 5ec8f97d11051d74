# Sums and products near 2^63 in the ledger and the order book (a seventh audit, from PROTOCOL.md only).
# "Money: integer fen"; "a limit buy needs price x qty available"; "a market buy must be covered by cash_available at
# the prices it would take"; "Trades settle at once (cash and units together)"; "A rejected request changes nothing".
# Every probe: either refused with a documented, non-INTERNAL code and nothing moved, or accepted with exactly the
# arithmetic result (no wrap-around, no negative balance, cash and units conserved).
from common import *
import lib
SRV = []
class _S(lib.Server):
    def __init__(self, *a, **k): SRV.append(self); super().__init__(*a, **k)
lib.Server = _S
MAX = 2**63 - 1
REFUSALS = ('BAD_REQUEST', 'INSUFFICIENT_FUNDS', 'INVALID_STATE', 'TOO_LARGE')

async def sc(ctx):
    a = ctx.adm; srv = SRV[0]; pid0 = srv.proc.pid
    async def acct(c): return await a.call('account.get', participant_id=c.pid)
    def alive(): return srv.proc.poll() is None and srv.proc.pid == pid0
    # --- 2. units: issue INT64_MAX, then more
    P = await ctx.mk('enterprise', fund=1_000_000)
    asset = await new_asset(ctx, P)
    await P.call('market.create', market_id='M', asset_id=asset, licence=LIC, tick=1, min_qty=1)
    e = await P.errm('units.issue', market_id='M', qty=MAX)
    print('  info: units.issue INT64_MAX ->', e[0])
    p0 = await acct(P)
    if e[0] == 'OK':
        e = await P.errm('units.issue', market_id='M', qty=1)
        check('units.issue 1 on top of INT64_MAX -> refused, position unchanged', e[0] in REFUSALS and await acct(P) == p0, (e, await acct(P)))
    else:
        await P.call('units.issue', market_id='M', qty=1_000_000)
        p0 = await acct(P)
    # --- 3. price x qty that wraps: 6148914691236517206 x 3 = 2^64 + 2 (wraps to 2 fen)
    B = await ctx.mk('individual', fund=1_000_000)
    b0 = await acct(B)
    for price, qty in ((6148914691236517206, 3), (2**62, 4), (MAX, 2), (2**32, 2**32), (3074457345618258603, 3)):
        e = await B.errm('order.place', market_id='M', side='buy', type='limit', price=price, qty=qty, tif='gtc', client_order_id=f'w{price % 997}-{qty}')
        b1 = await acct(B)
        check(f'limit buy {price} x {qty} (product past INT64_MAX) with 1,000,000 fen -> refused, nothing held',
              e[0] in REFUSALS and b1 == b0, (e, b1))
        if e[0] == 'OK':
            try: await B.call('order.cancel', market_id='M', client_order_id=f'w{price % 997}-{qty}')
            except Err: pass
    check('server alive after wrapping limit buys', alive())
    # resting asks at a huge price; a market buy whose cost wraps must not be covered
    e = await P.errm('order.place', market_id='M', side='sell', type='limit', price=6148914691236517206, qty=3, tif='gtc', client_order_id='big-ask')
    check('sell 3 @ 6148914691236517206 (notional past INT64_MAX): rests or refused with BAD_REQUEST', e[0] == 'BAD_REQUEST' or e[0] == 'OK' and e[1]['status'] == 'open', e)
    print('  info: sell 3 @ 6148914691236517206 ->', e)
    if e[0] != 'OK':   # three separate asks of 1, each notional fits
        for i in range(3):
            e1 = await P.errm('order.place', market_id='M', side='sell', type='limit', price=6148914691236517206, qty=1, tif='gtc', client_order_id=f'big-ask{i}')
            # a server that bounds prices refuses each ask alone too, naming the field
            check(f'sell 1 @ 6148914691236517206: rests, or BAD_REQUEST naming price', e1[0] == 'OK' or (e1[0] == 'BAD_REQUEST' and 'price' in e1[1]), e1)
    b0, p0 = await acct(B), await acct(P)
    e = await B.errm('order.place', market_id='M', side='buy', type='market', qty=3, tif='ioc', client_order_id='mkt-1')
    b1, p1 = await acct(B), await acct(P)
    check('market buy 3 against asks at 6148914691236517206 with 1,000,000 fen: refused or nothing filled',
          (e[0] in REFUSALS or (e[0] == 'OK' and e[1]['filled_qty'] == 0)) and b1 == b0 and p1 == p0, (e, b1, p1))
    e = await B.errm('order.place', market_id='M', side='buy', type='market', qty=3, tif='fok', client_order_id='mkt-2')
    b1, p1 = await acct(B), await acct(P)
    check('market FOK buy 3 (cost wraps to 2 fen): refused or nothing filled, nothing moved',
          (e[0] in REFUSALS or (e[0] == 'OK' and e[1]['filled_qty'] == 0)) and b1 == b0 and p1 == p0, (e, b1, p1))
    e = await B.errm('order.place', market_id='M', side='buy', type='limit', price=6148914691236517206, qty=3, tif='ioc', client_order_id='lim-ioc')
    b1, p1 = await acct(B), await acct(P)
    check('limit IOC buy 3 @ 6148914691236517206 against that ask: refused, nothing moved',
          e[0] in REFUSALS and b1 == b0 and p1 == p0, (e, b1, p1))
    for coid in ('big-ask', 'big-ask0', 'big-ask1', 'big-ask2'):
        try: await P.call('order.cancel', market_id='M', client_order_id=coid)
        except Err: pass
    # a market buy sweeping several levels whose total passes INT64_MAX while each level alone fits
    Z = await ctx.mk('individual'); await a.call('account.fund', participant_id=Z.pid, amount=2**61)
    placed = []
    z0, p0 = await acct(Z), await acct(P)
    for i, pr in enumerate((2**62, 2**62 + 1, 2**62 + 2)):
        e = await P.errm('order.place', market_id='M', side='sell', type='limit', price=pr, qty=1, tif='gtc', client_order_id=f'lv{i}')
        placed.append(e)
    if all(e[0] == 'BAD_REQUEST' and 'price' in e[1] for e in placed):
        # the server bounds prices (a documented range): such asks never rest, so no sweep can pass INT64_MAX
        check('asks at 2^62.. refused as BAD_REQUEST naming price (a bounded range)', True)
    else:
        z0, p0 = await acct(Z), await acct(P)
        e = await Z.errm('order.place', market_id='M', side='buy', type='market', qty=3, tif='fok', client_order_id='sweep')
        z1, p1 = await acct(Z), await acct(P)
        check('market FOK buy 3 across asks 2^62, 2^62+1, 2^62+2 (total > INT64_MAX) with 2^61 cash: refused or cancelled, nothing moved',
              (e[0] in REFUSALS or (e[0] == 'OK' and e[1]['filled_qty'] == 0)) and z1 == z0 and p1 == p0, (e, z1, p1))
    e = await Z.errm('order.place', market_id='M', side='buy', type='market', qty=3, tif='ioc', client_order_id='sweep-ioc')
    z1, p1 = await acct(Z), await acct(P)
    ok = e[0] in REFUSALS and z1 == z0
    if e[0] == 'OK':
        f = e[1]['fills']; cost = sum(x['price'] * x['qty'] for x in f)
        ok = cost <= MAX and z1['cash_available'] == z0['cash_available'] - cost and z1['cash_available'] >= 0 and \
            p1['cash_available'] == p0['cash_available'] + cost
    check('market IOC buy 3 across those asks: fills only what 2^61 cash covers (nothing), cash exact, never negative', ok, (e, z1, p1))
    check('server alive after sweeps', alive())
    # --- 4. fees on a notional near INT64_MAX: fee = floor(notional x bp / 10000), exact, though notional x bp
    # does not fit in int64. Prices are bounded (10^15 fen), so the notional comes from the quantity.
    PR, QT = 10**15 - 1, 2048  # a notional that 10000 does not divide
    notional = PR * QT
    Q = await ctx.mk('enterprise'); asset2 = await new_asset(ctx, Q)
    await Q.call('market.create', market_id='F', asset_id=asset2, licence=LIC, tick=1, min_qty=1, maker_fee_bp=37, taker_fee_bp=123)
    await Q.call('units.issue', market_id='F', qty=QT)
    fee_t, fee_m = notional * 123 // 10000, notional * 37 // 10000
    TF = notional + fee_t
    T = await ctx.mk('individual'); await a.call('account.fund', participant_id=T.pid, amount=TF)
    await Q.call('order.place', market_id='F', side='sell', type='limit', price=PR, qty=QT, tif='gtc', client_order_id='fa')
    e = await T.errm('order.place', market_id='F', side='buy', type='limit', price=PR, qty=QT, tif='gtc', client_order_id='fb')
    t1, q1 = await acct(T), await acct(Q)
    check(f'buy {QT} @ 10^15-1 with a 1.23% taker fee: filled, buyer pays notional + fee {fee_t} exactly',
          e[0] == 'OK' and e[1]['filled_qty'] == QT and t1['cash_available'] == 0 and t1['cash_held'] == 0, (e[0], t1))
    check(f'seller receives notional - 0.37% maker fee {fee_m} exactly', q1['cash_available'] == notional - fee_m, (q1, notional - fee_m))
    # a 100% taker fee on a notional past INT64_MAX / 10000
    R = await ctx.mk('enterprise'); asset3 = await new_asset(ctx, R)
    await R.call('market.create', market_id='G', asset_id=asset3, licence=LIC, tick=1, min_qty=1, maker_fee_bp=0, taker_fee_bp=10000)
    QG = 1000
    await R.call('units.issue', market_id='G', qty=QG)
    await R.call('order.place', market_id='G', side='sell', type='limit', price=PR, qty=QG, tif='gtc', client_order_id='ga')
    U = await ctx.mk('individual'); await a.call('account.fund', participant_id=U.pid, amount=2 * PR * QG)
    e = await U.errm('order.place', market_id='G', side='buy', type='limit', price=PR, qty=QG, tif='gtc', client_order_id='gb')
    u1, r1 = await acct(U), await acct(R)
    check('buy 1000 @ 10^15-1 with a 100% taker fee: buyer pays twice the notional, exactly', e[0] == 'OK' and u1['cash_available'] + u1['cash_held'] == 0, (e[0], u1))
    check('seller receives the notional', r1['cash_available'] == PR * QG, r1)
    check('process alive, never restarted', alive())
    # --- 5. funding to INT64_MAX and past it
    srv2 = lib.Server('x03b')
    try:
        ctx2 = Ctx(srv2.url); a = await ctx2.admin(); ctx2.clients.append(a)
        await funding(ctx2, a)
    finally:
        for c in ctx2.clients:
            try: await c.close()
            except Exception: pass
        srv2.stop()
async def funding(ctx, a):
    async def acct(c): return await a.call('account.get', participant_id=c.pid)
    Y = await ctx.mk('individual')
    r1 = await a.errm('account.fund', participant_id=Y.pid, amount=2**62)
    r2 = await a.errm('account.fund', participant_id=Y.pid, amount=2**62 - 1)
    y0 = await acct(Y)
    check('fund 2^62 then 2^62-1 -> INT64_MAX exactly', (r1[0], r2[0]) == ('OK', 'OK') and y0['cash_available'] == MAX, (r1, r2, y0))
    for amt in (1, 2**62, MAX):
        e = await a.errm('account.fund', participant_id=Y.pid, amount=amt)
        y1 = await acct(Y)
        check(f'fund {amt} on top of INT64_MAX -> refused with a documented code, balance unchanged', e[0] in REFUSALS and y1 == y0, (e, y1))
    e = await a.errm('account.fund', participant_id=Y.pid, amount=MAX, request_id='ovf-1')
    e2 = await a.errm('account.fund', participant_id=Y.pid, amount=MAX, request_id='ovf-1')
    check('overflowing fund retried with its request_id -> the same refusal again, balance unchanged',
          e[0] in REFUSALS and e2[0] == e[0] and await acct(Y) == y0, (e, e2))
    # another participant's account is nowhere near overflow: funding it is an ordinary request
    W = await ctx.mk('individual')
    e = await a.errm('account.fund', participant_id=W.pid, amount=1_000_000)
    # Double entry: the server's world account carries every fen funded, so its total is bounded too; a
    # BAD_REQUEST that says so is a clear, documented refusal (docs/protocol.md, account.fund).
    check("with Y at INT64_MAX, funding another (empty) account W with 1,000,000 -> OK, or BAD_REQUEST naming the exchange's total",
          e[0] == 'OK' or (e[0] == 'BAD_REQUEST' and 'total funding' in e[1]), e)
    print('  info: fund W ->', e)
run('x03', sc)
