// ipx dashboard: plain JavaScript, no build step. Talks the WebSocket protocol of
// docs/protocol.md on the page's own origin (/v1/ws). The API secret stays in this page: it
// signs auth.login (HMAC-SHA256 with Web Crypto) and, for the CSV link, the signed
// GET /v1/reports/disposals; it is kept in sessionStorage only when the user asks.
'use strict';

const $ = (id) => document.getElementById(id);
const state = {
  ws: null, nextId: 1, pending: new Map(),
  key: '', secret: '', me: null,
  auctions: new Map(),          // auction_id -> auction (auction.get shape)
  cases: new Map(),             // case_id -> case (disposal.list shape)
  selectedCase: null,
  clock: { now: 0, at: 0, rate: 0 },  // engine time: now at performance time `at`, moving at `rate`
  timers: [],
};

// ------------------------------------------------------------------ formatting
const cny = (fen) => fen == null ? '—' : (fen / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const pct = (x) => x == null ? '—' : (x * 100).toFixed(1) + ' %';
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const fmtTime = (ms) => ms == null ? '—' : new Date(ms).toLocaleString();
function fmtLeft(ms) {
  if (ms <= 0) return 'closing';
  const s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
  const m = Math.floor(s % 3600 / 60), sec = s % 60;
  const two = (n) => String(n).padStart(2, '0');
  return (d > 0 ? d + 'd ' : '') + two(h) + ':' + two(m) + ':' + two(sec);
}

// ------------------------------------------------------------------ HMAC-SHA256
const enc = new TextEncoder();
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
async function hmacHex(secret, message) {
  if (window.crypto && crypto.subtle) {
    const k = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    return hex(await crypto.subtle.sign('HMAC', k, enc.encode(message)));
  }
  return hex(hmacFallback(enc.encode(secret), enc.encode(message)));  // plain http on a non-local host
}
// SHA-256 for pages that are not a secure context (crypto.subtle is missing there).
function sha256(bytes) {
  const K = new Uint32Array([0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);
  const H = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const len = bytes.length, total = Math.ceil((len + 9) / 64) * 64, m = new Uint8Array(total);
  m.set(bytes); m[len] = 0x80;
  const dv = new DataView(m.buffer);
  dv.setUint32(total - 8, Math.floor(len / 0x20000000)); dv.setUint32(total - 4, (len * 8) >>> 0);
  const w = new Uint32Array(64), rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < total; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = dv.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, h] = H;
    for (let i = 0; i < 64; i++) {
      const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      h = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
  }
  const out = new Uint8Array(32), ov = new DataView(out.buffer);
  H.forEach((v, i) => ov.setUint32(i * 4, v));
  return out;
}
function hmacFallback(key, msg) {
  if (key.length > 64) key = sha256(key);
  const k = new Uint8Array(64); k.set(key);
  const ipad = k.map((b) => b ^ 0x36), opad = k.map((b) => b ^ 0x5c);
  const inner = new Uint8Array(64 + msg.length); inner.set(ipad); inner.set(msg, 64);
  const outer = new Uint8Array(96); outer.set(opad); outer.set(sha256(inner), 64);
  return sha256(outer);
}
function nonce() {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return hex(b);
}

// ------------------------------------------------------------------ the connection
function call(method, params) {
  return new Promise((resolve, reject) => {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return reject(new Error('not connected'));
    const id = state.nextId++;
    state.pending.set(id, { resolve, reject });
    state.ws.send(JSON.stringify({ id, method, params: params || {} }));
  });
}
class ProtocolError extends Error {
  constructor(code, message) { super(code + ': ' + message); this.code = code; }
}

function connect() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v1/ws');
    ws.onopen = () => { state.ws = ws; setConn('online'); resolve(); };
    ws.onerror = () => reject(new Error('cannot reach the server'));
    ws.onclose = () => {
      setConn('offline');
      for (const p of state.pending.values()) p.reject(new Error('connection closed'));
      state.pending.clear();
      if (state.ws === ws) state.ws = null;
    };
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.channel) return onPush(msg);
      const p = state.pending.get(msg.id);
      if (!p) return;
      state.pending.delete(msg.id);
      if (msg.error) p.reject(new ProtocolError(msg.error.code, msg.error.message || ''));
      else p.resolve(msg.result);
    };
  });
}
function setConn(text) {
  const c = $('conn');
  c.textContent = text;
  c.className = 'pill ' + (text === 'online' ? 'ok' : 'bad');
}

