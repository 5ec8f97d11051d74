"""Human-readable output: key/value tables and column tables, money in CNY, times local."""
import csv
import io
import json

from .units import fmt_money, fmt_time, fmt_bp, fmt_ratio, fmt_duration

MONEY = {"amount", "price", "start_price", "increment", "deposit", "reserve", "min_next_bid",
         "cash_available", "cash_held", "valuation", "claim", "loan_outstanding", "interest",
         "penalties", "costs", "hammer", "net_to_bank", "fund_share", "forfeited",
         "buyer_premium", "seller_commission", "amount_due", "max_amount", "tick", "floor",
         "decrement", "to_pledgee", "to_pledgor", "surplus", "shortfall", "paid"}
TIMES = {"now", "wall", "ts", "opens_at", "closes_at", "due_at", "expires_at", "expire_at",
         "opened_at", "valuation_date", "closed_at", "created_at", "paid_at", "confirmed_at"}
BPS = {"royalty_bp", "buyer_premium_bp", "seller_commission_bp", "maker_fee_bp", "taker_fee_bp",
       "price_bp", "share_bp", "start_bp", "deposit_bp", "cut_bp"}
RATIOS = {"recovery_rate", "discount"}
DURATIONS = {"interval_ms", "extend_window_ms", "extend_by_ms", "payment_ms", "notice_ms",
             "renotice_ms", "bidding_ms", "sell_off_ms"}


def fmt_value(key, v):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if key in MONEY and isinstance(v, int):
        return fmt_money(v)
    if key in TIMES and isinstance(v, (int, float)):
        return fmt_time(v)
    if key in BPS and isinstance(v, int):
        return fmt_bp(v)
    if key in RATIOS and isinstance(v, (int, float)):
        return fmt_ratio(v)
    if key in DURATIONS and isinstance(v, int):
        return fmt_duration(v)
    if key == "discount_by_round" and isinstance(v, list):
        return ", ".join(fmt_ratio(x) for x in v) or "-"
    if isinstance(v, list):
        if all(not isinstance(x, (dict, list)) for x in v):
            return ", ".join(str(x) for x in v) or "-"
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dict):
        return ", ".join(f"{k}={fmt_value(k, x)}" for k, x in v.items()) or "-"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _is_right(key):
    return key in MONEY or key in RATIOS or key in BPS or key in {
        "qty", "units", "units_held", "bids", "registered", "rounds", "bidders", "cases", "sold",
        "defaults", "seq", "filled_qty", "leaves_qty", "round", "days_to_sale", "days_to_cash",
        "days_to_registration"}


def kv_table(obj, keys=None, skip=(), title=None, labels=None):
    """A two-column table of an object's scalar fields; nested lists of objects are skipped
    (render them with table())."""
    labels = labels or {}
    keys = keys or [k for k in obj.keys()]
    rows = []
    for k in keys:
        if k in skip or k not in obj:
            continue
        v = obj[k]
        if isinstance(v, list) and v and isinstance(v[0], dict):
            continue
        rows.append((labels.get(k, k), fmt_value(k, v)))
    width = max((len(r[0]) for r in rows), default=0)
    out = [title] if title else []
    out += [f"{k.ljust(width)}  {v}" for k, v in rows]
    return "\n".join(out)


def table(rows, columns, title=None, headers=None, empty="(none)"):
    """A column table; columns are keys of the row dicts (or (key, function) pairs)."""
    headers = headers or {}
    cols = [(c, None) if isinstance(c, str) else c for c in columns]
    cells = [[headers.get(c, c) for c, _ in cols]]
    for r in rows:
        cells.append([(f(r) if f else fmt_value(c, r.get(c))) for c, f in cols])
    out = [title] if title else []
    if not rows:
        out.append(empty)
        return "\n".join(out)
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(cols))]
    for n, row in enumerate(cells):
        parts = []
        for i, (c, _) in enumerate(cols):
            s = str(row[i])
            parts.append(s.rjust(widths[i]) if _is_right(c) and n > 0 else s.ljust(widths[i]))
        out.append("  ".join(parts).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def to_csv(rows, columns=None):
    columns = columns or (list(rows[0].keys()) if rows else [])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        line = []
        for c in columns:
            v = r.get(c)
            if v is None:
                v = ""
            elif isinstance(v, list):
                v = ";".join(str(x) for x in v)
            elif isinstance(v, bool):
                v = "true" if v else "false"
            line.append(v)
        w.writerow(line)
    return buf.getvalue()


def push_line(p):
    """One line for a push: time, channel, seq, type, then the changed fields."""
    data = p.get("data")
    head = f"{fmt_time(p.get('ts'))}  {p.get('channel')}  #{p.get('seq')}  {p.get('type')}"
    if isinstance(data, dict):
        body = "  ".join(f"{k}={fmt_value(k, v)}" for k, v in data.items()
                         if not (isinstance(v, list) and v and isinstance(v[0], (dict, list))))
        nested = [k for k, v in data.items()
                  if isinstance(v, list) and v and isinstance(v[0], (dict, list))]
        for k in nested:
            body += f"  {k}={json.dumps(data[k], ensure_ascii=False)}"
    else:
        body = json.dumps(data, ensure_ascii=False)
    return f"{head}  {body}".rstrip()
