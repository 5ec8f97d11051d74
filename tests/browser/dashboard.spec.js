// The dashboard in a real browser: headless Debian chromium driven by playwright-core.
// Run by run_browser.py, which starts ipxd, seeds the data and passes it in IPX_SEED; a
// line "@@ bid" on stdout asks the runner to place a bid now (it answers with the reply).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { chromium } = require('playwright-core');

const base = process.env.IPX_BASE_URL;
const seed = JSON.parse(process.env.IPX_SEED);
const shots = process.env.IPX_SHOTS || path.join(__dirname, '..', '..', 'build', 'browser');
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
}
async function ask(what) {
  console.log('@@ ' + what);
  const { value } = await lines.next();
  return JSON.parse(value);
}

async function login(page, who) {
  await page.goto(base + '/');
  await page.fill('#login-key', who.key);
  await page.fill('#login-secret', who.secret);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('body[data-ready=true]', { timeout: 15000 });
}

const cny = (fen) => (fen / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ipx-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1360, height: 1000 },
  });
  const errors = [];
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('request', (r) => {
      if (/secret/i.test(r.url()) || (r.postData() || '').includes(seed.bank_a.secret)) errors.push('the secret left the page: ' + r.url());
    });

    // 1. The page loads and a bad secret is refused.
    await page.goto(base + '/');
    check((await page.title()).includes('ipx'), 'title');
    await page.fill('#login-key', seed.bank_a.key);
    await page.fill('#login-secret', 'wrong-secret');
    await page.click('#login-form button[type=submit]');
    await page.waitForFunction(() => document.getElementById('login-error').textContent.includes('UNAUTHENTICATED'));
    console.log('PASS page loads; a wrong secret is refused');

    // 2. Bank A logs in: its live auction, its two cases, not bank B's.
    await login(page, seed.bank_a);
    const row = `#auctions tr[data-auction="${seed.auction_a_live}"]`;
    await page.waitForSelector(row);
    check((await page.textContent(`${row} .bids`)).trim() === '1', 'one bid before');
    check((await page.textContent(`${row} .price`)).trim() === cny(seed.first_bid), 'price before');
    const left = (await page.textContent(`${row} .left`)).trim();
    check(/^\d\d:\d\d:\d\d$/.test(left), 'time left shown: ' + left);
    const cases = await page.$$eval('#cases tbody tr', (trs) => trs.map((tr) => tr.dataset.case));
    check(cases.length === 2 && cases.includes(seed.case_a_sold) && cases.includes(seed.case_a_live), 'bank A cases: ' + cases);
    check(!cases.includes(seed.case_b), "bank B's case is not listed");
    console.log('PASS bank logs in: live auction, own pipeline only');

    // 3. A bid placed by someone else while the page is open shows up.
    const bid = await ask('bid');
    await page.waitForFunction(([sel, n]) => document.querySelector(sel + ' .bids').textContent.trim() === n, [row, '2'], { timeout: 10000 });
    check((await page.textContent(`${row} .price`)).trim() === cny(bid.amount), 'price after the bid');
    check((await page.textContent(`${row} .leader`)).trim() === bid.leader, 'leader is the bidder code ' + bid.leader);
    check(/^B\d+$/.test(bid.leader), 'leader masked as a bidder code');
    console.log('PASS a live bid updates price, bids and leader (' + bid.leader + ')');

    // 4. Another bank's case: disposal.get from this page's session is NOT_FOUND.
    const code = await page.evaluate(async (id) => {
      try { await call('disposal.get', { case_id: id }); return 'ok'; } catch (e) { return e.code; }
    }, seed.case_b);
    check(code === 'NOT_FOUND', "disposal.get of bank B's case: " + code);
    console.log("PASS bank A's disposal.get of bank B's case is NOT_FOUND");

    // 5. The case timeline and the charts.
    await page.click(`#cases tr[data-case="${seed.case_a_sold}"]`);
    await page.waitForSelector('#settlement-state');
    check((await page.textContent('#case-rounds tbody')).includes('sold'), 'round 1 sold');
    check((await page.$$('#case-timeline li')).length >= 2, 'timeline events');
    check(await page.isHidden('#confirm-form'), 'a bank cannot confirm');
    check((await page.$$('#chart-discount-region svg rect')).length >= 1, 'discount chart has bars');
    await page.screenshot({ path: path.join(shots, 'dashboard-bank.png'), fullPage: true });
    console.log('PASS case timeline and charts; screenshot dashboard-bank.png');

    // 6. The operator sees every case and confirms the paid settlement from the page.
    await page.click('#logout');
    await login(page, seed.operator);
    await page.waitForFunction((n) => document.querySelectorAll('#cases tbody tr').length === n, 3);
    await page.click(`#cases tr[data-case="${seed.case_a_sold}"]`);
    await page.waitForSelector('#confirm-form:not([hidden])');
    await page.fill('#confirm-regno', 'CNIPA-2026-0042');
    await page.click('#confirm-form button[type=submit]');
    await page.waitForFunction(() => document.getElementById('confirm-result').textContent.startsWith('confirmed'));
    await page.waitForFunction(() => (document.getElementById('settlement-state') || {}).textContent === 'confirmed', null, { timeout: 10000 });
    await page.waitForFunction((id) => {
      const tr = document.querySelector(`#cases tr[data-case="${id}"]`);
      return tr && tr.textContent.includes('closed');
    }, seed.case_a_sold, { timeout: 10000 });
    await page.screenshot({ path: path.join(shots, 'dashboard-operator.png'), fullPage: true });
    console.log('PASS operator sees all cases and confirms the settlement; screenshot dashboard-operator.png');

    check(errors.length === 0, 'no page errors: ' + errors.join(' | '));
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => {
  console.error('FAIL ' + (e && e.stack || e));
  process.exit(1);
});
