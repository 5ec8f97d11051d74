# A technology manager's day (kind enterprise, role trader), method by method, in exact fen and units:
# login kinds/roles; account.fund; asset.register of its own assets (co_owners echoed; another owner's asset refused);
# asset.get as each role sees it (owner, operator; other trader, bank without a pledge: NOT_FOUND); market.create
# and units.issue (who may, bounds); orders across two markets with account.get (cash_available, cash_held,
# positions units / units_held) checked after EVERY step against numbers computed from PROTOCOL "Orders"; each
# participant's private channel: after every step the latest `balance` push equals account.get (docs/protocol.md
# "private — snapshot data = account.get's result; balance (the account)"), seq gap-free; reads of others'
# accounts and orders -> NOT_FOUND (PROTOCOL "Edges and precedence").
from common import *

def norm(acc):
    ps = {}
    for p in acc.get('positions', []):
        if p.get('units', 0) == 0: continue  # "A position with zero units may be omitted"
        if 'market_id' in p: ps['M:' + p['market_id']] = (p['units'], p.get('units_held'))
        else: ps['A:' + p['asset_id']] = (p['units'],)
    return (acc.get('participant_id'), acc.get('cash_available'), acc.get('cash_held'), ps)

class Watch:
    """expected account per client; after each step: account.get == expected, latest balance push == account.get"""
    def __init__(self, ctx, clients):
        self.ctx, self.cl, self.exp, self.all = ctx, clients, {}, {c.pid: [] for c in clients}
    def set(self, c, avail, held, **pos):
        self.exp[c.pid] = (c.pid, avail, held, dict(pos))
    async def step(self, label):
        await asyncio.sleep(0.15)
        for c in self.cl:
            acc = await c.call('account.get')
            got = norm(acc)
            e = self.exp.get(c.pid)
            if e is not None:
                check(f'{label}: {c.name} account = {e[1:]}', got == e, got)
            new = await c.drain(0)
            self.all[c.pid] += new
            bal = [p for p in new if p['channel'] == 'private' and p['type'] in ('balance', 'snapshot')]
            changed = getattr(c, 'last_acc', None) != got
            if changed or bal:
                check(f'{label}: {c.name} latest private balance push = account.get', bal and norm(bal[-1]['data']) == got,
                      (bal[-1]['data'] if bal else 'no balance push', acc))
            c.last_acc = got

def P(**k): return {(kk[0] + ':' + kk[2:].replace('_', '-')): v for kk, v in k.items()}

