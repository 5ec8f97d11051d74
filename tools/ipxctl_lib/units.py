"""Parsing what people type (money, times, durations, percentages) and formatting what they read.

Rules (also in `ipxctl --help`):
  money     a plain integer is fen (the protocol's unit, what --json prints): 123456 = 1,234.56 CNY;
            a decimal point or a CNY / yuan / 元 suffix means yuan: 1234.56, 1234 CNY, 1,234.56 yuan;
            a `fen` suffix is explicit fen: 123456fen. Thousands separators need a decimal point
            or a unit (2,100,000 alone is refused as ambiguous).
  time      ms since the epoch (1766737200000), ISO 8601 (2026-01-15T10:00, local time unless it
            names a zone), `now`, or relative to the server's engine time: +30d, +2h, +90m, +1d12h.
  duration  ms (86400000) or with units: 30d, 2h, 5m, 30s, 500ms, 1d12h.
  share     basis points (7000), a percentage (70%) or 7000bp.
"""
import datetime as _dt
import re
from decimal import Decimal, InvalidOperation, ROUND_DOWN, ROUND_HALF_UP


class UsageError(Exception):
    """A value the user typed that we cannot read; exit 2."""


# ---------------------------------------------------------------------------------------- money
_MONEY_RE = re.compile(
    r"^\s*(?P<num>[+]?[0-9][0-9,]*(?:\.[0-9]*)?|[+]?\.[0-9]+)\s*(?P<unit>cny|yuan|元|rmb|¥|fen|分)?\s*$",
    re.IGNORECASE)


def parse_money(text):
    """Returns fen (int) from what a person typed; raises UsageError with the rule."""
    s = str(text).strip()
    if s.startswith("¥"):
        s = s[1:] + " cny"
    m = _MONEY_RE.match(s)
    if not m:
        raise UsageError(f"cannot read the amount {text!r}: write 1234.56 or '1234 CNY' (yuan), "
                         f"or 123456 / 123456fen (fen)")
    num, unit = m.group("num").lstrip("+"), (m.group("unit") or "").lower()
    has_point = "." in num
    digits = num.replace(",", "")
    if unit in ("fen", "分"):
        if has_point:
            raise UsageError(f"{text!r}: fen are whole numbers")
        return int(digits)
    if unit or has_point:
        try:
            yuan = Decimal(digits)
        except InvalidOperation:
            raise UsageError(f"cannot read the amount {text!r}")
        fen = yuan * 100
        if fen != fen.to_integral_value():
            raise UsageError(f"{text!r}: at most two decimals (1 fen = 0.01 CNY)")
        return int(fen)
    if "," in num:
        raise UsageError(f"{text!r} is ambiguous: write {digits}.00 or '{digits} CNY' for yuan, "
                         f"{digits}fen for fen (a plain integer is fen)")
    return int(digits)


def fmt_money(fen, unit=True):
    if fen is None:
        return "-"
    if isinstance(fen, bool) or not isinstance(fen, int):
        return str(fen)
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    s = f"{sign}{yuan:,}.{cents:02d}"
    return s + " CNY" if unit else s


def yuan_floor(fen):
    """Round down to a whole yuan (PROTOCOL: derived amounts)."""
    return (fen // 100) * 100


# ---------------------------------------------------------------------------------------- times
_DUR_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "min": 60_000, "h": 3_600_000, "d": 86_400_000,
              "w": 7 * 86_400_000, "y": 365 * 86_400_000}
_DUR_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(ms|min|s|m|h|d|w|y)", re.IGNORECASE)


def parse_duration(text):
    """ms from '30d', '2h', '1d12h', '500ms' or a plain integer (ms)."""
    s = str(text).strip().lstrip("+")
    if re.fullmatch(r"[0-9]+", s):
        return int(s)
    pos, total = 0, Decimal(0)
    for m in _DUR_PART.finditer(s):
        if m.start() != pos and s[pos:m.start()].strip():
            break
        total += Decimal(m.group(1)) * _DUR_UNITS[m.group(2).lower()]
        pos = m.end()
    if pos == 0 or s[pos:].strip():
        raise UsageError(f"cannot read the duration {text!r}: write 30d, 2h, 90m, 30s, 500ms, "
                         f"1d12h or plain ms")
    return int(total.to_integral_value(ROUND_DOWN))


class TimeSpec:
    """A time as typed: absolute ms, or relative to the server's engine time (resolved later)."""

    def __init__(self, text):
        self.text = text
        s = str(text).strip()
        self.relative = None
        self.absolute = None
        if s.lower() == "now":
            self.relative = 0
        elif s.startswith("+") or s.startswith("-") and not re.fullmatch(r"-[0-9]+", s):
            sign = -1 if s.startswith("-") else 1
            self.relative = sign * parse_duration(s[1:])
        elif re.fullmatch(r"[0-9]{9,}", s):
            self.absolute = int(s)
        else:
            try:
                d = _dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
            except ValueError:
                raise UsageError(f"cannot read the time {text!r}: write ms since the epoch, ISO 8601 "
                                 f"(2026-01-15T10:00, local time), now, or +30d / +2h (from the "
                                 f"server's engine time)")
            if d.tzinfo is None:
                d = d.astimezone()  # local time
            self.absolute = int(d.timestamp() * 1000)

    def resolve(self, now_ms):
        return self.absolute if self.absolute is not None else now_ms + self.relative

    def __repr__(self):
        return f"TimeSpec({self.text!r})"


def fmt_time(ms):
    if ms is None:
        return "-"
    if isinstance(ms, bool) or not isinstance(ms, (int, float)):
        return str(ms)
    d = _dt.datetime.fromtimestamp(ms / 1000).astimezone()
    return d.strftime("%Y-%m-%d %H:%M:%S %Z")


def fmt_duration(ms):
    if ms is None:
        return "-"
    neg = ms < 0
    ms = abs(int(ms))
    parts = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms >= size:
            parts.append(f"{ms // size}{unit}")
            ms %= size
    if ms or not parts:
        parts.append(f"{ms}ms")
    return ("-" if neg else "") + "".join(parts[:2])


# ------------------------------------------------------------------------------------- shares
def parse_bp(text):
    """Basis points from '70%', '7000bp' or '7000'."""
    s = str(text).strip().lower()
    try:
        if s.endswith("%"):
            v = Decimal(s[:-1]) * 100
        elif s.endswith("bp"):
            v = Decimal(s[:-2])
        else:
            v = Decimal(s)
    except InvalidOperation:
        raise UsageError(f"cannot read the share {text!r}: write 70% or 7000bp (basis points)")
    if v != v.to_integral_value():
        raise UsageError(f"{text!r}: basis points are whole (0.01% steps)")
    return int(v)


def fmt_bp(bp):
    if bp is None:
        return "-"
    return f"{Decimal(bp) / 100:f}%"


def fmt_ratio(x):
    if x is None:
        return "-"
    pct = (Decimal(str(x)) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{pct}%"
