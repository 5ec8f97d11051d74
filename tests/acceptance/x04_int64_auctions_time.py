# Amounts and times near 2^63 in auctions, disposals and the clock (a seventh audit, from PROTOCOL.md / DOMAIN.md only):
# claims that sum past INT64_MAX, valuations whose derived start/deposit/increment overflow in between, a start and
# increment of INT64_MAX, soft-close extensions and payment deadlines past INT64_MAX,
# a Dutch clock whose k x decrement wraps, a licence term that wraps past the asset's expiry, time.advance by INT64_MAX.
# Contract: "Amounts derived from percentages (start prices, deposits, increments) are rounded down to a whole yuan";
# "claim = the sum"; "price(t) = max(floor, start - floor((t - opens_at) / interval_ms) x decrement)"; "a licence term
# running past the asset's expires_at" is INVALID_STATE; "A rejected request changes nothing".
# Each probe: refused with a documented non-INTERNAL code, or accepted with the exact arithmetic (no wrap-around).
from common import *
import lib
SRV = []
class _S(lib.Server):
    def __init__(self, *a, **k): SRV.append(self); super().__init__(*a, **k)
lib.Server = _S
MAX = 2**63 - 1
REF = ('BAD_REQUEST', 'INVALID_STATE', 'INSUFFICIENT_FUNDS', 'BID_TOO_LOW', 'BAD_PRICE')
def yf(x): return x // 100 * 100

