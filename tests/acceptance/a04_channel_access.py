# Audit a (reads, visibility, access): who may subscribe to which channel, and what each push shows.
# PROTOCOL: "subscribe / unsubscribe | anyone logged in | channels[] -> channels[]; then for each, a snapshot push";
# "disposal.<case_id> (operator and that case's bank only), private (the participant's own orders, fills, deposits,
# settlements, balances)"; "book ... data: {bids: [[price, qty], ...], asks: ...}"; "trades ... no identities";
# the objects named must exist (NOT_FOUND); "A rejected request changes nothing"; sealed formats: "amounts, price, leader
# and min_next_bid are null until close" (checked here also on the added read auction.list); another bank's case is
# NOT_FOUND (checked also on the added disposal.list).
from common import *

async def sc(ctx):
    a = ctx.adm
    op = await ctx.mk('operator'); bank = await ctx.mk('bank'); bank2 = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=50_000_000); Y = await ctx.mk('individual', fund=50_000_000)
    bs = await ctx.mk('backstop', fund=1_000); rf = await ctx.mk('risk_fund')
    a.pid = 'admin'
    roles = {'admin': a, 'operator': op, 'bank': bank, 'trader': X, 'backstop': bs, 'risk_fund': rf}
    pids = [f'"{c.pid}"' for c in (op, bank, bank2, own, X, Y, bs, rf)]   # quoted: P-1 is not found inside P-10
    _, A = await new_auction(ctx, own)
    masset = await new_asset(ctx, own)
    await own.call('market.create', market_id='MA', asset_id=masset, licence=LIC, tick=10, min_qty=1)
    await own.call('units.issue', market_id='MA', qty=100)
    await own.call('order.place', market_id='MA', side='sell', type='limit', price=1000, qty=10, tif='gtc', client_order_id='s1')
    await X.call('order.place', market_id='MA', side='buy', type='limit', price=900, qty=5, tif='gtc', client_order_id='b1')

    # ---------- public channels: every role, same snapshot
    chans = [f'auction.{A}', 'book.MA', 'trades.MA', 'private']
    snaps = {}
    for k, c in roles.items():
        e = await c.errm('subscribe', channels=chans)
        ps = await c.drain(0.3)
        snaps[k] = {m['channel']: m for m in ps if m['type'] == 'snapshot'}
        check(f'{k} subscribes auction, book, trades, private -> ok, 4 snapshots', e[0] == 'OK' and sorted(e[1]['channels']) == sorted(chans)
              and set(snaps[k]) == set(chans), (e, [(m['channel'], m['type']) for m in ps]))
    for ch in ('book.MA', f'auction.{A}', 'trades.MA'):
        vals = {k: (s[ch]['seq'], s[ch]['data']) for k, s in snaps.items() if ch in s}
        check(f'{ch}: every role gets the same snapshot (seq, data)', len({json.dumps(v, sort_keys=True) for v in vals.values()}) == 1, vals)
    bk = snaps['risk_fund'].get('book.MA', {}).get('data')
    check('book snapshot = {bids: [[900, 5]], asks: [[1000, 10]]}, nothing else', bk == {'bids': [[900, 5]], 'asks': [[1000, 10]]}, bk)
    for k, s in snaps.items():
        p = s.get('private', {})
        leak = [x for x in pids if x != f'"{roles[k].pid}"' and x in json.dumps(p)]
        check(f'private snapshot of {k}: no other participant id', p and not leak, (leak, p))
        pub = json.dumps([s.get(ch) for ch in ('book.MA', f'auction.{A}', 'trades.MA')])
        check(f'public snapshots to {k}: no participant id', not [x for x in pids if x in pub], pub[:300])
    print('  info: private snapshot data (trader X):', snaps['trader'].get('private', {}).get('data'))

    # ---------- a trade, a deposit and a funding: private pushes only to their owners; public pushes without identities
    await Y.call('subscribe', channels=['private']); await own.call('subscribe', channels=['private'])
    await Y.drain(0.2); await own.drain(0.05)
    await Y.call('order.place', market_id='MA', side='buy', type='limit', price=1000, qty=4, tif='gtc', client_order_id='y1')
    await Y.call('auction.register', auction_id=A)
    for c in (bank, bs, rf, op): await a.call('account.fund', participant_id=c.pid, amount=777)
    got = {k: await c.drain(0.3 if k == 'admin' else 0.05) for k, c in roles.items()}
    gy = await Y.drain(0.05); go = await own.drain(0.05)
    for k, ps in got.items():
        priv = [m for m in ps if m['channel'] == 'private']
        pub = [m for m in ps if m['channel'] != 'private']
        leak = [x for x in pids if x in json.dumps(pub)]
        check(f'public pushes to {k} after a trade and a registration: no participant id', not leak, (leak, [m['data'] for m in pub]))
        if k in ('bank', 'backstop', 'risk_fund', 'operator'):
            check(f"{k}'s private channel gets its own funding (cash_available {777 + (1000 if k == 'backstop' else 0)})",
                  any(m['data'].get('cash_available') == 777 + (1000 if k == 'backstop' else 0) for m in priv), [(m['type'], m['data']) for m in priv])
        oth = [x for x in pids if x != f'"{roles[k].pid}"' and x in json.dumps(priv)]
        check(f"{k}'s private channel: nothing of Y's trade or deposit, no other participant id", not oth
              and not any(m['type'] in ('fill', 'deposit') for m in priv), [(m['type'], m['data']) for m in priv])
    tp = [m for m in got['trader'] if m['channel'] == 'trades.MA']
    check('trades push fields only trade_id, price, qty, aggressor_side', tp and all(set(m['data']) <= {'trade_id', 'price', 'qty', 'aggressor_side'} for m in tp), tp)
    bp = [m for m in got['trader'] if m['channel'] == 'book.MA']
    check('book update pushes carry only changes [[side, price, qty]]', bp and all(set(m['data']) == {'changes'} and all(len(c) == 3 for c in m['data']['changes']) for m in bp), bp)
    check("Y's private: its fill and its deposit", any(m['type'] == 'fill' for m in gy) and any('deposit' in json.dumps(m) or m['data'].get('cash_held') for m in gy),
          [(m['type'], m['data']) for m in gy])
    check("seller's private: its fill, not Y's id", any(m['type'] == 'fill' for m in go) and Y.pid not in json.dumps(go), [(m['type'], m['data']) for m in go])

    # ---------- channels that are not the caller's, malformed, or missing
    for nm in (f'private.{Y.pid}', f'private.{X.pid}', 'private.'):
        e = await X.errm('subscribe', channels=[nm])
        ps = await X.drain(0.2)
        print(f'  info: subscribe {nm!r} by X ->', e[0])
        check(f'subscribe {nm!r} by X: refused, or nothing of Y', (e[0] != 'OK' and not ps) or f'"{Y.pid}"' not in json.dumps(ps), (e, ps))
    for nm in ('nonsense.x', '', 'auction', 'book.', 'PRIVATE'):
        e = await X.errm('subscribe', channels=[nm])
        print(f'  info: subscribe {nm!r} ->', e)
        check(f'subscribe {nm!r} -> refused (BAD_REQUEST or NOT_FOUND), no push', e[0] in ('BAD_REQUEST', 'NOT_FOUND') and not await X.drain(0.1), e)
    for nm in ('book.NOPE', 'trades.NOPE', 'auction.A-999'):
        for k, c in (('trader', X), ('operator', op)):
            e = await c.errm('subscribe', channels=[nm])
            check(f'subscribe {nm} (missing) by {k} -> NOT_FOUND', e[0] == 'NOT_FOUND', e)
    aid_, cid, r1 = await new_case(ctx, bank, own, 10_000_000)
    # a refused subscribe list subscribes nothing, even the allowed channel in it
    await Y.call('unsubscribe', channels=['private']); await Y.drain(0.1)
    e = await Y.errm('subscribe', channels=['private', f'disposal.{cid}'])
    check('trader subscribe [private, disposal.<case>] -> FORBIDDEN', e[0] == 'FORBIDDEN', e)
    await a.call('account.fund', participant_id=Y.pid, amount=5)
    check('...and private was not subscribed by the refused call (no snapshot, no balance push)', not await Y.drain(0.3))
    e = await bank2.errm('subscribe', channels=[f'auction.{r1}', f'disposal.{cid}'])
    check("bank subscribe [auction.<round>, another bank's disposal] -> NOT_FOUND", e[0] == 'NOT_FOUND', e)
    check('...no snapshot for the auction either', not await bank2.drain(0.3))
    e = await X.errm('unsubscribe', channels=[f'auction.{r1}'])
    print('  info: unsubscribe from a channel never subscribed ->', e)

    # ---------- added reads: auction.list (sealed stays hidden, no ids), disposal.list (own cases only)
    _, S = await new_auction(ctx, own, fmt='sealed_first')
    for c in (X, Y): await c.call('auction.register', auction_id=S)
    await X.call('auction.bid', auction_id=S, amount=1_370_000); await Y.call('auction.bid', auction_id=S, amount=1_250_000)
    for k, c in roles.items():
        e = await c.errm('auction.list')
        if e[0] != 'OK':
            print(f'  info: auction.list by {k} ->', e[0]); continue
        rows = [r for r in e[1].get('auctions', []) if r.get('auction_id') == S]
        check(f'auction.list by {k}: the open sealed auction has price/leader/min_next_bid null, no amounts',
              rows and rows[0].get('price') is None and rows[0].get('leader') is None and rows[0].get('min_next_bid') is None
              and '1370000' not in json.dumps(e[1]) and '1250000' not in json.dumps(e[1]), rows)
        check(f'auction.list by {k}: no participant id', not [x for x in pids if x in json.dumps(e[1])], e[1])
        g = await c.call('auction.get', auction_id=S)
        check(f'auction.list row by {k} = auction.get', rows and all(rows[0].get(f) == g.get(f) for f in g), (rows, g))
    await new_case(ctx, bank2, own, 5_000_000)
    for k, c, n in (('bank', bank, 1), ('bank2', bank2, 1), ('operator', op, 2)):
        e = await c.errm('disposal.list')
        print(f'  info: disposal.list by {k} ->', e[0], str(e[1])[:200])
        if e[0] == 'OK':
            s = json.dumps(e[1])
            check(f'disposal.list by {k}: {n} case(s)', s.count('"case_id"') == n, e[1])
            if k == 'bank2':
                check("disposal.list by bank2: not the first bank's case", f'"{cid}"' not in s, e[1])
    for k, c in (('owner', own), ('operator', op), ('pledgee bank', bank), ('other trader', X), ('other bank', bank2), ('backstop', bs)):
        e = await c.errm('asset.get', asset_id=aid_)
        print(f'  info: asset.get of a pledged asset by {k} ->', e[0], str(e[1])[:250])
run('a04', sc)
