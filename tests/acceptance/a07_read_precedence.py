# Audit a (reads, visibility, access): the order of checks on reads and subscriptions with more than one failing check.
# PROTOCOL "Edges and precedence": "Checks run in this order, and the first that fails gives the code: ... the method
# exists and its params are well formed (BAD_REQUEST ...); the role may use the method (FORBIDDEN); the objects named
# exist and are the caller's to touch (NOT_FOUND)". Error codes: "FORBIDDEN (the role may not use this method or channel)",
# "BAD_REQUEST (... bad values)"; Values: "regions: lowercase identifiers"; "A rejected request changes nothing".
# A subscribe naming several channels is one request: a malformed channel name anywhere in it makes the params not well
# formed (BAD_REQUEST), a channel the role may not use makes it FORBIDDEN, whatever the position in the list, and only
# then does a missing object give NOT_FOUND.
#
# Failed against the audited server (d927508): report.disposals checked the region after the role, and subscribe
# gave the code of the first refused channel in list order. Both fixed in session 13.
from common import *

async def sc(ctx):
    a = ctx.adm
    bank = await ctx.mk('bank'); bank2 = await ctx.mk('bank'); own = await ctx.mk('enterprise')
    X = await ctx.mk('individual', fund=10_000_000); bs = await ctx.mk('backstop'); rf = await ctx.mk('risk_fund')
    aid, cid, r1 = await new_case(ctx, bank, own, 10_000_000, region='deyang')

    # ---------- report.disposals: a bad region value with a role that may not call it
    for region in ('Deyang', '', 'de yang'):
        e = await bank.errm('report.disposals', region=region)
        check(f'control: report.disposals region {region!r} by a bank -> BAD_REQUEST naming region', e[0] == 'BAD_REQUEST' and 'region' in e[1], e)
    for k, c in (('trader', X), ('backstop', bs), ('risk_fund', rf)):
        for region in ('Deyang', ''):
            e = await c.errm('report.disposals', region=region)
            check(f'report.disposals region {region!r} by {k} -> BAD_REQUEST (params before role)', e[0] == 'BAD_REQUEST', e)
        e = await c.errm('report.disposals', region='deyang')
        check(f'control: report.disposals well formed by {k} -> FORBIDDEN', e[0] == 'FORBIDDEN', e)
    e = await X.errm('report.disposals', **{'from': 'yesterday'})
    check('control: report.disposals from as a string by a trader -> BAD_REQUEST', e[0] == 'BAD_REQUEST', e)

    # ---------- subscribe lists with two failing checks, in both orders
    _, A = await new_auction(ctx, own)
    cases = [
        ('a trader', X, [f'auction.A-missing', f'disposal.{cid}'], 'FORBIDDEN'),
        ('a trader', X, [f'disposal.{cid}', 'auction.A-missing'], 'FORBIDDEN'),
        ('a trader', X, ['book.MISSING', f'disposal.{cid}'], 'FORBIDDEN'),
        ('a trader', X, ['auction.A-missing', 'nonsense.x'], 'BAD_REQUEST'),
        ('a trader', X, ['nonsense.x', 'auction.A-missing'], 'BAD_REQUEST'),
        ('a trader', X, [f'disposal.{cid}', 'nonsense.x'], 'BAD_REQUEST'),
        ('a trader', X, ['nonsense.x', f'disposal.{cid}'], 'BAD_REQUEST'),
        ('a bank', bank2, [f'disposal.{cid}', 'nonsense.y'], 'BAD_REQUEST'),
        ('a bank', bank2, ['nonsense.y', f'disposal.{cid}'], 'BAD_REQUEST'),
        ('a trader', X, [f'auction.{A}', 'auction.A-missing'], 'NOT_FOUND'),
        ('a trader', X, ['private', f'disposal.{cid}'], 'FORBIDDEN'),
        ('a bank', bank2, [f'auction.{A}', f'disposal.{cid}'], 'NOT_FOUND'),
    ]
    for who, c, chs, want in cases:
        e = await c.errm('subscribe', channels=chs)
        nice = [ch.replace(cid, '<case>') for ch in chs]
        check(f'subscribe {nice} by {who} -> {want}', e[0] == want, e)
        check(f'...{nice}: nothing subscribed, no push', e[0] != 'OK' and not await c.drain(0.15))
    # nothing was subscribed by any refused call: a bid and a funding reach neither X nor bank2
    for c in (X,): await c.call('auction.register', auction_id=A)
    await X.call('auction.bid', auction_id=A, amount=1_000_000)
    await a.call('account.fund', participant_id=X.pid, amount=1)
    check('after the refused subscribes: no auction or private push reached X', not await X.drain(0.3))
    check('after the refused subscribes: no push reached bank2', not await bank2.drain(0.1))
run('a07', sc)
