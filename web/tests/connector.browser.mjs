// Browser test of the connector's first run (web/connector/) against a running wattline-edge
// and wattline-server, driven by tests/integration/test_connector_ui.py. Not named *.test.mjs on
// purpose: the server's browser test runs `node --test tests/`, and this one needs its own set-up.
//
// Env: CONNECTOR_URL (required), LAN_METERS (how many meters the initial scan must find),
// GATEWAY_PORT (a simulated Modbus TCP gateway with an SDM630 at unit 1 and 2), DIRECT_PORT (a
// simulated UMG 96RM-E), PROFILES_DIR, BAD_DRIVER (path of an invalid driver file),
// BAD_DRIVER_LINE (the line its first error is on), SERVER_URL and SERVER_ADMIN_PASSWORD (the
// server the connector is claimed on), WATTLINE_OUT (screenshots), CHROMIUM (default
// /usr/bin/chromium).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.CONNECTOR_URL;
const OUT = path.resolve(process.env.WATTLINE_OUT ?? 'test-output/connector');
const NEW_PASSWORD = 'first-run-password-42';
const LAN_METERS = Number(process.env.LAN_METERS ?? 0);
const SERVER = (process.env.SERVER_URL ?? '').replace(/\/$/, '');

const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'];

test('connector UI: first run, scan, drivers, gateway meters, claiming', { skip: BASE ? false : 'CONNECTOR_URL not set', timeout: 360_000 }, async (t) => {
  fs.mkdirSync(OUT, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: LAUNCH_ARGS,
  });
  t.after(() => browser.close());
  // A phone-sized window: the UI must work there.
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 430, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('dialog', (d) => d.accept());
  const shot = (name) => page.screenshot({ path: path.join(OUT, name), fullPage: true });
  const go = async (p) => {
    await page.click(`nav a[data-page="${p}"]`);
    await page.locator('main h1').first().waitFor();
  };

  await t.test('login with the default password forces a new one', async () => {
    await page.goto(BASE.replace(/\/?$/, '/'), { waitUntil: 'load' });
    await page.fill('input[name="password"]', 'not-the-password');
    await page.click('button[type="submit"]');
    await page.locator('[role="alert"]').waitFor();
    await page.fill('input[name="password"]', 'wattline');
    await page.click('button[type="submit"]');
    await page.locator('[data-testid="password-form"]').waitFor();
    await shot('connector-password.png');
    await page.fill('input[name="current_password"]', 'wattline');
    await page.fill('input[name="new_password"]', 'short-pw');
    await page.fill('input[name="confirm_password"]', 'short-pw');
    // The browser's own minLength check would stop the form: remove it to see the server's answer.
    await page.$$eval('input[minlength]', (els) => els.forEach((e) => e.removeAttribute('minlength')));
    await page.click('button[type="submit"]');
    const alert = page.locator('[role="alert"]');
    await alert.waitFor();
    assert.match(await alert.textContent(), /10/);
    await page.fill('input[name="new_password"]', NEW_PASSWORD);
    await page.fill('input[name="confirm_password"]', NEW_PASSWORD);
    await page.click('button[type="submit"]');
  });

  await t.test('the initial scan shows its progress and ends with a finish step', async () => {
    // The first start leads to the guided scan.
    const start = page.locator('[data-step="start"]');
    await start.waitFor();
    assert.match(await page.locator('main h1').textContent(), /First start/);
    assert.match(await start.textContent(), /127\.0\.1\.1-127\.0\.1\.30/);
    await page.click('[data-action="start-scan"]');
    const progress = page.locator('[data-testid="scan-progress"]');
    await page.waitForFunction(() => / of \d+ addresses tried/.test(document.querySelector('[data-testid="scan-progress"]')?.textContent ?? ''));
    const text = await progress.textContent();
    assert.match(text, / of 30 addresses tried/);
    await shot('connector-scan-progress.png');
    const finish = page.locator('[data-step="finish"]');
    await finish.waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('tr[data-found]').count(), LAN_METERS);
    // Every found meter was identified through a driver and is ticked.
    assert.equal(await page.locator('tr[data-found] input[type="checkbox"]:checked').count(), LAN_METERS);
    const drivers = await page.$$eval('tr[data-found] td:nth-child(6)', (cells) => [...new Set(cells.map((c) => c.textContent))].sort());
    assert.deepEqual(drivers, ['abb-b23', 'carlo-gavazzi-em24', 'eastron-sdm630', 'janitza-umg96rm-e']);
    await shot('connector-scan-finish.png');
    await page.click('[data-action="finish-scan"]');
    const result = page.locator('[data-testid="scan-result"]');
    await result.waitFor();
    assert.match(await result.textContent(), new RegExp(`^${LAN_METERS} meter\\(s\\) added`));
  });

  await t.test('the scanned meters are listed and polled, with their serial numbers', async () => {
    await go('meters');
    await page.waitForFunction(
      (n) => [...document.querySelectorAll('tr[data-meter] [data-col="state"]')].filter((c) => c.textContent === 'ok').length >= n,
      LAN_METERS,
      { timeout: 30_000 },
    );
    await page.waitForFunction(() => [...document.querySelectorAll('tr[data-meter] [data-col="serial"]')].some((c) => /\d/.test(c.textContent)));
  });

  await t.test('a bad driver shows its line number; a good one is listed', async () => {
    await go('drivers');
    await page.fill('input[name="type"]', 'broken-driver');
    await page.setInputFiles('input[name="xml"]', process.env.BAD_DRIVER);
    await page.click('[data-testid="driver-upload"] button[type="submit"]');
    const first = page.locator('[data-testid="driver-errors"] li').first();
    await first.waitFor();
    assert.equal(await first.getAttribute('data-line'), process.env.BAD_DRIVER_LINE);
    assert.match(await first.textContent(), new RegExp(`^Line ${process.env.BAD_DRIVER_LINE}: `));
    await shot('connector-driver-error.png');
    await page.fill('input[name="type"]', 'custom-sdm630');
    await page.setInputFiles('input[name="xml"]', path.join(process.env.PROFILES_DIR, 'eastron-sdm630.xml'));
    await page.click('[data-testid="driver-upload"] button[type="submit"]');
    await page.locator('tr[data-driver="custom-sdm630"]').waitFor();
    assert.match(await page.locator('tr[data-driver="custom-sdm630"]').textContent(), /uploaded/);
    assert.equal(await page.locator('tr[data-driver="broken-driver"]').count(), 0);
  });

  const addMeter = async (key, profile, port, unit) => {
    await page.click('[data-action="add-meter"]');
    const form = page.locator('[data-testid="meter-form"]');
    await form.locator('input[name="key"]').fill(key);
    await form.locator('select[name="profile"]').selectOption(profile);
    await form.locator('input[name="host"]').fill('127.0.0.1');
    await form.locator('input[name="port"]').fill(String(port));
    await form.locator('input[name="unit_id"]').fill(String(unit));
    await form.locator('button[type="submit"]').click();
    await page.locator(`tr[data-meter="${key}"]`).waitFor();
  };

  await t.test('meters added by hand, one behind a gateway, are polled', async () => {
    await go('meters');
    // A bad port is refused with the server's message, and the form stays open.
    await page.click('[data-action="add-meter"]');
    const form = page.locator('[data-testid="meter-form"]');
    await form.locator('input[name="key"]').fill('bad-port');
    await form.locator('select[name="profile"]').selectOption('eastron-sdm630');
    await form.locator('input[name="host"]').fill('127.0.0.1');
    await form.locator('input[name="port"]').fill('70000');
    await form.locator('button[type="submit"]').click();
    await form.locator('[role="alert"]').waitFor();
    assert.match(await form.locator('[role="alert"]').textContent(), /port/);
    assert.equal(await form.locator('input[name="port"].invalid').count(), 1);
    await form.locator('button', { hasText: 'Cancel' }).click();

    await addMeter('gw-unit1', 'custom-sdm630', process.env.GATEWAY_PORT, 1);
    await addMeter('gw-unit2', 'eastron-sdm630', process.env.GATEWAY_PORT, 2);
    await addMeter('direct-1', 'janitza-umg96rm-e', process.env.DIRECT_PORT, 1);
    for (const key of ['gw-unit1', 'gw-unit2', 'direct-1']) {
      await page.waitForFunction(
        (k) => {
          const row = document.querySelector(`tr[data-meter="${k}"]`);
          return row && row.querySelector('[data-col="state"]').textContent === 'ok' && /\d+ ms/.test(row.querySelector('[data-col="response"]').textContent);
        },
        key,
        { timeout: 30_000 },
      );
    }
    const headings = await page.locator('main h2').allTextContents();
    assert.ok(headings.some((h) => /Behind a gateway/.test(h)), headings.join(' | '));
    assert.ok(headings.some((h) => /Modbus TCP/.test(h)), headings.join(' | '));
    await shot('connector-meters.png');
  });

  await t.test('a driver in use cannot be deleted', async () => {
    await go('drivers');
    await page.locator('tr[data-driver="custom-sdm630"] [data-action="delete-driver"]').click();
    const alert = page.locator('[role="alert"]').first();
    await alert.waitFor();
    assert.match(await alert.textContent(), /used by gw-unit1/);
    assert.equal(await page.locator('tr[data-driver="custom-sdm630"]').count(), 1);
  });

  await t.test('removing a meter', async () => {
    await go('meters');
    await page.locator('tr[data-meter="direct-1"] input[type="checkbox"]').check();
    await page.click('[data-action="remove"]');
    await page.locator('tr[data-meter="direct-1"]').waitFor({ state: 'detached' });
    assert.equal(await page.locator('tr[data-meter="gw-unit1"]').count(), 1);
  });

  await t.test('settings and diagnostics', async () => {
    await go('settings');
    await page.locator('[data-testid="network-reason"]').waitFor();
    assert.match(await page.locator('[data-testid="network-reason"]').textContent(), /nmcli/);
    await shot('connector-settings.png');
    await go('diagnostics');
    await page.locator('tr[data-diag="gw-unit2"]').waitFor();
    await page.locator('[data-testid="uplink"]').waitFor();
    await shot('connector-diagnostics.png');
    await go('overview');
    await page.waitForFunction(() => document.querySelector('[data-field="last-read"]')?.textContent !== 'never');
    await shot('connector-overview.png');
  });

  await t.test('claimed on the server, the data arrives there', async () => {
    await go('overview');
    await page.waitForFunction(() => /code [2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}/.test(document.querySelector('[data-field="claim"]')?.textContent ?? ''));
    const code = (await page.locator('[data-field="claim"]').textContent()).match(/code ([2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4})/)[1];
    // The administrator enters the code on the server (its API until the server has a page).
    const admin = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
    t.after(() => admin.close());
    const headers = { 'X-Requested-With': 'wattline' };
    const login = await admin.request.post(`${SERVER}/api/v1/login`, { data: { username: 'admin', password: process.env.SERVER_ADMIN_PASSWORD }, headers });
    assert.equal(login.status(), 200, await login.text());
    const claim = await admin.request.post(`${SERVER}/api/v1/connectors/claim`, { data: { code, name: 'edge-ui' }, headers });
    assert.equal(claim.status(), 201, await claim.text());
    // The connector notices, pins the server and sends.
    await page.waitForFunction(() => /claimed/.test(document.querySelector('[data-field="claim"]')?.textContent ?? ''), null, { timeout: 60_000 });
    await page.waitForFunction(() => document.querySelector('[data-field="server-state"]')?.textContent === 'connected', null, { timeout: 60_000 });
    // The server's own UI lists the meters with live values.
    const server = await admin.newPage();
    server.setDefaultTimeout(30_000);
    await server.goto(`${SERVER}/#/meters`, { waitUntil: 'load' });
    if (await server.locator('input[name="password"]').count()) {
      await server.fill('input[name="username"]', 'admin');
      await server.fill('input[name="password"]', process.env.SERVER_ADMIN_PASSWORD);
      await server.click('button[type="submit"]');
    }
    await server.waitForFunction(
      (n) => document.querySelectorAll('tr[data-meter]').length >= n,
      LAN_METERS + 2,
      { timeout: 60_000 },
    );
    await server.screenshot({ path: path.join(OUT, 'server-meters.png'), fullPage: true });
  });

  assert.deepEqual(pageErrors, []);
});
