#!/usr/bin/python3
"""Runs every acceptance scenario (r*.py here), each against its own fresh database and ipxd.

The scenarios were written from ../shared/PROTOCOL.md and DOMAIN.md alone, as an outside
client would (a helper's audit in session 10; not from the server's code or docs/). Each
prints one line per check ("ok" or "FAIL") and ends with PASS or FAIL.

  /usr/bin/python3 tests/acceptance/run_all.py --ipxd build/release/gateway/ipxd [r05 r09 ...]

Needs IPX_PG (`eval "$(tools/ipx services env)"`). Exit 0 when every scenario passes, 1 when
one fails, 2 when it cannot run."""
import argparse, os, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))


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
    env = dict(os.environ, IPX_IPXD=os.path.abspath(a.ipxd))
    names = sorted(n for n in os.listdir(HERE) if n.startswith('r') and n.endswith('.py') and n != 'run_all.py')
    if a.only:
        names = [n for n in names if any(n.startswith(p) for p in a.only)]
    failed = []
    for n in names:
        t0 = time.monotonic()
        try:
            p = subprocess.run([sys.executable, os.path.join(HERE, n)], env=env, capture_output=True,
                               text=True, timeout=300)
            out, rc = p.stdout + p.stderr, p.returncode
        except subprocess.TimeoutExpired as e:
            out, rc = f'{e.stdout or ""}\ntimed out after 300 s', 1
        ok = rc == 0 and out.rstrip().endswith('PASS')
        print(f'{"PASS" if ok else "FAIL"} {n} ({time.monotonic() - t0:.1f} s)', flush=True)
        if not ok:
            failed.append(n)
            print('\n'.join('    ' + l for l in out.splitlines()[-40:]), flush=True)
    print(f'acceptance: {len(names) - len(failed)} of {len(names)} scenarios passed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
