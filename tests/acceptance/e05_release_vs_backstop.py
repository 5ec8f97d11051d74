# Audit e (least-covered DOMAIN rules at their bounds): rule 11 "Sell-off unsold -> a backstop buyer's standing offer (收储)
# buys at the offer's own price (a share of the case's valuation), if its buyer has the cash; else the asset goes to the
# pledgee in lieu of payment (以物抵债) at the sell-off price, or the seizure is released. The case records which."
# PROTOCOL Defaults: plan "after_sell_off (in_lieu, the default, or release)"; "An unsold sell-off goes FIRST to the matching
# backstop offer with the highest price (earliest on ties) whose buyer has the cash and whose max_amount is not used up;
# else after_sell_off applies"; backstop.offer "max_amount (total over all its purchases), regions[]?, industries[]? (both
# must match when given)". No other scenario combines `release` with a matching offer. Bounds: max_amount one fen below
# the price (skipped), cash one fen below the price (skipped), cash and max_amount exactly the price (buys), an industry
# mismatch (skipped); the same offer used up for the next case (in lieu); an offer whose expires_at is exactly the
# sell-off's close (open reading, printed; the case must end backstop or released, nothing else).
from common import *
V = 10_000_000
PLAN = {'notice_ms': DAY, 'bidding_ms': DAY, 'renotice_ms': DAY, 'sell_off_ms': 10 * DAY}
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    bs1 = await ctx.mk('backstop', fund=10_000_000); bs2 = await ctx.mk('backstop', fund=3_999_999)
    bs3 = await ctx.mk('backstop', fund=10_000_000); bs4 = await ctx.mk('backstop', fund=3_000_000)
    bs5 = await ctx.mk('backstop', fund=10_000_000)
    t0 = await ctx.now()
    # case K: chengdu / other, after_sell_off release -> must go to O4 (backstop first)
    aK, cK, _ = await new_case(ctx, bank, own, V, loan=5_000_000, plan=dict(PLAN, after_sell_off='release'))
    # case E: deyang, release; an offer for deyang expiring exactly at the sell-off close
    aE, cE, _ = await new_case(ctx, bank, own, V, region='deyang', loan=5_000_000, plan=dict(PLAN, after_sell_off='release'))
    close = t0 + 14 * DAY   # r1 T0+1..2 d, r2 T0+3..4 d, sell-off T0+4..14 d
    await bs1.call('backstop.offer', price_bp=4000, max_amount=3_999_999, regions=['chengdu'])            # O1: max 1 fen short
    await bs2.call('backstop.offer', price_bp=4000, max_amount=100_000_000, regions=['chengdu'])          # O2: cash 1 fen short
    await bs3.call('backstop.offer', price_bp=3500, max_amount=100_000_000, regions=['chengdu'], industries=['medicine_health'])  # O3
    await bs4.call('backstop.offer', price_bp=3000, max_amount=3_000_000, regions=['chengdu'])            # O4: exactly
    await bs5.call('backstop.offer', price_bp=5000, max_amount=100_000_000, regions=['deyang'], expires_at=close)  # O5
    d = await bank.call('disposal.get', case_id=cK)
    g = await a.call('auction.get', auction_id=d['rounds'][0]['auction_id'])
    check('case K round 1 closes at T0 + 2 d (plan notice 1 d, bidding 1 d)', g['closes_at'] == t0 + 2 * DAY, (g['closes_at'] - t0) / DAY)
    await ctx.adv_to(close - 1)
    d = await bank.call('disposal.get', case_id=cK)
    check('case K in sell_off 1 ms before its close', d['state'] == 'sell_off' and d['rounds'][-1]['kind'] == 'sell_off', (d['state'], d['rounds']))
    gs = await a.call('auction.get', auction_id=d['rounds'][-1]['auction_id'])
    check('sell-off closes T0 + 14 d at round 2 start 5,600,000', (gs['closes_at'], gs['start_price']) == (close, 5_600_000), (gs['closes_at'] - t0, gs['start_price']))
    # case L (chengdu, default in_lieu) opened 1 day later: closes at T0 + 15 d, after O4 is used up
    await bs4.call('account.get')
    aL, cL, _ = await new_case(ctx, bank, own, V, loan=5_000_000, plan=PLAN)
    tL = await ctx.now()
    await ctx.adv(1)   # = close
    d = await bank.call('disposal.get', case_id=cK)
    check('K (release, matching offer O4): backstop first -> state settlement, not released', d['state'] == 'settlement' and d.get('outcome') in (None, 'backstop'),
          (d['state'], d.get('outcome')))
    sid = d.get('settlement_id')
    st = await a.call('settlement.get', settlement_id=sid) if sid else {}
    check('K: the buyer is bs4 (O1 max 1 fen short, O2 cash 1 fen short, O3 industry mismatch skipped) at 30 % = 3,000,000',
          (st.get('buyer'), st.get('price')) == (bs4.pid, 3_000_000), st)
    b4 = await bs4.call('account.get')
    check('bs4: the whole 3,000,000 moved out of cash_available (paid into escrow)', (b4['cash_available'], b4['cash_held']) == (0, 3_000_000), b4)
    for c, n in ((bs1, 'bs1'), (bs2, 'bs2'), (bs3, 'bs3')):
        acc = await c.call('account.get')
        check(f'{n}: nothing held', acc['cash_held'] == 0, acc)
    dE = await bank.call('disposal.get', case_id=cE)
    print('  info (open reading): an offer whose expires_at == the sell-off close ->', dE['state'], dE.get('outcome'))
    check('E: ends backstop (offer live at its expires_at) or released (expired), nothing else',
          (dE['state'] == 'settlement') or (dE['state'], dE.get('outcome')) == ('closed', 'released'), (dE['state'], dE.get('outcome')))
    # confirm K: closed backstop, title to bs4, bank paid 3,000,000
    b0 = (await bank.call('account.get'))['cash_available']
    await a.call('settlement.confirm', settlement_id=sid, registration_no='REG-K')
    d = await bank.call('disposal.get', case_id=cK)
    check('K after confirm: closed, outcome backstop', (d['state'], d.get('outcome')) == ('closed', 'backstop'), (d['state'], d.get('outcome')))
    check('K: bank receives the backstop price 3,000,000 (claim 5,000,000)', (await bank.call('account.get'))['cash_available'] - b0 == 3_000_000)
    check('K: title to bs4', pos(await bs4.call('account.get'), aK) is not None)
    # case L: O4's max_amount is used up (bs4 refunded with cash), O1 / O2 still short -> in lieu (its default)
    await a.call('account.fund', participant_id=bs4.pid, amount=3_000_000)
    dl = await bank.call('disposal.get', case_id=cL)
    gl = await a.call('auction.get', auction_id=dl['rounds'][-1]['auction_id'])
    await ctx.adv_to(tL + 14 * DAY)
    dl = await bank.call('disposal.get', case_id=cL)
    check('L: O4 used up (max_amount 3,000,000 spent), the others short -> closed in_lieu', (dl['state'], dl.get('outcome')) == ('closed', 'in_lieu'),
          (dl['state'], dl.get('outcome'), dl.get('settlement_id')))
    check('L: bs4 cash untouched (3,000,000 available)', (await bs4.call('account.get'))['cash_available'] == 3_000_000)
    check('L: the bank holds the title in lieu', pos(await bank.call('account.get'), aL) is not None)
run('e05', sc)