async function login(key, secret) {
  await connect();
  const t = await call('time.now');
  setClock(t);
  const ts = t.wall;  // the server's real clock: no trouble from a skewed client clock
  const n = nonce();
  const sig = await hmacHex(secret, key + '\n' + ts + '\n' + n);
  state.me = await call('auth.login', { key, ts, nonce: n, sig });
  state.key = key;
  state.secret = secret;
}

// ------------------------------------------------------------------ engine time
function setClock(t) {
  const at = performance.now();
  const prev = state.clock;
  // The engine clock moves with the wall clock unless the server runs --manual-clock.
  let rate = prev.rate;
  if (prev.at > 0 && at - prev.at > 500) rate = (t.now - prev.now) >= 0.5 * (at - prev.at) ? 1 : 0;
  state.clock = { now: t.now, at, rate };
}
const engineNow = () => state.clock.now + state.clock.rate * (performance.now() - state.clock.at);
function seeEngineTime(ts) {
  if (ts > engineNow()) state.clock = { now: ts, at: performance.now(), rate: state.clock.rate };
}

// ------------------------------------------------------------------ pushes
const subscribed = new Set();
async function subscribe(channels) {
  const fresh = channels.filter((c) => !subscribed.has(c));
  for (let i = 0; i < fresh.length; i += 200) {
    const part = fresh.slice(i, i + 200);
    part.forEach((c) => subscribed.add(c));
    try { await call('subscribe', { channels: part }); } catch (e) {
      part.forEach((c) => subscribed.delete(c));
      // One missing object refuses the whole request: retry one by one.
      for (const c of part) {
        try { await call('subscribe', { channels: [c] }); subscribed.add(c); } catch (_) { /* gone */ }
      }
    }
  }
}

function onPush(p) {
  if (p.ts) seeEngineTime(p.ts);
  const [kind, ...rest] = p.channel.split('.');
  const id = rest.join('.');
  if (kind === 'auction') {
    const a = p.type === 'snapshot' ? { ...p.data } : { ...(state.auctions.get(id) || { auction_id: id }) };
    if (p.type !== 'snapshot') {
      const d = p.data;
      for (const f of ['state', 'price', 'bids', 'leader', 'min_next_bid', 'closes_at', 'registered', 'winner', 'settlement_id', 'format']) {
        if (d[f] !== undefined) a[f] = d[f];
      }
      if (p.type === 'close' && d.winner) a.leader = d.winner;
    }
    state.auctions.set(id, a);
    renderAuctions(id);
  } else if (kind === 'disposal') {
    if (p.type !== 'snapshot') scheduleCasesRefresh(id);
  }
}

let casesRefresh = null;
function scheduleCasesRefresh(caseId) {
  clearTimeout(casesRefresh);
  casesRefresh = setTimeout(async () => {
    await loadCases();
    if (state.selectedCase && (!caseId || caseId === state.selectedCase)) showCase(state.selectedCase);
    loadReport();
  }, 300);
}

// ------------------------------------------------------------------ auctions
async function loadAuctions() {
  const r = await call('auction.list', {});
  const live = r.auctions.filter((a) => a.state === 'open' || a.state === 'scheduled');
  for (const a of live) if (!state.auctions.has(a.auction_id)) state.auctions.set(a.auction_id, a);
  await subscribe(live.map((a) => 'auction.' + a.auction_id));
  renderAuctions();
}

function auctionRow(a) {
  const left = a.state === 'open' ? fmtLeft(a.closes_at - engineNow()) :
    a.state === 'scheduled' ? 'opens in ' + fmtLeft(a.opens_at - engineNow()) : '—';
  return `<td>${esc(a.auction_id)}${a.case_id ? ` <span class="muted">(${esc(a.case_id)})</span>` : ''}</td>` +
    `<td>${esc((a.lot || []).join(', '))}</td><td>${esc(a.format)}</td>` +
    `<td><span class="pill st-${esc(a.state)}">${esc(a.state)}</span></td>` +
    `<td class="num price">${cny(a.price)}</td><td class="num bids">${a.bids ?? 0}</td>` +
    `<td class="leader">${esc(a.leader ?? '—')}</td><td class="num">${cny(a.min_next_bid)}</td>` +
    `<td class="num left">${left}</td>`;
}

