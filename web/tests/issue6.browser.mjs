// The web app of issue 6 as new users walk it, driven by tests/integration/test_web_app.py (which
// starts the server, an unclaimed connector and a history connector, and checks the exported
// files afterwards). Not named *.test.mjs: `npm run test:browser` leaves it out.
//
// Env: WATTLINE_URL, ADMIN_PASSWORD (the server's initial admin password), EDGE_CLAIM_CODE and
// HIST_CLAIM_CODE (the two connectors waiting to be claimed), HIST_METER (the meter with two days
// of history), WATTLINE_OUT (screenshots, downloads and the export requests), CHROMIUM.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = (process.env.WATTLINE_URL ?? '').replace(/\/$/, '');
const OUT = path.resolve(process.env.WATTLINE_OUT ?? 'test-output');
const EXECUTABLE = process.env.CHROMIUM ?? '/usr/bin/chromium';
const HIST_METER = process.env.HIST_METER ?? 'hist-1';
const TENANT = 'Acme';
const ENGINEER = 'erika';
const INITIAL = 'Start-Passwort-2026!';
const PASSWORD = 'Erika-eigenes-Passwort-42!';
const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The current TOTP code of a base32 secret, computed by Debian's oathtool. */
function totp(secret) {
  return execFileSync('oathtool', ['--totp', '-b', secret], { encoding: 'utf8' }).trim();
}
const step = () => Math.floor(Date.now() / 30_000);

async function newPage(browser, { width = 1440, height = 900, locale = 'en-US' } = {}) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width, height }, locale, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  // prompt() and confirm() of the app are answered by page.answer (default: accept).
  page.on('dialog', (d) => void d.accept(d.type() === 'prompt' ? (page.answer ?? d.defaultValue()) : undefined));
  return page;
}

/** A full-page screenshot from the top (the sticky top bar stays where it belongs). */
async function shot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(200);
  await page.screenshot({ path: path.join(OUT, name), fullPage: true });
}

async function login(page, username, password) {
  await page.goto(`${BASE}/`, { waitUntil: 'load' });
  await page.locator('input[name="username"]').waitFor();
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', password);
  await page.click('button[type="submit"]');
}

/** Fills a widget editor: type, title, meter and signal names. */
async function addWidget(page, type, title, meter, signals) {
  await page.click('[data-testid="widget-add"]');
  const editor = page.locator('[data-testid="widget-editor"]');
  await editor.waitFor();
  await editor.locator('[data-testid="widget-type"]').selectOption(type);
  await editor.locator('[data-testid="widget-title"]').fill(title);
  await editor.locator('[data-testid="picker-meter"]').selectOption({ label: meter });
  for (const s of signals) await editor.locator(`input[data-signal-name="${s}"]`).check();
  await editor.locator('[data-testid="widget-ok"]').click();
  await editor.waitFor({ state: 'detached' });
}

/** Clicks an export button; saves the file and the request the page sent. */
async function exportFile(page, format, name) {
  const [request, download] = await Promise.all([
    page.waitForRequest((r) => r.url().endsWith('/api/v1/export') && r.method() === 'POST'),
    page.waitForEvent('download'),
    page.click(`[data-testid="export-${format}"]`),
  ]);
  const body = JSON.parse(request.postData());
  assert.equal(body.format, format);
  assert.equal(body.zone, Intl.DateTimeFormat().resolvedOptions().timeZone);
  const suggested = download.suggestedFilename();
  assert.match(suggested, new RegExp(`\\.${format}$`), `file name ${suggested}`);
  await download.saveAs(path.join(OUT, `${name}.${format}`));
  fs.writeFileSync(path.join(OUT, `export-${name === 'trend-de' ? 'csv_de' : format}.json`), JSON.stringify(body));
  return body;
}

