import { chromium } from 'playwright-core';
const [,, URL, PW, OUT, ...hashes] = process.argv;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
for (const [w, h] of [[1440, 900], [375, 812]]) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: w, height: h }, locale: process.env.LOC ?? 'en-US' });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.log('PAGEERROR', String(e)));
  page.on('console', (m) => m.type() === 'error' && console.log('CONSOLE', m.text()));
  await page.goto(URL + '/#/meters');
  await page.fill('input[name=username]', 'admin');
  await page.fill('input[name=password]', PW);
  await page.click('button[type=submit]');
  await page.waitForSelector('tr[data-meter]');
  for (const hsh of hashes) {
    await page.goto(URL + '/' + hsh);
    await page.waitForTimeout(2500);
    const name = hsh.replace(/[^a-z0-9]+/gi, '_').slice(0, 40);
    await page.screenshot({ path: `${OUT}/${name}-${w}.png`, fullPage: true });
  }
  await ctx.close();
}
await browser.close();