function renderAuctions(changed) {
  const body = $('auctions').querySelector('tbody');
  const rows = [...state.auctions.values()]
    .filter((a) => a.state === 'open' || a.state === 'scheduled' || a.auction_id === changed)
    .sort((x, y) => (x.state === y.state ? 0 : x.state === 'open' ? -1 : 1) || (x.closes_at - y.closes_at));
  body.innerHTML = rows.map((a) => `<tr data-auction="${esc(a.auction_id)}" class="${a.auction_id === changed ? 'flash' : ''}">${auctionRow(a)}</tr>`).join('');
  $('auctions-empty').hidden = rows.length > 0;
  $('auctions-count').textContent = rows.length ? `(${rows.length})` : '';
}

function tick() {
  for (const tr of $('auctions').querySelectorAll('tbody tr')) {
    const a = state.auctions.get(tr.dataset.auction);
    if (!a) continue;
    const cell = tr.querySelector('.left');
    if (a.state === 'open') cell.textContent = fmtLeft(a.closes_at - engineNow());
    else if (a.state === 'scheduled') cell.textContent = 'opens in ' + fmtLeft(a.opens_at - engineNow());
  }
  $('engine-clock').textContent = 'engine time ' + new Date(engineNow()).toLocaleString() + (state.clock.rate ? '' : ' (manual clock)');
}

// ------------------------------------------------------------------ disposal cases
const CASE_STATES = ['round_1', 'round_2', 'round_3', 'sell_off', 'settlement', 'closed'];
const isOperator = () => state.me && state.me.roles.includes('operator');
const isBank = () => state.me && state.me.roles.includes('bank');

async function loadCases() {
  const r = await call('disposal.list', {});
  state.cases = new Map(r.cases.map((c) => [c.case_id, c]));
  const counts = Object.fromEntries(CASE_STATES.map((s) => [s, 0]));
  for (const c of r.cases) counts[c.state] = (counts[c.state] || 0) + 1;
  $('pipeline-states').innerHTML = CASE_STATES.map((s) =>
    `<div class="state-card st-${s}"><div class="n">${counts[s]}</div><div>${s.replace('_', ' ')}</div></div>`).join('');
  const body = $('cases').querySelector('tbody');
  body.innerHTML = r.cases.map((c) => `<tr data-case="${esc(c.case_id)}" class="clickable${c.case_id === state.selectedCase ? ' selected' : ''}">` +
    `<td>${esc(c.case_id)}</td><td>${esc(c.pledgee)}</td><td><span class="pill st-${esc(c.state)}">${esc(c.state)}</span>${c.outcome ? ' ' + esc(c.outcome) : ''}</td>` +
    `<td>${esc(c.region)}</td><td>${esc(c.industry)}</td><td class="num">${cny(c.valuation)}</td>` +
    `<td class="num">${cny(c.claim)}</td><td class="num">${(c.rounds || []).length}</td>` +
    `<td class="num">${pct(c.recovery ? c.recovery.recovery_rate : null)}</td><td>${esc(c.settlement_id ?? '—')}</td></tr>`).join('');
  $('cases-empty').hidden = r.cases.length > 0;
  for (const tr of body.querySelectorAll('tr')) tr.onclick = () => showCase(tr.dataset.case);
  await subscribe(r.cases.map((c) => 'disposal.' + c.case_id));
}

