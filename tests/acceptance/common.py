import os, sys, json, collections; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import *
_n = [0]
async def new_case(ctx, bank, owner, valuation, region='chengdu', industry='other', plan=None, loan=30_000_000, extra_pledge=None):
    _n[0] += 1; aid = f'PAT-{_n[0]}'
    await ctx.adm.call('asset.register', asset_id=aid, kind='invention_patent', title='t' + aid, owner=owner.pid, region=region,
                       industry=industry, valuation=valuation, expires_at=T0 + 3650 * DAY)
    await bank.call('pledge.register', asset_id=aid, pledgee=bank.pid, loan_outstanding=loan, registration_no='R' + aid, **(extra_pledge or {}))
    p = dict(assets=[aid], pledgee=bank.pid, pledgor=owner.pid, valuation=valuation)
    if plan is not None: p['plan'] = plan
    r = await bank.call('disposal.open', **p)
    return aid, r['case_id'], r['auction_id']
def yuan_floor(fen): return (fen // 100) * 100
def tier_inc(start):
    if start <= 100_000 * 100: bp = 200
    elif start <= 1_000_000 * 100: bp = 100
    else: bp = 50
    return yuan_floor(start * bp // 10000)
def pos(acct, asset):
    for p in acct['positions']:
        if p.get('asset_id') == asset: return p
    return None
_m = [0]
async def new_asset(ctx, owner, valuation=10_000_000, region='chengdu', industry='other', expires_at=None, co_owners=None):
    _m[0] += 1; aid = f'AS-{_m[0]}'
    p = dict(asset_id=aid, kind='invention_patent', title='t' + aid, owner=owner.pid, region=region,
             industry=industry, valuation=valuation, expires_at=expires_at or T0 + 3650 * DAY)
    if co_owners is not None: p['co_owners'] = co_owners
    await ctx.adm.call('asset.register', **p)
    return aid
async def new_auction(ctx, owner, start=1_000_000, inc=10_000, dep=100_000, opens=None, closes=None, fmt='english', by=None, **kw):
    asset = kw.pop('asset', None) or await new_asset(ctx, owner)
    now = await ctx.now()
    p = dict(lot=[asset], purpose=kw.pop('purpose', 'transfer'), format=fmt, start_price=start, increment=inc, deposit=dep,
             opens_at=opens if opens is not None else now, closes_at=closes if closes is not None else now + DAY, **kw)
    r = await (by or ctx.adm).call('auction.create', **p)
    return asset, r['auction_id']

# A non-exclusive licence for unit markets, and a participant's (units, units_held) in market m.
LIC = {'kind': 'non_exclusive', 'territory': ['cn'], 'field': 'all', 'term_months': 12, 'royalty_bp': 0}
def norm(acc):
    """An account.get result as (cash_available, cash_held, {positions}), zero positions left out."""
    ps = {}
    for p in acc.get('positions', []):
        if p.get('units', 0) == 0: continue
        if 'market_id' in p: ps['M:' + p['market_id']] = (p['units'], p.get('units_held'))
        else: ps['A:' + p['asset_id']] = (p['units'],)
    return (acc.get('cash_available'), acc.get('cash_held'), ps)

def mp(acc, m):
    for p in acc['positions']:
        if p.get('market_id') == m: return p['units'], p['units_held']
    return 0, 0

def order_maker(market_id, side='buy'):
    """O(**overrides): a limit GTC order of 10 at 1000 on market_id, each with a new client_order_id (k1, k2, ...)."""
    n = [0]
    def O(**k):
        n[0] += 1
        return dict(dict(market_id=market_id, side=side, type='limit', price=1000, qty=10, tif='gtc',
                         client_order_id=f'k{n[0]}'), **k)
    return O


# Documented replies, and refusals that change nothing (the hostile sequences, y01-y03).
CODES = {'BAD_REQUEST','UNAUTHENTICATED','FORBIDDEN','NOT_FOUND','DUPLICATE','INSUFFICIENT_FUNDS','NOT_QUALIFIED',
         'AUCTION_NOT_OPEN','AUCTION_CLOSED','BID_TOO_LOW','BAD_PRICE','ALREADY_LEADING','WOULD_CROSS','SELF_TRADE',
         'INVALID_STATE','RATE_LIMITED','TOO_LARGE','UNAVAILABLE'}
def code_ok(name, e):
    """a reply is either a success or a documented, non-INTERNAL code"""
    c = e[0]
    return check(f'{name}: documented reply ({c})', c == 'OK' or c in CODES, e)
async def snap(ctx, clients, auctions=(), cases=(), bank=None, sids=()):
    s = {}
    for c in clients: s['acc' + c.pid] = await ctx.adm.call('account.get', participant_id=c.pid)
    for a in auctions: s['au' + a] = await ctx.adm.call('auction.get', auction_id=a)
    for k in cases: s['ca' + k] = await ctx.adm.call('disposal.get', case_id=k)
    for x in sids: s['se' + x] = await ctx.adm.call('settlement.get', settlement_id=x)
    return s
async def refused(ctx, name, who, method, clients, auctions=(), cases=(), sids=(), **params):
    before = await snap(ctx, clients, auctions, cases, sids=sids)
    e = await who.errm(method, **params)
    code_ok(name, e)
    if e[0] != 'OK':
        after = await snap(ctx, clients, auctions, cases, sids=sids)
        diff = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        check(f'{name}: refused ({e[0]}) and nothing changed', not diff, diff)
    return e
class RawClient(Client):
    """A client that keeps each reply's raw frame and counts replies per id (c01, c02: every id answered exactly
    once, retries byte-identical)."""
    def __init__(self, ws):
        self.rawrep = {}; self.nrep = collections.Counter()
        super().__init__(ws)
    async def _read(self):
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                if isinstance(msg, dict) and 'channel' in msg:
                    self.pushes.append(msg); continue
                i = msg.get('id') if isinstance(msg, dict) else None
                self.nrep[json.dumps(i)] += 1; self.rawrep[json.dumps(i)] = raw
                fut = self.pending.pop(i, None)
                if fut is not None and not fut.done(): fut.set_result(msg)
                else: self.unmatched.append(msg)
        except websockets.ConnectionClosed:
            pass
        for f in self.pending.values():
            if not f.done(): f.set_exception(ConnectionError('closed'))
