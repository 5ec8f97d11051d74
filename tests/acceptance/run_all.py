#!/usr/bin/python3
"""Runs every acceptance scenario (qNN_*.py ... zNN_*.py here), each against its own fresh
database and ipxd.

The scenarios were written from ../shared/PROTOCOL.md and DOMAIN.md alone, as an outside
client would (audits by helpers in sessions 10 and 11; not from the server's code or docs/):
rNN the DOMAIN.md rules (disposals, auctions, licences, backstops, reports, idempotency,
subscriptions), sNN the envelope, logins, the order book, its channels, HTTP and a restart;
tNN (a third audit) roles, params, states, bounds, transport limits, startup, journal outage, pushes;
uNN (a fourth) money in fen (claims, defaults, backstops, fees), reports, restarts, timing edges;
vNN (a fifth) idempotency on every method, channels, sealed and proxy bids, pushes merged onto snapshots;
wNN (a sixth) the order of checks, priority and soft close, licence overlap, traditional rounds, backstop prices, Dutch clocks;
xNN (a seventh, hostile) JSON and frame edges, int64 edges in the ledger, auctions and time;
yNN (an eighth, hostile) sequences: double listings, settlement states, orders and timers.
zNN (a ninth) concurrent clients over real sockets (bid races, idempotent retries, one market), report aggregates and CSV.
qNN (a tenth) running the server as an operator (--config, admin credentials, start failures, migrations, TLS, --edge with Redis),
    fixed-price listings and licence kinds end to end with the ledger.
pNN (a twelfth) disposals in fen at their edges: plan bounds and the 56 % floor, traditional rounds and commission caps, in lieu with several pledgees, forfeits and the risk fund, late sell-off bids, failures, backstop choice, case pushes and reports.
kNN (a seventeenth) a trader's and a bank asset manager's day in fen: accounts and private pushes after every step, pledges in order, proceeds.
nNN (an eleventh) every stated default and number over the wire: disposal and auction defaults, orders, channels, error codes.
mNN (a sixteenth) crashes: kill -9 and SIGTERM while clients send, durability of replies, idempotent retries, timers and snapshots after restart.
jNN (an eighteenth, hostile) sequences across objects: a patent sold or disposed with a live unit market, pledges and listings during a case, in lieu and backstop round trips, late confirmations; balances checked before and after.
bNN (an outside audit) what a sale does to titles, licences and money per format and purpose: every format for transfer and licences, settlement steps by wrong roles and at deadlines, disposal titles and pledges, co-owners, licence markets and terms.
aNN (an audit of reads, visibility and access) every read and channel for every role: auction views and sealed/proxy secrecy,
    settlement/case/report access, request_id on reads, channel access and identities, pushes without reads, check order on lists.
dNN (an outside audit of the continuous book) STP modes level by level, holds and maker/taker fees in fen, order.replace, book/trades/private pushes with GTD expiry, client_order_id and request_id replays, the order of the order rules.
cNN (an audit of invariants under concurrent, seeded random use) orders on several markets, auctions of every format with settlements: money, units, holds, books, channel seqs, fills, idempotent retries.
eNN (an audit of the least-covered DOMAIN rules at their bounds) fixed-price listings and their turn, the risk-fund share and claim at the fen, sealed reserves and priority ties, a window longer than the extension, release vs a matching backstop.
fNN (an audit of engine time) one time.advance over ~40 timers of every kind (pushes and records at their due times, in order), one step vs ~150 small steps on two servers, bounds reached by jumps, advances racing bids, Dutch closes, now vs wall.
gNN (an outside audit of pledges, banks and claims) pledge fields and consent scope, licence money during a case, disposal.open preconditions, backstop payouts to several pledgees and what each bank sees.
Each prints one line per check ("ok" or "FAIL") and ends with PASS or FAIL.

  /usr/bin/python3 tests/acceptance/run_all.py --ipxd build/release/gateway/ipxd [r05 r09 ...]

Needs IPX_PG (`eval "$(tools/ipx services env)"`). Exit 0 when every scenario passes, 1 when
one fails, 2 when it cannot run."""
import argparse, os, shutil, signal, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))


def drop_databases_of(pid):
    """The databases a killed scenario (lib.Server: acceptance_<name>_<pid>) left behind."""
    pg = os.environ['IPX_PG']
    q = subprocess.run(['psql', pg, '-Atc', f"SELECT datname FROM pg_database WHERE datname LIKE 'acceptance%\\_{pid}'"],
                       capture_output=True, text=True)
    for db in q.stdout.split():
        subprocess.run(['psql', pg, '-qc', f'DROP DATABASE IF EXISTS {db} WITH (FORCE)'], capture_output=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ipxd', required=True)
    ap.add_argument('only', nargs='*', help='name prefixes of the scenarios to run (default: all)')
    a = ap.parse_args()
    if not os.environ.get('IPX_PG'):
        print('acceptance: IPX_PG is not set (eval "$(tools/ipx services env)")', file=sys.stderr)
        return 2
    if not os.access(a.ipxd, os.X_OK):
        print(f'acceptance: {a.ipxd} is not an executable', file=sys.stderr)
        return 2
    logs = tempfile.mkdtemp(prefix='ipx-acceptance-')
    env = dict(os.environ, IPX_IPXD=os.path.abspath(a.ipxd), IPX_ACCEPTANCE_LOGS=logs)
    names = sorted(n for n in os.listdir(HERE) if n[:1] in ('a', 'b', 'c', 'd', 'e', 'f', 'g', 'j', 'k', 'm', 'n', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z') and n[1:3].isdigit() and n.endswith('.py'))
    if a.only:
        names = [n for n in names if any(n.startswith(p) for p in a.only)]
    if not names:
        print(f'acceptance: no scenario matches {a.only}', file=sys.stderr)
        return 2
    failed = []
    for n in names:
        t0 = time.monotonic()
        # A session of its own, so a scenario that times out is killed with the ipxd it started.
        p = subprocess.Popen([sys.executable, os.path.join(HERE, n)], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = p.communicate(timeout=300)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            timed_out = True
            drop_databases_of(p.pid)
        ok = not timed_out and p.returncode == 0 and out.rstrip().endswith('PASS')
        print(f'{"PASS" if ok else "FAIL"} {n} ({time.monotonic() - t0:.1f} s)', flush=True)
        if not ok:
            failed.append(n)
            text = out + err + ('\ntimed out after 300 s' if timed_out else '')
            print('\n'.join('    ' + l for l in text.splitlines()[-40:]), flush=True)
    print(f'acceptance: {len(names) - len(failed)} of {len(names)} scenarios passed' +
          (f'; ipxd logs in {logs}' if failed else ''))
    if not failed:
        shutil.rmtree(logs, ignore_errors=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