async function showCase(caseId) {
  state.selectedCase = caseId;
  for (const tr of $('cases').querySelectorAll('tbody tr')) tr.classList.toggle('selected', tr.dataset.case === caseId);
  const c = await call('disposal.get', { case_id: caseId });
  $('case-panel').hidden = false;
  $('case-id').textContent = c.case_id;
  $('case-state').textContent = c.state + (c.outcome ? ' · ' + c.outcome : '');
  $('case-state').className = 'pill st-' + c.state;
  const rec = c.recovery || {};
  $('case-summary').innerHTML = [
    ['Bank', c.pledgee], ['Pledgor', c.pledgor], ['Region', c.region], ['Industry', c.industry],
    ['Valuation', cny(c.valuation) + ' CNY'], ['Claim', cny(c.claim) + ' CNY'], ['Regime', c.regime],
    ['Defaults', c.defaults], ['Hammer', cny(rec.hammer) + ' CNY'], ['Net to bank', cny(rec.net_to_bank) + ' CNY'],
    ['Risk fund share', cny(rec.fund_share) + ' CNY'], ['Forfeited deposits', cny(rec.forfeited) + ' CNY'],
    ['Recovery rate', pct(rec.recovery_rate)], ['Assets', (c.assets || []).join(', ')],
  ].map(([k, v]) => `<div><span class="k">${esc(k)}</span><span class="v">${esc(v)}</span></div>`).join('');
  $('case-rounds').querySelector('tbody').innerHTML = (c.rounds || []).map((r) =>
    `<tr><td>${r.round}</td><td>${esc(r.kind)}</td><td>${esc(r.auction_id ?? '—')}</td><td class="num">${cny(r.start_price)}</td>` +
    `<td><span class="pill st-${esc(r.state)}">${esc(r.state)}</span></td><td class="num">${cny(r.price)}</td>` +
    `<td class="num">${r.bidders ?? 0}</td><td class="num">${pct(r.discount)}</td></tr>`).join('');
  $('case-timeline').innerHTML = (c.timeline || []).map((e) =>
    `<li class="ev-${esc(e.event)}"><time>${esc(fmtTime(e.ts))}</time> <b>${esc(e.event)}</b> <span class="muted">${esc(e.state)}</span> ${esc(e.reason || '')}</li>`).join('');
  let s = null;
  if (c.settlement_id) {
    try { s = await call('settlement.get', { settlement_id: c.settlement_id }); } catch (_) { s = null; }
  }
  $('case-settlement').innerHTML = s ? `<h3>Settlement ${esc(s.settlement_id)} <span class="pill st-${esc(s.state)}" id="settlement-state">${esc(s.state)}</span></h3>` +
    `<div class="summary">${[['Auction', s.auction_id], ['Price', cny(s.price) + ' CNY'], ['Buyer premium', cny(s.buyer_premium) + ' CNY'],
      ['Amount due', cny(s.amount_due) + ' CNY'], ['Due', fmtTime(s.due_at)], ['Registration no.', s.registration_no ?? '—']]
      .map(([k, v]) => `<div><span class="k">${esc(k)}</span><span class="v">${esc(v)}</span></div>`).join('')}</div>` : '';
  const canConfirm = isOperator() && s && s.state === 'paid';
  $('confirm-form').hidden = !canConfirm;
  $('confirm-form').dataset.settlement = s ? s.settlement_id : '';
  if (!canConfirm) $('confirm-result').textContent = '';
}

async function confirmSettlement(ev) {
  ev.preventDefault();
  const id = $('confirm-form').dataset.settlement;
  const regno = $('confirm-regno').value.trim();
  if (!id || !regno) return;
  try {
    const s = await call('settlement.confirm', { settlement_id: id, registration_no: regno, request_id: 'confirm-' + id });
    $('confirm-result').textContent = 'confirmed (' + s.registration_no + ')';
    $('confirm-result').className = 'ok';
    scheduleCasesRefresh();
  } catch (e) {
    $('confirm-result').textContent = e.message;
    $('confirm-result').className = 'error';
  }
}

// ------------------------------------------------------------------ report and charts
function barChart(el, bars, fmt) {
  if (!bars.length) { el.innerHTML = '<p class="empty">No data yet.</p>'; return; }
  const W = 360, rowH = 24, labelW = 110, H = bars.length * rowH + 8;
  const max = Math.max(1e-9, ...bars.map((b) => b.value));
  el.innerHTML = `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img">` + bars.map((b, i) => {
    const w = Math.max(1, (W - labelW - 70) * b.value / max), y = 4 + i * rowH;
    return `<text x="${labelW - 6}" y="${y + 15}" text-anchor="end" class="lbl">${esc(b.label)}</text>` +
      `<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" rx="3" class="bar"><title>${esc(b.label)}: ${fmt(b.value)}</title></rect>` +
      `<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 15}" class="val">${fmt(b.value)}</text>`;
  }).join('') + '</svg>';
}

