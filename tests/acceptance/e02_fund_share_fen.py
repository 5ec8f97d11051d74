# Audit e (least-covered DOMAIN rules at their bounds): rule 17 and rule 14 at the fen, rule 2 with one bidder.
# Rule 17 "When disposal proceeds fall short of the pledgee's claim, a risk-compensation fund shares the loss by configured
# ratios (examples in use: fund 50% / bank 50%; ... 54:26:16:4). The share is a ledger transfer from the fund's account to
# the pledgee, recorded against the case." PROTOCOL plan `risk_fund {participant_id, share_bp}`: "at confirmation, when the
# pledgee's net proceeds fall short of the claim, the fund pays share_bp of the shortfall to the pledgee".
# Rule 14 "The pledgee's claim = principal + interest + penalties + realisation costs; ... the surplus goes to the pledgor;
# a shortfall stays a debt"; PROTOCOL "The pledgee's payout is capped at the claim"; "Amounts derived from percentages ...
# are rounded down". Rule 2 "One qualified bidder is enough". Report: "recovery rate = (net cash + fund share) / claim;
# discount = hammer / valuation for each round; bidders per round".
# Six cases, each sold to its single bidder at the round-1 start 7,000,000 (70 % of 10,000,000): claim = hammer - 1 fen
# (1 fen surplus to the pledgor, no share), = hammer (no share), + 1 fen (share 50 % of 1 fen = 0.5 -> 0 rounded down),
# + 2 fen (share 1 fen, or 0 if rounded to a yuan: open, printed), + 100 CNY at 54 % (54 CNY exactly), and a claim built
# from all four parts (7,020,000) at 54 % (10,800 exactly).
from common import *
V = 10_000_000; H = 7_000_000
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    FF = 1_000_000
    fund = await ctx.mk('risk_fund', fund=FF)
    X = await ctx.mk('individual', fund=100_000_000)
    cases = [  # name, pledge parts, share_bp, expected fund share (None: open reading), expected surplus to the pledgor
        ('claim-1', dict(loan=H - 1), 5000, 0, 1),
        ('claim=', dict(loan=H), 5000, 0, 0),
        ('claim+1', dict(loan=H + 1), 5000, 0, 0),
        ('claim+2', dict(loan=H + 2), 5000, None, 0),
        ('claim+100CNY', dict(loan=H + 10_000), 5400, 5_400, 0),
        ('parts', dict(loan=6_000_000, extra_pledge={'interest': 600_000, 'penalties': 300_000, 'costs': 120_000}), 5400, 10_800, 0),
    ]
    ids = {}
    for name, parts, bp, _, _ in cases:
        asset, cid, aid = await new_case(ctx, bank, own, V, plan={'risk_fund': {'participant_id': fund.pid, 'share_bp': bp}}, **parts)
        ids[name] = (cid, aid)
    d = await bank.call('disposal.get', case_id=ids['parts'][0])
    check('claim = principal + interest + penalties + costs = 7,020,000', d['claim'] == 7_020_000, d['claim'])
    g = await a.call('auction.get', auction_id=ids['claim='][1])
    check('round 1: start 7,000,000, deposit 700,000, increment 140,000', (g['start_price'], g['deposit'], g['increment']) == (H, 700_000, 140_000), g)
    for name in ids: await X.call('auction.register', auction_id=ids[name][1])
    await ctx.adv_to(g['opens_at'])
    for name in ids: await X.call('auction.bid', auction_id=ids[name][1], amount=H)
    await ctx.adv_to(g['closes_at'])
    sids = {}
    for name in ids:
        gg = await a.call('auction.get', auction_id=ids[name][1])
        check(f'{name}: one qualified bidder is enough: sold at the start', (gg['state'], gg['price']) == ('sold', H), (gg['state'], gg['price']))
        sids[name] = gg['settlement_id']
        await X.call('settlement.pay', settlement_id=sids[name])
    got = {}
    for name, parts, bp, exp_share, exp_surplus in cases:
        claim = (await bank.call('disposal.get', case_id=ids[name][0]))['claim']
        b0 = (await bank.call('account.get'))['cash_available']; o0 = (await own.call('account.get'))['cash_available']
        f0 = (await fund.call('account.get'))['cash_available']
        await a.call('settlement.confirm', settlement_id=sids[name], registration_no='REG-' + name)
        b1 = (await bank.call('account.get'))['cash_available']; o1 = (await own.call('account.get'))['cash_available']
        f1 = (await fund.call('account.get'))['cash_available']
        db, do, df = b1 - b0, o1 - o0, f0 - f1
        got[name] = (claim, df)
        short = max(0, claim - H)
        if exp_share is None:
            print(f'  info: {name}: shortfall {short} fen at {bp} bp -> fund pays {df} fen (1 if rounded down to a fen, 0 if to a yuan)')
            check(f'{name}: fund share {df} is {bp} bp of {short} fen rounded down (to a fen or a yuan)', df in (0, short * bp // 10000), df)
        else:
            check(f'{name}: fund pays {exp_share} fen ({bp} bp of the shortfall {short}, rounded down)', df == exp_share, df)
        check(f'{name}: bank receives min(hammer, claim) + the share = {min(H, claim) + df}', db == min(H, claim) + df, (db, claim))
        check(f'{name}: pledgor receives the surplus {exp_surplus} fen', do == exp_surplus, do)
        d = await bank.call('disposal.get', case_id=ids[name][0])
        rec = d.get('recovery') or {}
        check(f'{name}: case closed sold; recovery records fund_share {df}, net_to_bank {min(H, claim)}',
              d['state'] == 'closed' and d.get('outcome') == 'sold' and rec.get('fund_share') == df and rec.get('net_to_bank') == min(H, claim),
              (d['state'], d.get('outcome'), rec))
    fa = await fund.call('account.get')
    check('fund: cash_available = funded - every share paid, nothing held', fa['cash_available'] == FF - sum(v[1] for v in got.values()) and fa['cash_held'] == 0, fa)
    rep = await bank.call('report.disposals')
    rows = {r['case_id']: r for r in rep['rows']}
    for name, (claim, df) in got.items():
        r = rows.get(ids[name][0], {})
        exp_rate = (min(H, claim) + df) / claim
        check(f'{name}: report recovery_rate = (net + fund) / claim = {exp_rate:.12f}', abs((r.get('recovery_rate') or -1) - exp_rate) < 1e-12, r.get('recovery_rate'))
        check(f'{name}: report hammer 7,000,000, fund_share {df}, discount_by_round [0.7], bidders_by_round [1]',
              (r.get('hammer'), r.get('fund_share'), r.get('discount_by_round'), r.get('bidders_by_round')) == (H, df, [0.7], [1]), r)
run('e02', sc)