test('issue 6: administration, two-factor login, connectors, dashboard, trend, exports', { skip: BASE ? false : 'WATTLINE_URL not set', timeout: 280_000 }, async (t) => {
  fs.mkdirSync(OUT, { recursive: true });
  const browser = await chromium.launch({ executablePath: EXECUTABLE, headless: true, args: LAUNCH_ARGS });
  t.after(() => browser.close());
  const pages = [];

  await t.test('the system administrator creates the tenant Acme and an engineer in it', async () => {
    const page = await newPage(browser);
    pages.push(page);
    await login(page, 'admin', process.env.ADMIN_PASSWORD);
    await page.locator('[data-testid="nav-admin"]').waitFor();
    await page.click('[data-testid="nav-admin"]');
    await page.click('[data-testid="admin-tab-tenants"]');
    await page.fill('input[name="tenant-name"]', TENANT);
    await page.click('[data-testid="tenant-create-submit"]');
    await page.locator(`tr[data-tenant="${TENANT}"]`).waitFor();

    await page.click('[data-testid="admin-tab-users"]');
    const form = page.locator('[data-testid="user-create"]');
    await form.locator('input[name="new-username"]').fill(ENGINEER);
    await form.locator('input[name="new-user-password"]').fill(INITIAL);
    await form.locator('select[name="new-user-role"]').selectOption('engineer');
    await form.locator('select[name="new-user-tenant"]').selectOption({ label: TENANT });
    await form.locator('[data-testid="user-create-submit"]').click();
    await page.locator('[role="status"]').filter({ hasText: ENGINEER }).waitFor();

    // The audit log shows it, newest first.
    await page.click('[data-testid="admin-tab-audit"]');
    await page.locator('tr[data-action="user_created"]').first().waitFor();
    const actions = await page.locator('tr[data-action]').evaluateAll((rows) => rows.map((r) => r.dataset.action));
    assert.ok(actions.indexOf('user_created') < actions.indexOf('tenant_created'), actions.join(' '));
  });

  const page = await newPage(browser);
  pages.push(page);
  let enrolledAt = 0;
  let trendUrl = ''; // the trend as the trend test left it, for the German run
  let secret = '';

  await t.test('the engineer changes the initial password and enrols two-factor login', async () => {
    await login(page, ENGINEER, INITIAL);
    await page.locator('[data-testid="forced-step"]').waitFor();
    await page.fill('input[name="current-password"]', INITIAL);
    await page.fill('input[name="new-password"]', PASSWORD);
    await page.fill('input[name="repeat-password"]', PASSWORD);
    await page.click('[data-testid="password-submit"]');
    // Either the role requires two-factor login (forced enrolment) or the account page offers it.
    await page.waitForFunction(() => document.querySelector('[data-testid="totp-start"]') || document.querySelector('[data-testid="nav-account"]'));
    if (!(await page.locator('[data-testid="totp-start"]').count())) {
      await page.click('[data-testid="nav-account"]');
      await page.click('[data-testid="totp-enrol"]');
    }
    await page.click('[data-testid="totp-start"]');
    secret = (await page.locator('[data-testid="totp-secret"]').textContent()).trim();
    assert.match(secret, /^[A-Z2-7]{16,}=*$/);
    assert.ok(await page.locator('.qr svg').count(), 'no QR code');
    enrolledAt = step();
    await page.fill('[data-testid="totp-code"]', totp(secret));
    await page.click('[data-testid="totp-confirm"]');
    await page.locator('[data-testid="recovery-codes"]').waitFor();
    const codes = await page.locator('[data-testid="recovery-codes"] li').allTextContents();
    assert.equal(codes.length, 10);
    await page.click('[data-testid="recovery-done"]');
    await page.click('[data-testid="logout"]');
  });

  await t.test('the engineer logs in again with a code from oathtool', async () => {
    await login(page, ENGINEER, PASSWORD);
    await page.locator('[data-testid="login-form"][data-step="code"]').waitFor();
    // A code is good once: wait for the next 30 s step after the enrolment's.
    while (step() <= enrolledAt) await page.waitForTimeout(500);
    await page.fill('[data-testid="login-code"]', totp(secret));
    await page.click('button[type="submit"]');
    await page.locator('[data-testid="dashboards-page"]').waitFor();
    assert.match(await page.locator('[data-testid="whoami"]').textContent(), new RegExp(`${ENGINEER}.*${TENANT}`));
  });

  await t.test('the engineer claims two connectors into Acme and their meters arrive', async () => {
    await page.click('[data-testid="nav-connectors"]');
    for (const [code, name] of [[process.env.EDGE_CLAIM_CODE, 'edge-acme'], [process.env.HIST_CLAIM_CODE, 'hist']]) {
      await page.fill('input[name="claim-code"]', code);
      await page.fill('input[name="claim-name"]', name);
      await page.click('[data-testid="claim-submit"]');
      const result = page.locator('[data-testid="claim-result"]');
      await result.filter({ hasText: name }).waitFor();
      assert.match(await result.locator('[data-testid="server-fingerprint"]').textContent(), /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/i);
      await page.locator(`tr[data-connector="${name}"]`).waitFor();
    }
    await page.click('[data-testid="nav-meters"]');
    await page.waitForFunction(
      (hist) => {
        const rows = [...document.querySelectorAll('tr[data-meter]')];
        const live = rows.filter((r) => /\d/.test(r.querySelector('td[data-signal="active_power_total"]')?.textContent ?? ''));
        return rows.some((r) => r.dataset.meter === hist) && live.length >= 3;
      },
      HIST_METER,
      { timeout: 60_000 },
    );
  });

  await t.test('the engineer builds a dashboard of three widgets', async () => {
    await page.click('[data-testid="nav-dashboards"]');
    await page.locator('[data-testid="dashboards-empty"]').waitFor();
    page.answer = 'Plant';
    await page.click('[data-testid="dashboard-new"]');
    await page.locator('[data-testid="dashboard"][data-editing="true"]').waitFor();
    const edgeMeter = await page.evaluate(async () => {
      const r = await fetch('/api/v1/meters');
      const ms = await r.json();
      return ms.find((m) => m.connector === 'edge-acme')?.name;
    });
    assert.ok(edgeMeter, 'no meter of edge-acme');
    await addWidget(page, 'value', 'Power now', edgeMeter, ['active_power_total']);
    await addWidget(page, 'gauge', 'Voltage', edgeMeter, ['voltage_l1_n']);
    await addWidget(page, 'trend', 'Power, last hour', HIST_METER, ['active_power_total']);
    const widgets = page.locator('[data-testid="widget"]');
    assert.equal(await widgets.count(), 3);
    // Drag the gauge by its title two columns to the right, and make the trend wider.
    const gauge = page.locator('[data-widget-type="gauge"]');
    const x0 = Number(await gauge.getAttribute('data-x'));
    const head = await gauge.locator('.widget-head').boundingBox();
    const grid = await page.locator('[data-testid="grid"]').boundingBox();
    const col = grid.width / 12;
    await page.mouse.move(head.x + 20, head.y + head.height / 2);
    await page.mouse.down();
    await page.mouse.move(head.x + 20 + col, head.y + head.height / 2, { steps: 4 });
    await page.mouse.move(head.x + 20 + 2 * col, head.y + head.height / 2, { steps: 4 });
    await page.mouse.up();
    const x1 = Number(await gauge.getAttribute('data-x'));
    assert.equal(x1, Math.min(x0 + 2, 12 - Number(await gauge.getAttribute('data-w'))));
    await page.click('[data-testid="dashboard-save"]');
    await page.locator('[data-testid="dashboard"][data-editing="false"]').waitFor();

    // Saved: after a reload the layout is the same, and the widgets show live values.
    await page.reload({ waitUntil: 'load' });
    await page.locator('[data-testid="dashboard"][data-dashboard="Plant"]').waitFor();
    assert.equal(await page.locator('[data-testid="widget"]').count(), 3);
    assert.equal(Number(await page.locator('[data-widget-type="gauge"]').getAttribute('data-x')), x1);
    await page.waitForFunction(() => Number.isFinite(parseFloat(document.querySelector('[data-widget-type="value"] [data-value]')?.getAttribute('data-value'))));
    const v0 = await page.locator('[data-widget-type="value"] [data-value]').getAttribute('data-value');
    await page.waitForFunction((v) => document.querySelector('[data-widget-type="value"] [data-value]')?.getAttribute('data-value') !== v, v0, { timeout: 15_000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-widget-type="trend"] [data-testid="mini-trend"]')?.dataset.points ?? 0) > 3);
    await page.waitForTimeout(300);
    await shot(page, 'dashboard-1440.png');
    // On a phone the widgets stack in one column.
    await page.setViewportSize({ width: 375, height: 812 });
    await page.waitForTimeout(500);
    const lefts = await page.locator('[data-testid="widget"]').evaluateAll((ws) => ws.map((w) => Math.round(w.getBoundingClientRect().left)));
    assert.equal(new Set(lefts).size, 1, `widgets not in one column: ${lefts}`);
    await shot(page, 'dashboard-375.png');
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  await t.test('a trend of two signals on two axes, compared with the previous day, zoomed and exported', async () => {
    await page.click('[data-testid="nav-trends"]');
    await page.locator('[data-testid="trends-page"]').waitFor();
    // An empty trend opens with the signal list.
    if (!(await page.locator('[data-testid="signal-picker"]').count())) await page.click('[data-testid="trend-add"]');
    await page.locator('[data-testid="picker-meter"]').selectOption({ label: HIST_METER });
    await page.locator('input[data-signal-name="active_power_total"]').check();
    await page.locator('input[data-signal-name="voltage_l1_n"]').check();
    await page.click('[data-testid="trend-add"]');
    await page.click('button[data-range="24h"]');
    await page.locator('[data-testid="compare"]').selectOption('1d');
    const chart = page.locator('[data-testid="trend-chart"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="trend-chart"]')?.dataset.series === '4');
    assert.equal(await chart.getAttribute('data-axes'), '2');
    assert.equal(await chart.getAttribute('data-units'), 'kW|V');
    assert.equal(await page.locator('[data-testid="legend-row"]').count(), 4);
    assert.equal(await page.locator('[data-testid="legend-row"][data-offset="86400000"]').count(), 2);
    // The compared day has data too: its minimum is a number.
    const cmpMin = await page.locator('[data-testid="legend-row"][data-offset="86400000"] td').nth(2).textContent();
    assert.match(cmpMin, /\d/);
    // The bookmarkable state is in the URL.
    assert.match(page.url(), /#\/trends\?s=\d+,\d+&range=24h&cmp=1d/);

    // The ruler snaps to samples and shows a tooltip.
    const box = await page.locator('[data-testid="trend-chart"] .u-over').boundingBox();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
    await page.locator('[data-testid="trend-tooltip"]').waitFor({ state: 'visible' });
    assert.match(await page.locator('[data-testid="trend-tooltip"]').textContent(), /kW/);

    // Zoom with the mouse wheel: the window shrinks around the pointer.
    const from0 = Number(await chart.getAttribute('data-from'));
    const to0 = Number(await chart.getAttribute('data-to'));
    for (let i = 0; i < 3; i++) await page.mouse.wheel(0, -200);
    await page.waitForFunction((f) => Number(document.querySelector('[data-testid="trend-chart"]')?.dataset.from) > f, from0);
    const from1 = Number(await chart.getAttribute('data-from'));
    const to1 = Number(await chart.getAttribute('data-to'));
    assert.ok(to1 - from1 < 0.7 * (to0 - from0), `zoomed span ${to1 - from1} of ${to0 - from0}`);
    assert.match(page.url(), /from=\d+&to=\d+/);
    await page.waitForFunction(() => document.querySelector('[data-testid="trend-chart"]')?.dataset.series === '4');
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2);
    await page.waitForTimeout(300);

    for (const format of ['csv', 'xlsx', 'pdf']) {
      const body = await exportFile(page, format, 'trend');
      assert.equal(body.locale, 'en');
      assert.equal(body.series.length, 4);
      assert.ok(body.series[0].points.length > 0 && body.series[2].points.length > 0, 'no points of the current period');
      // Exactly the shown window.
      assert.ok(body.series[0].points.every(([ts]) => ts >= from1 - 1 && ts <= to1 + 1), 'points outside the shown window');
    }
    await shot(page, 'trend-1440.png');
    await page.setViewportSize({ width: 375, height: 812 });
    await page.waitForTimeout(800);
    await shot(page, 'trend-375.png');
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  await t.test('the engineer builds a site tree with a manual meter and enters two readings', async () => {
    trendUrl = page.url();
    await page.click('[data-testid="nav-tree"]');
    await page.locator('[data-testid="site-tree-page"]').waitFor();
    const add = page.locator('[data-testid="add-node"]');
    await add.getByLabel('Kind', { exact: true }).selectOption('site');
    await add.getByLabel('Name', { exact: true }).fill('Plant A');
    await add.getByRole('button', { name: 'Add', exact: true }).click();
    const site = page.locator('[role="treeitem"]', { hasText: 'Plant A' }).first();
    await site.waitFor();
    await add.getByLabel('Kind', { exact: true }).selectOption('meter');
    await add.getByLabel('Name', { exact: true }).fill('Gas main');
    await add.getByLabel('Parent', { exact: true }).selectOption(await site.getAttribute('data-node-id'));
    await add.getByRole('button', { name: 'Add', exact: true }).click();
    // The site's item holds the meter's too: the meter is the innermost (last) match.
    const meter = page.locator('[role="treeitem"]', { hasText: 'Gas main' }).last();
    await meter.waitFor();
    const ids = { 'Plant A': await site.getAttribute('data-node-id'), 'Gas main': await meter.getAttribute('data-node-id') };
    await meter.getByRole('button', { name: 'Gas main', exact: true }).click();

    // Yesterday noon and today's midnight (local): today's consumption is their difference.
    const pad = (n) => String(n).padStart(2, '0');
    const day = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    const now = new Date();
    const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
    const readings = page.locator('[data-testid="manual-readings"]');
    const entries = [[`${day(yesterday)}T12:00`, '1000'], [`${day(now)}T00:00`, '1234.5']];
    for (const [i, [when, value]] of entries.entries()) {
      await readings.getByLabel('Time of reading', { exact: true }).fill(when);
      await readings.getByLabel('Reading (kWh)', { exact: true }).fill(value);
      await readings.getByRole('button', { name: 'Enter reading' }).click();
      await page.waitForFunction(
        (n) => [...document.querySelectorAll('[data-testid="manual-readings"] tbody tr')].filter((r) => /manual/.test(r.textContent)).length === n,
        i + 1,
      );
    }
    await page.reload({ waitUntil: 'load' });
    const total = (name) => page.locator(`[data-node-id="${ids[name]}"] > .tree-row [data-testid="node-total"]`);
    await page.waitForFunction(
      () => [...document.querySelectorAll('[data-testid="node-total"]')].filter((e) => e.textContent.trim() === '234.5 kWh').length === 2,
      null,
      { timeout: 15_000 },
    );
    assert.equal((await total('Gas main').textContent()).trim(), '234.5 kWh');
    assert.equal((await total('Plant A').textContent()).trim(), '234.5 kWh');
    await shot(page, 'tree-1440.png');
    await page.setViewportSize({ width: 375, height: 812 });
    await page.waitForTimeout(500);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the tree page is ${overflow} px wider than a phone`);
    await shot(page, 'tree-375.png');
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  await t.test('in German: the account page switches the language; decimal comma, German export', async () => {
    await page.click('[data-testid="nav-account"]');
    await page.locator('[data-testid="locale-select"]').selectOption('de');
    await page.locator('[data-testid="nav-dashboards"]', { hasText: 'Übersicht' }).waitFor();
    assert.equal(await page.locator('[data-testid="nav-meters"]').textContent(), 'Zähler');
    assert.equal(await page.locator('h1').first().textContent(), 'Konto');
    await page.click('[data-testid="nav-meters"]');
    await page.waitForFunction(() => /^\d+,\d$/.test(document.querySelector('tr[data-meter] td[data-signal="voltage_l1_n"]')?.textContent?.trim() ?? ''));
    assert.equal(await page.locator('th', { hasText: 'Letzter Messwert' }).count(), 1);
    await page.goto(trendUrl);
    await page.waitForFunction(() => document.querySelector('[data-testid="trend-chart"]')?.dataset.series === '4');
    assert.equal(await page.locator('h1').first().textContent(), 'Trend');
    assert.match(await page.locator('[data-testid="legend-row"]').first().textContent(), /Wirkleistung.*\d,\d+ kW/);
    const body = await exportFile(page, 'csv', 'trend-de');
    assert.equal(body.locale, 'de');
    await shot(page, 'trend-de-1440.png');
  });

  await t.test('no uncaught page errors', () => {
    for (const p of pages) assert.deepEqual(p.errors, []);
  });
});
