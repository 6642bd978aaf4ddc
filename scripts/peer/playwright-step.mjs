// The peer benchmark: Playwright's click + ariaSnapshot on the page that
// env/web's BenchmarkStepClick steps on (env/web/testdata/bench200.html),
// in the same Chromium, with the flags pilot starts it with.
// Run it through scripts/bench-peer.sh, which installs playwright-core.
import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const [page200, n = '300', chrome = '/usr/bin/chromium'] = process.argv.slice(2);
const html = fs.readFileSync(page200);
const srv = http.createServer((req, res) => {
  res.writeHead(200, {'content-type': 'text/html; charset=utf-8'});
  res.end(html);
});
await new Promise((r) => srv.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${srv.address().port}/${path.basename(page200)}`;

const browser = await chromium.launch({
  executablePath: chrome,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
try {
  const ctx = await browser.newContext({viewport: {width: 1280, height: 800}});
  const page = await ctx.newPage();
  await page.goto(url);
  const toggle = page.locator('#t');
  const body = page.locator('body');
  await toggle.click();
  await body.ariaSnapshot();
  const step = [], click = [];
  for (let i = 0; i < Number(n); i++) {
    const t0 = performance.now();
    await toggle.click();
    const t1 = performance.now();
    await body.ariaSnapshot();
    const t2 = performance.now();
    step.push(t2 - t0);
    click.push(t1 - t0);
  }
  const t0 = performance.now();
  const cold = await browser.newContext();
  const p2 = await cold.newPage();
  await p2.goto(url);
  await p2.locator('body').ariaSnapshot();
  const reset = performance.now() - t0;
  await cold.close();
  console.log(JSON.stringify({steps: step.length, step_median_ms: +median(step).toFixed(2), click_median_ms: +median(click).toFixed(2), new_context_goto_snapshot_ms: +reset.toFixed(1), playwright: (await import('playwright-core/package.json', {with: {type: 'json'}})).default.version}));
} finally {
  await browser.close();
  srv.close();
}
