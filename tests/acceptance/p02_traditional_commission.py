# DOMAIN rule 12 (traditional regime, S2 art 29): "buyer commission caps <= 5% up to 2M CNY, 3% 2-10M, 2% 10-50M, 1%
# 50-100M, 0.5% above", checked exactly at each tier boundary (2M, 10M, 50M, 100M CNY) and one yuan / one fen above it,
# on round-1 sales of traditional cases (start = reserve = valuation). Whatever the engine charges must not exceed the cap
# under either reading of the table (the whole price at its bracket's rate, or marginal by bracket); the settlement's
# amount_due = price + premium - deposit (PROTOCOL settlement.pay), and the buyer's cash moves by exactly that; the
# pledgee is paid the price up to its claim, never the premium (the claim is the cap of its payout). Also rule 12's
# rounds with an odd valuation (each cut rounded down to a yuan, docs/protocol.md), renotice past 30 days refused, and a
# traditional plan whose start_bp puts the reserve at half the valuation (rule 12 "reserve = valuation"; rule 1's 70 %
# floor for a first auction) refused with BAD_REQUEST.
from common import *
CNY = 100
def caps(price):
    br = [(2_000_000 * CNY, 500), (10_000_000 * CNY, 300), (50_000_000 * CNY, 200), (100_000_000 * CNY, 100), (10**19, 50)]
    # flat: the bracket that holds the price ("up to 2M" includes 2M)
    for hi, bp in br:
        if price <= hi: flat = price * bp / 10000; break
    marg, lo = 0, 0
    for hi, bp in br:
        if price > lo: marg += (min(price, hi) - lo) * bp / 10000
        lo = hi
    return flat, marg
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    FUND = 5 * 10**12
    X = await ctx.mk('enterprise', fund=FUND)
    vals = []
    for b in (2_000_000, 10_000_000, 50_000_000, 100_000_000):
        vals += [b * CNY, b * CNY + 100, b * CNY + 1]
    _, codd, _ = await new_case(ctx, bank, own, 12_345_678, plan={'regime': 'traditional'}, loan=1_000_000)
    for bad in ({'regime': 'traditional', 'start_bp': 5000}, {'regime': 'traditional', 'start_bp': 6999}, {'regime': 'traditional', 'renotice_ms': 30 * DAY + 1}):
        aid_ = await new_asset(ctx, own)
        await bank.call('pledge.register', asset_id=aid_, pledgee=bank.pid, loan_outstanding=1_000_000, registration_no='RX' + aid_)
        e = await bank.errm('disposal.open', assets=[aid_], pledgee=bank.pid, pledgor=own.pid, valuation=10_000_000, plan=bad)
        check(f'traditional plan {bad} -> BAD_REQUEST', e[0] == 'BAD_REQUEST',
              e if e[0] != 'OK' else (e[0], [(r['start_price'], (await a.call('auction.get', auction_id=r['auction_id'])).get('reserve')) for r in e[1]['rounds']]))
    cases = []
    for V in vals:
        asset, cid, aid = await new_case(ctx, bank, own, V, plan={'regime': 'traditional'}, loan=V + 10**9)
        cases.append((V, asset, cid, aid))
    g0 = await a.call('auction.get', auction_id=cases[0][3])
    for V, asset, cid, aid in cases:
        await X.call('auction.register', auction_id=aid)
    await ctx.adv_to(g0['opens_at'])
    for V, asset, cid, aid in cases:
        g = await a.call('auction.get', auction_id=aid)
        await X.call('auction.bid', auction_id=aid, amount=g['start_price'])
    await ctx.adv_to(g0['closes_at'])
    for V, asset, cid, aid in cases:
        g = await a.call('auction.get', auction_id=aid)
        if not check(f'V {V}: sold at its start', g['state'] == 'sold' and g['price'] == g['start_price'], (g['state'], g['price'], g['start_price'])):
            continue
        P = g['price']
        if V % 100 == 0:
            check(f'V {V}: traditional start = valuation', P == V, (P, V))
        else:
            check(f'V {V}: start = valuation, at most rounded down to the yuan', P in (V, yuan_floor(V)), (P, V))
        s = await X.call('settlement.get', settlement_id=g['settlement_id'])
        flat, marg = caps(P)
        prem = s['buyer_premium']
        print(f'  info: price {P} fen: premium {prem} fen (flat cap {flat:.2f}, marginal cap {marg:.2f}), deposit {s["deposit"]}')
        check(f'price {P}: buyer premium {prem} within the S2 art 29 cap ({max(flat, marg):.0f})', 0 <= prem <= max(flat, marg), (prem, flat, marg))
        check(f'price {P}: amount_due = price + premium - deposit', s['amount_due'] == P + prem - s['deposit'], s)
        before = await X.call('account.get')
        await X.call('settlement.pay', settlement_id=s['settlement_id'])
        after = await X.call('account.get')
        check(f'price {P}: the buyer paid amount_due from cash_available', before['cash_available'] - after['cash_available'] == s['amount_due'],
              (before['cash_available'] - after['cash_available'], s['amount_due']))
        bk0 = (await bank.call('account.get'))['cash_available']
        await a.call('settlement.confirm', settlement_id=s['settlement_id'], registration_no='REG' + asset)
        bk1 = (await bank.call('account.get'))['cash_available']
        check(f'price {P}: the pledgee is paid the price (claim above it), not the premium', bk1 - bk0 == P, (bk1 - bk0, P))
        d = await bank.call('disposal.get', case_id=cid)
        check(f'price {P}: case closed sold, hammer = price', d['state'] == 'closed' and d['outcome'] == 'sold' and d['recovery']['hammer'] == P, (d['state'], d['outcome'], d['recovery']))
    await ctx.adv(400 * DAY)
    d = await bank.call('disposal.get', case_id=codd)
    # 123,456.78 CNY: start 123,456 CNY; cut 24,691.2 -> 24,691 -> 98,765 CNY; cut 19,753 -> 79,012 CNY; sell-off at 79,012 CNY
    check('traditional odd valuation: starts 12,345,600 / 9,876,500 / 7,901,200, sell-off 7,901,200',
          [(r['kind'], r['start_price']) for r in d['rounds']] == [('auction', 12_345_600), ('auction', 9_876_500), ('auction', 7_901_200), ('sell_off', 7_901_200)], d['rounds'])
    check('traditional odd valuation: closed in_lieu after the sell-off', (d['state'], d['outcome']) == ('closed', 'in_lieu'), (d['state'], d['outcome']))
run('p02', sc)
