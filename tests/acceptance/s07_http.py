# HTTP on the WebSocket port: /healthz, /readyz, /metrics (Prometheus text), unknown path
from common import *
import urllib.request, urllib.error, re as _re
def get(url, method='GET'):
    try:
        r = urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10)
        return r.status, dict(r.headers), r.read().decode(errors='replace')
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode(errors='replace')
LINE = _re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+]?([0-9.eE+-]+|NaN|Inf|\+Inf|-Inf)( -?[0-9]+)?$')
async def sc(ctx):
    base = ctx.url.replace('ws://', 'http://').replace('/v1/ws', '')
    s, h, b = get(base + '/healthz')
    check('/healthz 200', s == 200, (s, b))
    s, h, b = get(base + '/readyz')
    check('/readyz 200 (journal reachable, engine accepting)', s == 200, (s, b))
    # generate some activity, then scrape
    for _ in range(3): await ctx.adm.call('time.now')
    s, h, b = get(base + '/metrics')
    check('/metrics 200', s == 200, s)
    ct = {k.lower(): v for k, v in h.items()}.get('content-type', '')
    check('/metrics content-type text/plain (Prometheus text format)', ct.startswith('text/plain'), ct)
    print('  info: content-type', ct)
    lines = [l for l in b.split('\n') if l.strip()]
    bad = [l for l in lines if not l.startswith('#') and not LINE.match(l)]
    check('/metrics every sample line parses as Prometheus text', lines and not bad, bad[:5])
    types = [l for l in lines if l.startswith('# TYPE ')]
    check('/metrics has # TYPE lines with valid types', types and all(l.split()[3] in ('counter', 'gauge', 'histogram', 'summary', 'untyped') for l in types), types[:5])
    names = {l.split()[2] for l in types}
    samples = {_re.split(r'[{ ]', l)[0] for l in lines if not l.startswith('#')}
    orphan = [sname for sname in samples if sname not in names and _re.sub(r'_(bucket|sum|count|total|created)$', '', sname) not in names]
    print('  info: metric families', sorted(names)[:30])
    check('every sample belongs to a declared family', not orphan, orphan[:5])
    check('ends with newline', b.endswith('\n'))
    s, h, b = get(base + '/no-such-path')
    check('unknown path -> 404', s == 404, s)
    s, h, b = get(base + '/v1/ws')
    print('  info: plain GET /v1/ws without upgrade ->', s)
    s, h, b = get(base + '/healthz', 'HEAD')
    print('  info: HEAD /healthz ->', s)
    # WebSocket still works on the same port after HTTP requests
    r = await ctx.adm.call('time.now')
    check('ws still fine', 'now' in r)
run('s07', sc)
