// End-to-end browser test of the Wattline web app against a running wattline-server.
//
//   WATTLINE_URL=https://127.0.0.1:8443 WATTLINE_USER=admin WATTLINE_PASSWORD=... \
//   WATTLINE_OUT=../test-output/web npm run test:browser
//
// Env: WATTLINE_URL (required; the test is skipped without it), WATTLINE_USER, WATTLINE_PASSWORD,
// WATTLINE_OUT (screenshot directory, default <repo>/test-output/web), WATTLINE_MIN_METERS (default 10),
// CHROMIUM (browser binary, default /usr/bin/chromium).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const BASE = process.env.WATTLINE_URL;
const USER = process.env.WATTLINE_USER ?? 'admin';
const PASSWORD = process.env.WATTLINE_PASSWORD ?? '';
const OUT = process.env.WATTLINE_OUT
  ? path.resolve(process.env.WATTLINE_OUT)
  : fileURLToPath(new URL('../../test-output/web/', import.meta.url)); // git-ignored
const MIN_METERS = Number(process.env.WATTLINE_MIN_METERS ?? 10);
const EXECUTABLE = process.env.CHROMIUM ?? '/usr/bin/chromium';

const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Text of every live value cell in the meter table, keyed by meter + signal. */
async function tableValues(page) {
  return page.$$eval('tr[data-meter] td[data-signal]', (cells) =>
    cells.map((c) => `${c.closest('tr').dataset.meter}/${c.dataset.signal}=${c.textContent.trim()}`).join('\n'),
  );
}

test(
  'web app: login, live meter list, trend chart',
  { skip: BASE ? false : 'WATTLINE_URL not set', timeout: 120_000 },
  async (t) => {
    fs.mkdirSync(OUT, { recursive: true });
    const browser = await chromium.launch({ executablePath: EXECUTABLE, headless: true, args: LAUNCH_ARGS });
    t.after(() => browser.close());
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.setDefaultTimeout(15_000);
    // Every "signal_id=value" that reached the page in a live frame, decoded as docs/api.md says.
    const framePairs = new Set();
    let valueFrames = 0;
    page.on('websocket', (ws) => {
      ws.on('framereceived', ({ payload }) => {
        let msg;
        try {
          msg = JSON.parse(String(payload));
        } catch {
          return;
        }
        if (msg.type !== 'values' || !Array.isArray(msg.values)) return;
        valueFrames++;
        for (const [id, value] of msg.values) framePairs.add(`${id}=${value}`);
      });
    });

    await t.test('wrong password shows the server error', async () => {
      await page.goto(`${BASE.replace(/\/?$/, '/')}#/meters`, { waitUntil: 'load' });
      await page.locator('input[name="username"]').waitFor();
      await page.fill('input[name="username"]', USER);
      await page.fill('input[name="password"]', `${PASSWORD}-wrong`);
      await page.click('button[type="submit"]');
      const alert = page.locator('[role="alert"]');
      await alert.waitFor({ state: 'visible' });
      const text = (await alert.textContent()).trim();
      assert.ok(text.length > 0, 'error message is empty');
      assert.equal(await page.locator('tr[data-meter]').count(), 0);
    });

    await t.test('login shows the meter list with live power values', async () => {
      await page.fill('input[name="username"]', USER);
      await page.fill('input[name="password"]', PASSWORD);
      await page.click('button[type="submit"]');
      await page.waitForFunction(
        (min) => {
          const cells = document.querySelectorAll('tr[data-meter] td[data-signal="active_power_total"]');
          let numeric = 0;
          for (const c of cells) if (/\d/.test(c.textContent ?? '') && Number.isFinite(parseFloat(c.dataset.value ?? ''))) numeric++;
          return numeric >= min;
        },
        MIN_METERS,
        { timeout: 20_000 },
      );
      assert.match(page.url(), /#\/meters$/);
      const rows = await page.locator('tr[data-meter]').count();
      assert.ok(rows >= MIN_METERS, `only ${rows} meter rows`);
    });

    await t.test('values update live', async () => {
      // Over the WebSocket: while it is up the app does not poll, so changes come from its frames.
      await page.locator('[data-testid="conn"][data-state="live"]').waitFor({ timeout: 15_000 });
      await page.waitForTimeout(1_500); // the catch-up poll at connect has landed
      const firstPower = page.locator('tr[data-meter] td[data-signal="active_power_total"]').first();
      const powerBefore = (await firstPower.textContent()).trim();
      const before = await tableValues(page);
      const deadline = Date.now() + 5_000;
      let after = before;
      while (after === before && Date.now() < deadline) {
        await page.waitForTimeout(250);
        after = await tableValues(page);
      }
      assert.notEqual(after, before, `no value in the table changed within 5 s (power was ${powerBefore})`);
      assert.equal(await page.locator('[data-testid="conn"]').getAttribute('data-state'), 'live');
      // What the table shows now is what came in the frames.
      assert.ok(valueFrames > 0, 'no values frame arrived over the WebSocket');
      const shown = await page.$$eval('tr[data-meter] td[data-signal-id][data-value]', (cells) =>
        cells.map((c) => `${c.dataset.signalId}=${c.dataset.value}`),
      );
      const fromFrames = shown.filter((p) => framePairs.has(p));
      assert.ok(
        fromFrames.length >= MIN_METERS,
        `only ${fromFrames.length} of ${shown.length} shown values came in a frame (${valueFrames} frames): ${shown.slice(0, 5)}`,
      );
      await page.screenshot({ path: path.join(OUT, 'meters.png'), fullPage: true });
    });

    await t.test('meter detail shows a drawn trend chart', async () => {
      const firstRow = page.locator('tr[data-meter]').first();
      const name = await firstRow.getAttribute('data-meter');
      await firstRow.locator('a').first().click();
      await page.locator(`[data-testid="meter-detail"][data-meter="${name}"]`).waitFor();
      assert.match(page.url(), /#\/meters\/\d+/);
      const trend = page.locator('[data-testid="trend"]');
      await trend.locator('canvas').waitFor();
      await page.waitForFunction(
        () => Number(document.querySelector('[data-testid="trend"]')?.getAttribute('data-points') ?? 0) > 1,
        undefined,
        { timeout: 20_000 },
      );
      const points = Number(await trend.getAttribute('data-points'));
      assert.ok(points > 1, `trend has ${points} points`);
      // The canvas has pixels drawn on it (axes, grid and the series).
      const drawn = await trend.locator('canvas').evaluate((c) => {
        const ctx = c.getContext('2d');
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
        return n;
      });
      assert.ok(drawn > 100, `trend canvas looks empty (${drawn} pixels drawn)`);
      await page.waitForTimeout(500);
      await page.screenshot({ path: path.join(OUT, 'trend.png'), fullPage: true });
    });

    await t.test('no uncaught page errors', () => {
      assert.deepEqual(pageErrors, []);
    });
  },
);
