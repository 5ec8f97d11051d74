"""The live progress line: a bar redrawn in place on a terminal, plain lines otherwise."""
import datetime
import shutil
import sys
import time

STATE_ORDER = ["round_1", "round_2", "round_3", "sell_off", "settlement", "closed"]
SHORT = {"round_1": "r1", "round_2": "r2", "round_3": "r3", "sell_off": "sell-off",
         "settlement": "settling", "closed": "closed"}


def sim_date(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone(datetime.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")


class Progress:
    def __init__(self, total_cases, quiet=False, stream=sys.stdout):
        self.total = total_cases
        self.stream = stream
        self.tty = stream.isatty() and not quiet
        self.quiet = quiet
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.width = 0
        self.states = {}
        self.bids = 0
        self.trades = 0
        self.now = 0

    def update(self, states=None, bids=None, trades=None, now=None, force=False):
        if states is not None:
            self.states = states
        if bids is not None:
            self.bids = bids
        if trades is not None:
            self.trades = trades
        if now is not None:
            self.now = now
        t = time.monotonic()
        period = 0.1 if self.tty else 5.0
        if not force and t - self.last_draw < period:
            return
        self.last_draw = t
        self.draw()

    def line(self):
        elapsed = max(time.monotonic() - self.started, 1e-6)
        closed = self.states.get("closed", 0)
        frac = closed / self.total if self.total else 1.0
        counts = " ".join(f"{SHORT.get(s, s)} {self.states[s]}" for s in STATE_ORDER if self.states.get(s))
        return (f"{int(frac * 100):3d}% | cases {counts or '-'} | bids {self.bids} "
                f"({self.bids / elapsed:.0f}/s) | trades {self.trades} | {sim_date(self.now)} | {elapsed:.0f}s"), frac

    def draw(self):
        text, frac = self.line()
        if self.quiet:
            return
        if self.tty:
            bar_w = 24
            filled = int(frac * bar_w)
            cols = shutil.get_terminal_size((120, 24)).columns
            out = f"\r[{'#' * filled}{'.' * (bar_w - filled)}] {text}"[: cols]
            pad = max(0, self.width - len(out))
            self.width = len(out)
            self.stream.write(out + " " * pad)
        else:
            self.stream.write(f"progress: {text}\n")
        self.stream.flush()

    def message(self, text):
        """A line of its own (an event worth telling), without breaking the bar."""
        if self.quiet:
            return
        if self.tty:
            self.stream.write("\r" + " " * self.width + "\r")
            self.width = 0
        self.stream.write(text + "\n")
        self.stream.flush()
        if self.tty:
            self.draw()

    def finish(self):
        self.update(force=True)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