async function loadReport() {
  const r = await call('report.disposals', {});
  const t = r.totals || {};
  $('report-totals').innerHTML = [['Cases', t.cases], ['Sold', t.sold], ['Claim', cny(t.claim) + ' CNY'],
    ['Hammer', cny(t.hammer) + ' CNY'], ['Net to bank', cny(t.net_to_bank) + ' CNY'],
    ['Recovery rate', pct(t.recovery_rate)], ['Discount', pct(t.discount)]]
    .map(([k, v]) => `<div><span class="k">${esc(k)}</span><span class="v">${esc(v)}</span></div>`).join('');
  // By round: recovery of the cases sold in round n; discount of the hammer prices in round n.
  const recByRound = new Map(), discByRound = new Map();
  const add = (m, k, v) => { const e = m.get(k) || { sum: 0, n: 0 }; e.sum += v; e.n += 1; m.set(k, e); };
  for (const row of r.rows || []) {
    (row.discount_by_round || []).forEach((d, i) => { if (d != null) add(discByRound, i + 1, d); });
    if (row.hammer > 0) add(recByRound, row.rounds, row.recovery_rate);
  }
  const avg = (m) => [...m.entries()].sort((a, b) => a[0] - b[0]).map(([k, e]) => ({ label: 'round ' + k, value: e.sum / e.n }));
  barChart($('chart-recovery-round'), avg(recByRound), pct);
  barChart($('chart-discount-round'), avg(discByRound), pct);
  const byRegion = (t.by_region || []).filter((g) => g.region != null);
  barChart($('chart-recovery-region'), byRegion.map((g) => ({ label: g.region, value: g.recovery_rate || 0 })), pct);
  barChart($('chart-discount-region'), byRegion.filter((g) => g.hammer > 0).map((g) => ({ label: g.region, value: g.discount || 0 })), pct);
}

// The CSV link: GET /v1/reports/disposals signed like auth.login (a fresh nonce per click).
async function downloadCsv(ev) {
  ev.preventDefault();
  const t = await call('time.now');
  const n = nonce();
  const sig = await hmacHex(state.secret, state.key + '\n' + t.wall + '\n' + n);
  const q = new URLSearchParams({ format: 'csv', key: state.key, ts: String(t.wall), nonce: n, sig });
  location.href = '/v1/reports/disposals?' + q.toString();
}

// ------------------------------------------------------------------ start
async function start(key, secret) {
  $('login-error').textContent = '';
  try {
    await login(key, secret);
  } catch (e) {
    if (state.ws) state.ws.close();
    $('login-error').textContent = 'Login failed: ' + e.message;
    sessionStorage.removeItem('ipx.secret');
    return false;
  }
  sessionStorage.setItem('ipx.key', key);
  if ($('login-remember').checked) sessionStorage.setItem('ipx.secret', secret);
  $('login-secret').value = '';
  $('login-panel').hidden = true;
  $('app').hidden = false;
  $('who').hidden = false;
  $('who-name').textContent = state.me.participant_id + ' · ' + state.me.kind;
  const caseViewer = isOperator() || isBank();
  $('pipeline-panel').hidden = !caseViewer;
  $('report-panel').hidden = !caseViewer;
  $('pipeline-title').textContent = isOperator() ? 'All disposal cases' : 'Your disposal pipeline';
  await loadAuctions();
  if (caseViewer) { await loadCases(); await loadReport(); }
  state.timers.push(setInterval(tick, 250));
  state.timers.push(setInterval(async () => { try { setClock(await call('time.now')); } catch (_) { /* offline */ } }, 2000));
  state.timers.push(setInterval(() => loadAuctions().catch(() => {}), 10000));  // new auctions
  document.body.dataset.ready = 'true';
  return true;
}

function logout() {
  sessionStorage.removeItem('ipx.secret');
  state.timers.forEach(clearInterval);
  if (state.ws) state.ws.close();
  location.reload();
}

$('login-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  start($('login-key').value.trim(), $('login-secret').value);
});
$('logout').addEventListener('click', logout);
$('confirm-form').addEventListener('submit', confirmSettlement);
$('csv-link').addEventListener('click', (ev) => downloadCsv(ev).catch((e) => alert(e.message)));
$('login-key').value = sessionStorage.getItem('ipx.key') || '';
if (sessionStorage.getItem('ipx.secret')) {
  $('login-remember').checked = true;
  start(sessionStorage.getItem('ipx.key') || '', sessionStorage.getItem('ipx.secret'));
}