async def sc(ctx):
    a = ctx.adm
    # --- participants and logins
    r = await a.call('participant.create', name='Chengdu Tech Transfer Co', kind='enterprise', region='chengdu', whitelisted=True)
    check('participant.create -> participant_id, api_key, api_secret', all(isinstance(r.get(k), str) and r[k] for k in ('participant_id', 'api_key', 'api_secret')), r)
    T = await Client.connect(ctx.url); ctx.clients.append(T)
    li = await T.login(r['api_key'], r['api_secret']); T.pid = r['participant_id']
    check('enterprise login: kind enterprise, roles [trader]', li.get('participant_id') == T.pid and li.get('kind') == 'enterprise' and li.get('roles') == ['trader'], li)
    X = await ctx.mk('individual'); Y = await ctx.mk('individual'); B = await ctx.mk('bank'); O = await ctx.mk('operator')
    T.name, X.name, Y.name = 'T', 'X', 'Y'
    for c in (T, X, Y): await c.call('subscribe', channels=['private'])
    await asyncio.sleep(0.2)
    for c in (T, X, Y):
        s = [p for p in c.pushes if p['type'] == 'snapshot']
        check(f'{c.name} private snapshot = empty account', s and norm(s[0]['data']) == (c.pid, 0, 0, {}), s)
        c.pushes.clear(); c.last_acc = (c.pid, 0, 0, {})
    W = Watch(ctx, [T, X, Y])
    f = await a.call('account.fund', participant_id=X.pid, amount=1_000_000)
    check('account.fund returns the account (1,000,000 available)', norm(f) == (X.pid, 1_000_000, 0, {}), f)
    await a.call('account.fund', participant_id=Y.pid, amount=300_000)
    await a.call('account.fund', participant_id=Y.pid, amount=200_000)
    W.set(T, 0, 0); W.set(X, 1_000_000, 0); W.set(Y, 500_000, 0)
    await W.step('funded')

    # --- assets: a trader registers its own
    exp_at = T0 + 3000 * DAY
    A1 = await T.call('asset.register', asset_id='CN-A1', kind='invention_patent', title='Sensor array', owner=T.pid, region='chengdu',
                      industry='electronic_information', valuation=8_000_000, expires_at=exp_at, co_owners=[X.pid])
    check('asset.register by trader for itself: the asset (owner, valuation, expires_at, co_owners)',
          (A1.get('asset_id'), A1.get('owner'), A1.get('valuation'), A1.get('expires_at'), A1.get('co_owners')) == ('CN-A1', T.pid, 8_000_000, exp_at, [X.pid]), A1)
    await T.call('asset.register', asset_id='CN-A2', kind='software_copyright', title='Control firmware', owner=T.pid, region='deyang',
                 industry='equipment_manufacturing', valuation=2_000_000, expires_at=exp_at)
    e = await T.errm('asset.register', asset_id='CN-X1', kind='trademark', title='x', owner=X.pid, region='chengdu', industry='other',
                     valuation=1_000, expires_at=exp_at)
    check("trader registering an asset owned by another -> FORBIDDEN (docs asset.register)", e[0] == 'FORBIDDEN', e)
    e = await T.errm('asset.register', asset_id='CN-A1', kind='trademark', title='x', owner=T.pid, region='chengdu', industry='other',
                     valuation=1_000, expires_at=exp_at)
    check('asset_id already registered -> DUPLICATE', e[0] == 'DUPLICATE', e)
    e = await T.errm('asset.register', asset_id='CN-A9', kind='trademark', title='x', owner=T.pid, region='chengdu', industry='other',
                     valuation=0, expires_at=exp_at)
    check('valuation 0 -> BAD_REQUEST naming valuation', e[0] == 'BAD_REQUEST' and 'valuation' in str(e[1]), e)
    W.set(T, 0, 0, **P(A_CN_A1=(1,), A_CN_A2=(1,)))
    await W.step('assets registered')
    # who sees the asset
    for who, c in (('owner', T), ('operator', O), ('admin', a)):
        e = await c.errm('asset.get', asset_id='CN-A1')
        check(f'asset.get by {who}: the asset', e[0] == 'OK' and e[1].get('owner') == T.pid and e[1].get('valuation') == 8_000_000 and e[1].get('pledges', []) == [], e)
    for who, c in (('another trader', Y), ('a bank without a pledge', B)):
        e = await c.errm('asset.get', asset_id='CN-A1')
        check(f'asset.get by {who} -> NOT_FOUND (docs asset.get)', e[0] == 'NOT_FOUND', e)
    e = await T.errm('asset.get', asset_id='NO-SUCH')
    check('asset.get unknown -> NOT_FOUND', e[0] == 'NOT_FOUND', e)

    # --- markets and units
    LIC1 = dict(LIC, term_months=24)
    m1 = await T.call('market.create', market_id='M1', asset_id='CN-A1', licence=LIC1, tick=100, min_qty=10)
    check('market.create by the owner: licensor T, tick 100, lot 10, fees 0',
          (m1.get('market_id'), m1.get('asset_id'), m1.get('tick'), m1.get('min_qty'), m1.get('maker_fee_bp', 0), m1.get('taker_fee_bp', 0)) == ('M1', 'CN-A1', 100, 10, 0, 0)
          and m1.get('licensor', T.pid) == T.pid, m1)
    await T.call('market.create', market_id='M2', asset_id='CN-A2', licence=LIC, tick=50, min_qty=5)
    e = await Y.errm('market.create', market_id='M3', asset_id='CN-A1', licence=LIC, tick=100, min_qty=10)
    check("market.create by another trader on T's asset -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await B.errm('market.create', market_id='M3', asset_id='CN-A1', licence=LIC, tick=100, min_qty=10)
    check('market.create by a bank -> FORBIDDEN', e[0] == 'FORBIDDEN', e)
    r = await T.call('units.issue', market_id='M1', qty=1000)
    check('units.issue M1 1000 -> the position {market_id, units 1000, units_held 0}', (r.get('market_id'), r.get('units'), r.get('units_held')) == ('M1', 1000, 0), r)
    r = await T.call('units.issue', market_id='M2', qty=120)
    r = await T.call('units.issue', market_id='M2', qty=80)
    check('units.issue accumulates: M2 200', r.get('units') == 200, r)
    for q in (0, -5, 1.5):
        e = await T.errm('units.issue', market_id='M1', qty=q)
        check(f'units.issue qty {q} -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    for who, c, exp in (('another trader', X, 'NOT_FOUND'), ('the operator', O, 'FORBIDDEN'), ('a bank', B, 'FORBIDDEN')):
        e = await c.errm('units.issue', market_id='M1', qty=10)
        check(f'units.issue by {who} -> {exp}', e[0] == exp, e)
    e = await T.errm('units.issue', market_id='NOPE', qty=10)
    check('units.issue unknown market -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    W.set(T, 0, 0, **P(A_CN_A1=(1,), A_CN_A2=(1,), M_M1=(1000, 0), M_M2=(200, 0)))
    await W.step('units issued')

    # --- T offers units on both markets
    o = lambda **k: dict(dict(type='limit', tif='gtc'), **k)
    s1 = await T.call('order.place', **o(market_id='M1', side='sell', price=1_000, qty=100, client_order_id='s1'))
    check('sell s1 rests open', (s1['status'], s1['filled_qty'], s1['leaves_qty']) == ('open', 0, 100), s1)
    await T.call('order.place', **o(market_id='M1', side='sell', price=1_200, qty=100, client_order_id='s2'))
    await T.call('order.place', **o(market_id='M2', side='sell', price=500, qty=50, client_order_id='s3'))
    e = await T.errm('order.place', **o(market_id='M2', side='sell', price=500, qty=151, client_order_id='s4'))
    check('sell qty 151 on lot 5 -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    e = await T.errm('order.place', **o(market_id='M2', side='sell', price=500, qty=155, client_order_id='s4'))
    check('sell 155 with 150 units free (200 - 50 held) -> INSUFFICIENT_FUNDS', e[0] == 'INSUFFICIENT_FUNDS', e)
    e = await T.errm('order.place', **o(market_id='M1', side='sell', price=1_050, qty=10, client_order_id='s4'))
    check('price 1,050 off the 100 tick -> BAD_PRICE', e[0] == 'BAD_PRICE', e)
    W.set(T, 0, 0, **P(A_CN_A1=(1,), A_CN_A2=(1,), M_M1=(1000, 200), M_M2=(200, 50)))
    await W.step('T offers')

    # X buys 150 @ 1,100 on M1: 100 @ 1,000 fill, 50 rest holding 55,000
    x1 = await X.call('order.place', **o(market_id='M1', side='buy', price=1_100, qty=150, client_order_id='x1'))
    check('x1: partially_filled, filled 100 @ 1,000, leaves 50',
          (x1['status'], x1['filled_qty'], x1['leaves_qty'], [(f['price'], f['qty']) for f in x1['fills']]) == ('partially_filled', 100, 50, [(1_000, 100)]), x1)
    W.set(X, 845_000, 55_000, **P(M_M1=(100, 0)))
    W.set(T, 100_000, 0, **P(A_CN_A1=(1,), A_CN_A2=(1,), M_M1=(900, 100), M_M2=(200, 50)))
    await W.step('x1 buy 150 @ 1,100')
    # X buys 20 @ 600 on M2: fills at 500, the 2,000 difference returned at once
    x2 = await X.call('order.place', **o(market_id='M2', side='buy', price=600, qty=20, client_order_id='x2'))
    check('x2: filled 20 @ 500', (x2['status'], x2['leaves_qty'], [(f['price'], f['qty']) for f in x2['fills']]) == ('filled', 0, [(500, 20)]), x2)
    W.set(X, 835_000, 55_000, **P(M_M1=(100, 0), M_M2=(20, 0)))
    W.set(T, 110_000, 0, **P(A_CN_A1=(1,), A_CN_A2=(1,), M_M1=(900, 100), M_M2=(180, 30)))
    await W.step('x2 buy 20 @ 600 on M2')
    # Y market buy IOC 120 on M1: takes 100 @ 1,200, rest cancelled
    y1 = await Y.call('order.place', market_id='M1', side='buy', type='market', qty=120, tif='ioc', client_order_id='y1')
    check('y1 market ioc 120: 100 @ 1,200, status cancelled, leaves 0',
          (y1['status'], y1['filled_qty'], y1['leaves_qty'], [(f['price'], f['qty']) for f in y1['fills']]) == ('cancelled', 100, 0, [(1_200, 100)]), y1)
    W.set(Y, 380_000, 0, **P(M_M1=(100, 0)))
    W.set(T, 230_000, 0, **P(A_CN_A1=(1,), A_CN_A2=(1,), M_M1=(800, 0), M_M2=(180, 30)))
    await W.step('y1 market buy')
    # Y tries to touch X's order; reads X's account
    e = await Y.errm('order.cancel', market_id='M1', order_id=x1['order_id'])
    check("Y cancelling X's order -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await Y.errm('account.get', participant_id=X.pid)
    check("Y reading X's account -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await B.errm('account.get', participant_id=T.pid)
    check("bank reading T's account -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    e = await O.errm('account.get', participant_id=X.pid)
    check("operator reads X's account", e[0] == 'OK' and norm(e[1]) == W.exp[X.pid], e)
    # Y sells 30 @ 1,100 into X's resting bid
    y2 = await Y.call('order.place', **o(market_id='M1', side='sell', price=1_100, qty=30, client_order_id='y2'))
    check('y2 sell 30 @ 1,100: filled at 1,100', (y2['status'], [(f['price'], f['qty']) for f in y2['fills']]) == ('filled', [(1_100, 30)]), y2)
    W.set(Y, 413_000, 0, **P(M_M1=(70, 0)))
    W.set(X, 835_000, 22_000, **P(M_M1=(130, 0), M_M2=(20, 0)))
    await W.step('y2 sells into x1')
    # Y market FOK 40 on M2 (only 30 offered): nothing; then FOK 30: filled 15,000
    y3 = await Y.call('order.place', market_id='M2', side='buy', type='market', qty=40, tif='fok', client_order_id='y3')
    check('y3 FOK 40 vs 30 offered: cancelled, nothing filled', (y3['status'], y3['filled_qty'], y3['fills']) == ('cancelled', 0, []), y3)
    await W.step('y3 unfillable FOK')
    y4 = await Y.call('order.place', market_id='M2', side='buy', type='market', qty=30, tif='fok', client_order_id='y4')
    check('y4 FOK 30: filled 30 @ 500', (y4['status'], [(f['price'], f['qty']) for f in y4['fills']]) == ('filled', [(500, 30)]), y4)
    W.set(Y, 398_000, 0, **P(M_M1=(70, 0), M_M2=(30, 0)))
    W.set(T, 245_000, 0, **P(A_CN_A1=(1,), A_CN_A2=(1,), M_M1=(800, 0), M_M2=(150, 0)))
    await W.step('y4 FOK 30')
    # market buy not covered by cash_available
    e = await Y.errm('order.place', market_id='M1', side='buy', type='market', qty=10, tif='ioc', client_order_id='y5')
    check('market buy against an empty ask side: cancelled, nothing filled', e[0] == 'OK' and e[1]['status'] == 'cancelled' and e[1]['filled_qty'] == 0, e)
    await T.call('order.place', **o(market_id='M1', side='sell', price=100_000, qty=10, client_order_id='s5'))
    e = await Y.errm('order.place', market_id='M1', side='buy', type='market', qty=10, tif='ioc', client_order_id='y6')
    check('market buy 10 @ 100,000 = 1,000,000 with 398,000 available -> INSUFFICIENT_FUNDS', e[0] == 'INSUFFICIENT_FUNDS', e)
    e = await Y.errm('order.place', **o(market_id='M1', side='buy', price=100, qty=3990, client_order_id='y7'))
    check('limit buy 3,990 @ 100 = 399,000 with 398,000 available -> INSUFFICIENT_FUNDS', e[0] == 'INSUFFICIENT_FUNDS', e)
    W.set(T, 245_000, 0, **P(A_CN_A1=(1,), A_CN_A2=(1,), M_M1=(800, 10), M_M2=(150, 0)))
    await W.step('refused buys')
    # X cancels what is left of x1: 20 @ 1,100 released
    c = await X.call('order.cancel', market_id='M1', client_order_id='x1')
    check('cancel x1: cancelled, filled 130, leaves 0, fills so far',
          (c['status'], c['filled_qty'], c['leaves_qty'], sorted((f['price'], f['qty']) for f in c['fills'])) == ('cancelled', 130, 0, [(1_000, 100), (1_100, 30)]), c)
    e = await X.errm('order.cancel', market_id='M1', client_order_id='x1')
    check('cancelling it again -> INVALID_STATE', e[0] == 'INVALID_STATE', e)
    await T.call('order.cancel', market_id='M1', client_order_id='s5')
    W.set(X, 857_000, 0, **P(M_M1=(130, 0), M_M2=(20, 0)))
    W.set(T, 245_000, 0, **P(A_CN_A1=(1,), A_CN_A2=(1,), M_M1=(800, 0), M_M2=(150, 0)))
    await W.step('cancels')
    tot = sum(W.exp[c.pid][1] + W.exp[c.pid][2] for c in (T, X, Y))
    check('cash conserved: 1,500,000 funded = T + X + Y', tot == 1_500_000, tot)
    for c in (T, X, Y):
        s = [p['seq'] for p in W.all[c.pid] if p['channel'] == 'private']
        check(f'{c.name} private seq gap-free', s == list(range(s[0], s[0] + len(s))) if s else True, s)
run('k01', sc)
