# DOMAIN rule 11: "Sell-off unsold -> a backstop buyer's standing offer buys at the offer's own price (a share of the
# case's valuation), if its buyer has the cash" -- also when that price is ABOVE the sell-off price; with an odd
# valuation (price_bp of it, whole fen or rounded down to a yuan); a max_amount exactly equal to that price is not "used up"
# by it beforehand, and is used up after it (PROTOCOL "whose max_amount is not used up"); cash exactly the price is enough.
# The case is in settlement until confirm, then closed with outcome backstop; title to the backstop.
from common import *
async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    V = 12_345_678
    exact = V * 9000 // 10000            # 11,111,110
    allowed = (exact, yuan_floor(exact))  # 11,111,110 or 11,111,100
    B = await ctx.mk('backstop', fund=exact)
    await B.call('backstop.offer', price_bp=9000, max_amount=exact, regions=['leshan'])
    aA, cA, _ = await new_case(ctx, bank, own, V, region='leshan', loan=200_000_000)
    aB, cB, _ = await new_case(ctx, bank, own, V, region='leshan', loan=200_000_000)
    await ctx.adv(120 * DAY)
    dA = await bank.call('disposal.get', case_id=cA)
    dB = await bank.call('disposal.get', case_id=cB)
    so_start = dA['rounds'][-1]['start_price'] if dA['rounds'] else None
    print('  info: case A', dA['state'], dA.get('outcome'), 'case B', dB['state'], dB.get('outcome'), 'sell-off start', so_start)
    bought = [c for c, d in (('A', dA), ('B', dB)) if d['state'] == 'settlement']
    check('exactly one of the two cases went to the backstop (max_amount = one purchase)', len(bought) == 1, (dA['state'], dB['state']))
    other = dB if bought == ['A'] else dA
    check('the other case: max_amount used up -> in_lieu', other['state'] == 'closed' and other.get('outcome') == 'in_lieu', (other['state'], other.get('outcome')))
    d = dA if bought == ['A'] else dB
    asset = aA if bought == ['A'] else aB
    check('bought case: in settlement, outcome not yet set', d['state'] == 'settlement' and d.get('outcome') is None, (d['state'], d.get('outcome')))
    sid = d.get('settlement_id')
    s = await a.call('settlement.get', settlement_id=sid) if sid else {}
    print('  info: backstop settlement', s)
    check('backstop buys at its own price 90% of valuation (above the sell-off price)', s.get('price') in allowed and s.get('price', 0) > (so_start or 0),
          (s.get('price'), allowed, so_start))
    check('settlement buyer = the backstop participant', s.get('buyer') == B.pid, s.get('buyer'))
    price = s.get('price', exact)
    acc = await B.call('account.get')
    check('backstop cash: the price is held (escrow), the rest available', acc['cash_held'] + acc['cash_available'] == exact and acc['cash_held'] >= price
          if s.get('state') == 'paid' else acc['cash_available'] + acc['cash_held'] == exact, (acc, s.get('state')))
    if s.get('state') == 'awaiting_payment':
        await B.call('settlement.pay', settlement_id=sid)
    await a.call('settlement.confirm', settlement_id=sid, registration_no='REG-BS')
    d = await bank.call('disposal.get', case_id=d['case_id'])
    check('after confirm: closed, outcome backstop', d['state'] == 'closed' and d.get('outcome') == 'backstop', (d['state'], d.get('outcome')))
    p = pos(await B.call('account.get'), asset)
    check('the backstop holds the title', p is not None and p['units'] == 1, p)
    acc = await B.call('account.get')
    check('backstop paid exactly the price', acc['cash_available'] + acc['cash_held'] == exact - price, acc)
    bk = await bank.call('account.get')
    check('bank received the price (claim 2,000,000 CNY not reached)', bk['cash_available'] == price, bk)
run('w07', sc)
