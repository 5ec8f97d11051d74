"""The end of the pilot: the bank report (from report.disposals), the reconciliation, the checks."""
import os
import subprocess

from progress import sim_date
from world import YUAN


def cny(fen):
    return f"{fen / YUAN:,.0f}"


def pct(x):
    return "-" if x is None else f"{x * 100:.1f}%"


def avg(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def days(x):
    return "-" if x is None else f"{x:.1f}"


def table(title, headers, rows, right=None):
    """Prints an aligned table; columns listed in `right` (all but the first by default) align right."""
    right = set(range(1, len(headers))) if right is None else set(right)
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    def fmt(r):
        return "  ".join(c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(r))
    print(f"\n{title}")
    print(fmt(headers))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print(fmt(r))


def sale_round(info):
    """How a closed case ended: 'round 1', 'round 2', 'sell-off', 'backstop', 'in lieu', ..."""
    if info is None:
        return "-"
    if info.get("outcome") == "backstop":
        return "backstop"
    if info.get("outcome") == "in_lieu":
        return "in lieu"
    if info.get("outcome") == "released":
        return "released"
    for rd in reversed(info["rounds"]):
        if rd["state"] == "sold":
            return "sell-off" if rd["kind"] == "sell_off" else f"round {rd['round']}"
    return info["state"]


AGG_HEADERS = ["cases", "sold", "claim CNY", "hammer CNY", "net to bank", "fund share", "recovery",
               "hammer/val", "discount", "rounds/case", "defaults", "days to sale", "days to cash", "days to reg."]


def agg_cells(a, rows):
    return [a["cases"], a["sold"], cny(a["claim"]), cny(a["hammer"]), cny(a["net_to_bank"]), cny(a["fund_share"]),
            pct(a["recovery_rate"]), pct(a["discount"]), pct(None if a["discount"] is None else 1 - a["discount"]),
            f"{a['rounds'] / a['cases']:.2f}" if a["cases"] else "-", a["defaults"],
            days(avg(r["days_to_sale"] for r in rows)), days(avg(r["days_to_cash"] for r in rows)),
            days(avg(r["days_to_registration"] for r in rows))]


SUMS = ["cases", "sold", "claim", "hammer", "net_to_bank", "fund_share", "valuation", "rounds", "defaults"]


def sums_of(rows):
    out = {k: 0 for k in SUMS}
    for r in rows:
        out["cases"] += 1
        out["sold"] += 1 if r["state"] == "closed" and r["outcome"] not in ("released", "in_lieu") else 0
        for k in SUMS[2:]:
            out[k] += r[k]
    return out


async def final(p, wall):
    checks = []

    def check(name, ok, detail=""):
        checks.append((name, bool(ok), detail))

    op = p.operator
    rep = await p.call(op, "report.disposals")
    rows, totals = rep["rows"], rep["totals"]
    rows.sort(key=lambda r: int(r["case_id"].split("-")[-1]) if r["case_id"].split("-")[-1].isdigit() else 0)
    name = {a.id: a.name for a in p.actors.values()}
    short = {b.id: b.spec.get("short", b.name) for b in p.banks}
    infos = {c.id: c.info for c in p.cases if c.id}
    for cid in list(infos):
        infos[cid] = await p.call(op, "disposal.get", case_id=cid)

    print(f"\n== Bank report: report.disposals at {sim_date(p.now)} (engine time, Beijing) ==")
    print("recovery = (net cash to the bank + risk fund share) / claim; hammer/val = hammer price / valuation;"
          " discount = 1 - hammer/val; days from the case's opening")
    bank_rows = [[name.get(b["bank"], b["bank"])] + agg_cells(b, [r for r in rows if r["bank"] == b["bank"]])
                 for b in totals["by_bank"]]
    bank_rows.append(["all banks"] + agg_cells(totals, rows))
    table("By bank", ["bank"] + AGG_HEADERS, bank_rows)
    region_rows = [[g["region"]] + agg_cells(g, [r for r in rows if r["region"] == g["region"]])
                   for g in totals["by_region"]]
    region_rows.append(["all regions"] + agg_cells(totals, rows))
    table("By region", ["region"] + AGG_HEADERS, region_rows)
    case_rows = []
    for r in rows:
        info = infos.get(r["case_id"])
        case = p.case_by_id.get(r["case_id"])
        case_rows.append([r["case_id"], short.get(r["bank"], r["bank"]), r["region"], r["industry"],
                          case.patent["asset_id"] if case else "", cny(r["valuation"]), cny(r["claim"]),
                          r["outcome"] or r["state"], sale_round(info), r["rounds"], cny(r["hammer"]),
                          pct(r["hammer"] / r["valuation"] if r["hammer"] else None),
                          pct(r["recovery_rate"]), cny(r["fund_share"]), r["defaults"],
                          days(r["days_to_sale"]), days(r["days_to_cash"]), days(r["days_to_registration"])])
    table("Cases", ["case", "bank", "region", "industry", "patent", "valuation", "claim", "outcome", "sold in", "rounds",
                    "hammer", "hammer/val", "recovery", "fund share", "defaults", "sale d", "cash d", "reg. d"],
          case_rows, right={5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17})

    # ---- what happened, in numbers ---------------------------------------------------------
    ends = [sale_round(infos.get(r["case_id"])) for r in rows]
    count = {k: ends.count(k) for k in sorted(set(ends))}
    plays = list(p.plays.values())
    ties_won = [pl for pl in plays if pl.state == "sold" and pl.ties and pl.ties[-1][0] == pl.winner]
    extensions = sum(pl.extensions for pl in plays)
    proxies = sum(1 for pl in plays for e in pl.entries if e.style == "proxy" and e.proxy_set)
    fund_cases = [r for r in rows if r["fund_share"] > 0]
    below_claim = [r for r in rows if r["outcome"] in ("sold", "backstop") and r["hammer"] < r["claim"]]
    print("\n== What happened ==")
    print(f"cases: {len(rows)}; ended: " + ", ".join(f"{k} {v}" for k, v in count.items()))
    print(f"bids: {p.bids()} in {len(plays)} auctions ({p.bids() / wall:.0f} bids/s over {wall:.0f} s wall time), "
          f"{proxies} proxy bidders, {extensions} soft-close extensions, {len(ties_won)} co-owner tie wins")
    print(f"defaults: {sum(r['defaults'] for r in rows)} (deposit forfeited {cny(sum(r['forfeited'] for r in rows))} CNY); "
          f"barred re-registrations refused: {sum(1 for pl in plays for e in pl.entries if e.refused == 'NOT_QUALIFIED')}")
    print(f"risk fund: paid {cny(sum(r['fund_share'] for r in rows))} CNY in {len(fund_cases)} cases "
          f"({len(below_claim)} sold below the claim)")
    lp = p.listing
    if lp is not None:
        who = p.codes.get((lp.id, lp.winner))
        regions = sorted({e.actor.region for e in lp.entries if e.code})
        print(f"transfer listing {lp.id} ({p.lister.region}): {len([e for e in lp.entries if e.code])} registrants from "
              f"{', '.join(regions)}; format now {lp.format}; {lp.state}"
              + (f" at {cny(lp.price)} CNY to {who.name} ({who.region}) after {lp.bids} bids" if who else ""))
    if p.trade_units:
        print(f"licence units: {p.orders} orders, {p.trades} trades, {p.trade_units} units, "
              f"{cny(p.trade_value)} CNY (avg {cny(p.trade_value // p.trade_units)} CNY a unit)")

    # ---- reconciliation --------------------------------------------------------------------
    print("\n== Reconciliation ==")
    tool = p.args.ledger_tool
    if tool and os.access(tool, os.X_OK) and p.args.pg:
        try:
            r = subprocess.run([tool, "reconcile", "--pg", p.args.pg], capture_output=True, text=True, timeout=300)
            out = (r.stdout + r.stderr).strip()
            print(f"ipx-ledger reconcile: exit {r.returncode}")
            for line in out.splitlines()[-20:]:
                print(f"  {line}")
            if r.returncode == 3:
                # The tool's "no ledger rows stored": this ipxd does not write ledger rows yet.
                print("  (exit 3: this ipxd does not store ledger rows yet; not counted as a failure)")
            else:
                check("ipx-ledger reconcile passes", r.returncode == 0, f"exit {r.returncode}")
        except (OSError, subprocess.TimeoutExpired) as e:
            print(f"ipx-ledger reconcile: could not run: {e}")
            check("ipx-ledger reconcile runs", False, str(e))
    else:
        print(f"ipx-ledger reconcile: skipped ({tool or 'no tool given'} not built yet)")
    total_cash = 0
    accounts = {}
    for a in p.actors.values():
        acct = await p.call(op, "account.get", participant_id=a.id)
        accounts[a.id] = acct
        total_cash += acct["cash_available"] + acct["cash_held"]
    diff = total_cash - p.total_funded
    if diff == 0:
        print(f"ledger balanced: participants' cash {cny(total_cash)} CNY = total funding {cny(p.total_funded)} CNY "
              f"({len(accounts)} accounts)")
    else:
        print(f"ledger NOT balanced: participants' cash {cny(total_cash)} CNY, total funding {cny(p.total_funded)} CNY, "
              f"difference {diff / YUAN:,.2f} CNY")
    check("participants' cash sums to total funding", diff == 0, f"difference {diff} fen")
    fund_paid = p.world.risk_fund["funding"] - accounts[p.fund.id]["cash_available"] - accounts[p.fund.id]["cash_held"]
    check("the risk fund's account fell by the fund shares in the report",
          fund_paid == sum(r["fund_share"] for r in rows), f"account {fund_paid}, report {sum(r['fund_share'] for r in rows)}")

    # ---- checks ------------------------------------------------------------------------------
    mine = sums_of(rows)
    check("report totals agree with its rows", all(mine[k] == totals[k] for k in SUMS),
          ", ".join(f"{k} {mine[k]}/{totals[k]}" for k in SUMS if mine[k] != totals[k]))
    for key, field in (("by_bank", "bank"), ("by_region", "region")):
        bad = [g[field] for g in totals[key]
               if any(sums_of([r for r in rows if r[field] == g[field]])[k] != g[k] for k in SUMS)]
        check(f"report {key} agrees with its rows", not bad, ", ".join(bad))
    check("at least 20 disposal cases", len(rows) >= 20, str(len(rows)))
    check("every case closed", all(r["state"] == "closed" for r in rows),
          ", ".join(r["case_id"] for r in rows if r["state"] != "closed"))
    check("six industries and four regions",
          len({r["industry"] for r in rows}) >= 6 and len({r["region"] for r in rows}) >= 4)
    check("at least 30 bidders", len(p.bidders) >= 30, str(len(p.bidders)))
    check("some cases sold in round 1", count.get("round 1", 0) >= 1)
    check("some cases sold in round 2 at the reduced start", count.get("round 2", 0) >= 1)
    check("some cases sold in the sell-off", count.get("sell-off", 0) >= 1)
    check("one case went to the backstop buyer", count.get("backstop", 0) >= 1)
    check("a winner defaulted and the round re-ran and sold",
          any(r["defaults"] > 0 and r["outcome"] == "sold" for r in rows))
    check("the defaulter was barred from the re-run",
          any(e.refused == "NOT_QUALIFIED" for pl in plays for e in pl.entries if e.style == "barred"))
    check("the risk fund paid its share of a shortfall", fund_cases and below_claim)
    check("a co-owner won on a tie with its priority right", ties_won)
    check("soft-close extensions happened", extensions > 0)
    check("the transfer listing turned into an English auction and sold",
          lp is not None and lp.format == "english" and lp.state == "sold")
    check("every sale paid and confirmed",
          all(v in ("confirmed", "default") for v in p.settlements.values()),
          ", ".join(f"{k}:{v}" for k, v in p.settlements.items() if v not in ("confirmed", "default")))
    check("the licence-unit market traded", p.trades >= 5, f"{p.trades} trades")
    check("no unexpected protocol errors", not p.unexpected, "; ".join(p.unexpected[:5]))
    check("no scenario failures", not p.failures, "; ".join(p.failures[:5]))

    print("\n== Checks ==")
    for n, ok, detail in checks:
        print(f"  {'ok  ' if ok else 'FAIL'}  {n}" + (f"  ({detail})" if detail and not ok else ""))
    ok = all(c[1] for c in checks)
    print(f"\npilot {'passed' if ok else 'FAILED'}: {sum(c[1] for c in checks)}/{len(checks)} checks, "
          f"{p.requests} requests, {p.steps} clock steps, {wall:.0f} s")
    return ok