async def sc(ctx):
    a = ctx.adm; srv = SRV[0]; pid0 = srv.proc.pid
    def alive(): return srv.proc.poll() is None and srv.proc.pid == pid0
    op = await ctx.mk('operator'); bank = await ctx.mk('bank'); bank2 = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=10_000_000); Y = await ctx.mk('individual', fund=10_000_000)
    # --- 1. a pledge whose claim (loan + interest + penalties + costs) passes INT64_MAX
    A1 = await new_asset(ctx, own)
    e = await bank.errm('pledge.register', asset_id=A1, pledgee=bank.pid, loan_outstanding=2**62, registration_no='OV-1',
                        interest=2**62, penalties=2**62, costs=1)
    check('pledge.register with claim 3 x 2^62 + 1 (past INT64_MAX) -> refused (BAD_REQUEST), or claim exact', e[0] in REF, e)
    e = await bank.errm('pledge.register', asset_id=A1, pledgee=bank.pid, loan_outstanding=MAX, registration_no='OV-2', interest=1)
    check('pledge.register loan INT64_MAX + interest 1 -> refused', e[0] in REF, e)
    e = await bank.errm('disposal.open', assets=[A1], pledgee=bank.pid, pledgor=own.pid, valuation=10_000_000)
    check('the refused pledges left nothing to dispose of (disposal.open -> refused: no pledge)', e[0] != 'OK', e)
    # two pledges (two banks), each fitting, whose claims sum past INT64_MAX
    A2 = await new_asset(ctx, own)
    e1 = await bank.errm('pledge.register', asset_id=A2, pledgee=bank.pid, loan_outstanding=2**62 + 1, registration_no='OV-3')
    e2 = await bank2.errm('pledge.register', asset_id=A2, pledgee=bank2.pid, loan_outstanding=2**62 + 1, registration_no='OV-4')
    print('  info: two pledges of 2^62+1 on one asset ->', e1[0], e2[0])
    if e1[0] == 'OK' and e2[0] == 'OK':
        e = await bank.errm('disposal.open', assets=[A2], pledgee=bank.pid, pledgor=own.pid, valuation=10_000_000)
        if e[0] == 'OK':
            d = await bank.call('disposal.get', case_id=e[1]['case_id'])
            check('case over two 2^62+1 pledges: claim not wrapped (>= the first pledge)', d['claim'] >= 2**62 + 1, d['claim'])
            print('  info: case claim over two 2^62+1 pledges =', d['claim'])
        else:
            check('disposal.open over claims summing past INT64_MAX -> a documented refusal', e[0] in REF, e)
    # --- 2. valuations whose derived amounts overflow in between (valuation x 7000 / 10000)
    async def valuation_probe(val):
        A = await new_asset(ctx, own)
        await bank.call('pledge.register', asset_id=A, pledgee=bank.pid, loan_outstanding=1_000_000, registration_no=f'RV-{val % 1000}')
        e = await bank.errm('disposal.open', assets=[A], pledgee=bank.pid, pledgor=own.pid, valuation=val)
        if e[0] != 'OK':
            check(f'disposal.open valuation {val}: refused with BAD_REQUEST', e[0] == 'BAD_REQUEST', e); return
        d = await bank.call('disposal.get', case_id=e[1]['case_id'])
        g = await a.call('auction.get', auction_id=e[1]['auction_id'])
        start = yf(val * 7000 // 10000)
        check(f'valuation {val}: round-1 start = 70% rounded down to a yuan = {start}', d['rounds'][0]['start_price'] == start and g['start_price'] == start,
              (d['rounds'][0]['start_price'], g['start_price']))
        check(f'valuation {val}: deposit = 10% of start = {yf(start // 10)}', g['deposit'] == yf(start * 1000 // 10000), g['deposit'])
        check(f'valuation {val}: increment = 0.5% of start = {yf(start * 50 // 10000)}', g['increment'] == yf(start * 50 // 10000), g['increment'])
    await valuation_probe(9 * 10**14 + 12345)
    check('alive after valuation probes', alive())
    # --- 3. start and increment of INT64_MAX: the bid after the first would be past INT64_MAX
    now = await ctx.now()
    e = await a.errm('auction.create', lot=[await new_asset(ctx, own)], purpose='transfer', format='english', start_price=2**62, increment=1,
                     deposit=100, opens_at=now, closes_at=now + DAY)
    check('auction.create start_price 2^62 -> OK, or BAD_REQUEST naming start_price ("a value out of range is BAD_REQUEST with the field named")',
          e[0] == 'OK' or (e[0] == 'BAD_REQUEST' and 'start_price' in e[1]), e)
    for ST, INC in ((MAX, MAX), (10**15, MAX - 10**15 + 1), (10**15, 2**62), (10**15, 10**15)):
        try:
            _, AM = await new_auction(ctx, own, start=ST, inc=INC, dep=100); break
        except Err as ex:
            print(f'  info: auction.create start {ST} increment {INC} ->', ex)
    print(f'  info: using start {ST} increment {INC} (start + increment {"passes" if ST + INC > MAX else "within"} INT64_MAX)')
    await X.call('auction.register', auction_id=AM); await Y.call('auction.register', auction_id=AM)
    e = await X.errm('auction.bid', auction_id=AM, amount=ST)
    check(f'first bid {ST} at start {ST} (increment {INC}) -> accepted', e[0] == 'OK', e)
    g = await a.call('auction.get', auction_id=AM)
    check('after it, min_next_bid is not wrapped (null, or > the price)', g['min_next_bid'] is None or g['min_next_bid'] > ST, g['min_next_bid'])
    for amt in (1, ST - 1, ST, MAX):
        e = await Y.errm('auction.bid', auction_id=AM, amount=amt)
        # past the documented range of money amounts: BAD_REQUEST naming the field is as clear
        ok = e[0] in ('BID_TOO_LOW', 'BAD_PRICE') or (e[0] == 'BAD_REQUEST' and amt == MAX and 'amount' in e[1])
        check(f'second bidder bids {amt} -> refused (BID_TOO_LOW/BAD_PRICE, or BAD_REQUEST naming amount past the range)', ok, e)
    g2 = await a.call('auction.get', auction_id=AM)
    check('leader, price and bid count unchanged by the refused bids', (g2['leader'], g2['price'], g2['bids']) == (g['leader'], g['price'], g['bids']), g2)
    e = await Y.errm('auction.proxy', auction_id=AM, max_amount=MAX)
    g3 = await a.call('auction.get', auction_id=AM)
    check('proxy INT64_MAX by the second bidder does not take the lead or wrap', g3['leader'] == g['leader'] and g3['price'] == ST, (e, g3))
    # --- 4. (premium / commission past INT64_MAX at the close crash the server: see x05_close_overflow.py)
    # --- 5. soft close whose extension passes INT64_MAX; a payment deadline past INT64_MAX
    now = await ctx.now()
    e = await a.errm('auction.create', lot=[await new_asset(ctx, own)], purpose='transfer', format='english', start_price=1000, increment=10,
                     deposit=10, opens_at=now, closes_at=MAX, extend_window_ms=MAX, extend_by_ms=MAX)
    print('  info: auction.create closes_at INT64_MAX, extend INT64_MAX ->', e[0], e[1] if e[0] != 'OK' else '')
    if e[0] == 'OK':
        AE = e[1]['auction_id']; await X.call('auction.register', auction_id=AE)
        g0 = await a.call('auction.get', auction_id=AE)
        e = await X.errm('auction.bid', auction_id=AE, amount=1000)
        g = await a.call('auction.get', auction_id=AE)
        check('bid in a window of INT64_MAX with extension INT64_MAX: closes_at not wrapped (>= the old close), still open',
              g['closes_at'] >= g0['closes_at'] and g['state'] == 'open', (e, g0['closes_at'], g['closes_at'], g['state']))
        await ctx.adv(HOUR)
        g = await a.call('auction.get', auction_id=AE)
        check('an hour later it is still open', g['state'] == 'open', g['state'])
    else:
        check('refused with BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    now = await ctx.now()
    e = await a.errm('auction.create', lot=[await new_asset(ctx, own)], purpose='transfer', format='english', start_price=1000, increment=10,
                     deposit=10, opens_at=now, closes_at=now + HOUR, payment_ms=MAX)
    if e[0] == 'OK':
        AD = e[1]['auction_id']; await Y.call('auction.register', auction_id=AD); await Y.call('auction.bid', auction_id=AD, amount=1000)
        await ctx.adv(HOUR + 1)
        g = await a.call('auction.get', auction_id=AD)
        s = await Y.call('settlement.get', settlement_id=g['settlement_id'])
        check('payment_ms INT64_MAX: the settlement awaits payment with due_at not wrapped (> closes_at)',
              s['state'] == 'awaiting_payment' and s['due_at'] > g['closes_at'], (s['state'], s['due_at'], g['closes_at'], await Y.call('account.get')))
    else:
        check('auction.create payment_ms INT64_MAX refused with BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    # (plan durations whose sum passes INT64_MAX crash the server: see x05_close_overflow.py)
    # --- 6. a Dutch clock whose k x decrement wraps: the price stays within [floor, start]
    now = await ctx.now()
    e = await a.errm('auction.create', lot=[await new_asset(ctx, own)], purpose='transfer', format='dutch', start_price=MAX, increment=1,
                     deposit=10, opens_at=now, closes_at=now + DAY, dutch={'decrement': 2**62, 'interval_ms': 1, 'floor': 1000})
    if e[0] == 'OK':
        AD = e[1]['auction_id']
        seen = []
        for step in (1, 1, 1, 1, 2):
            await ctx.adv(step)
            g = await a.call('auction.get', auction_id=AD)
            seen.append((g['state'], g['price']))
        check('Dutch start INT64_MAX, decrement 2^62 every 1 ms: price never above start nor below floor, never rises',
              all(p is None or 1000 <= p <= MAX for _, p in seen) and all(seen[i][1] is None or seen[i + 1][1] is None or seen[i + 1][1] <= seen[i][1] for i in range(len(seen) - 1)), seen)
    else:
        check('Dutch decrement 2^62 refused with BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    # --- 7. a licence term so long that its end wraps below the asset's expiry
    now = await ctx.now()
    for tm in (2**40, 2**31, 10**15):
        A = await new_asset(ctx, own)
        lic = {'kind': 'exclusive', 'territory': ['cn'], 'field': 'all', 'term_months': tm, 'royalty_bp': 0}
        e = await a.errm('auction.create', lot=[A], purpose='exclusive_licence', format='english', start_price=1000, increment=10,
                         deposit=10, opens_at=now, closes_at=now + DAY, licence=lic)
        check(f'exclusive licence term_months {tm} on an asset expiring in 10 years -> INVALID_STATE or BAD_REQUEST', e[0] in ('INVALID_STATE', 'BAD_REQUEST'), e)
    # --- 8. timestamps far in the past / future
    A = await new_asset(ctx, own)
    e = await a.errm('auction.create', lot=[A], purpose='transfer', format='english', start_price=1000, increment=10, deposit=10,
                     opens_at=-(2**63), closes_at=now + DAY)
    check('auction.create opens_at = -2^63 -> refused, or opens at once', e[0] == 'BAD_REQUEST' or e[0] == 'OK', e)
    e = await a.errm('auction.create', lot=[A], purpose='transfer', format='english', start_price=1000, increment=10, deposit=10,
                     opens_at=now, closes_at=-1)
    check('auction.create closes_at = -1 -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)
    e = await a.errm('report.disposals', **{'from': -(2**63), 'to': MAX})
    check('report.disposals from -2^63 to INT64_MAX -> rows, or BAD_REQUEST naming from', (e[0] == 'OK' and isinstance(e[1].get('rows'), list)) or (e[0] == 'BAD_REQUEST' and 'from' in e[1]), e)
    # --- 9. time.advance past INT64_MAX: refused, engine time unchanged, server alive
    n0 = await ctx.now()
    for ms in (MAX, MAX - n0 + 1, 2**62 * 3 // 2):
        e = await a.errm('time.advance', ms=ms)
        n1 = await ctx.now()
        check(f'time.advance {ms} (now + ms past INT64_MAX) -> BAD_REQUEST, now unchanged', e[0] == 'BAD_REQUEST' and n1 == n0, (e, n0, n1))
    check('process alive, never restarted', alive())
    # (disposal.open with valuation x 7000 past INT64_MAX crashes the server: see x05_close_overflow.py)
run('x04', sc)
