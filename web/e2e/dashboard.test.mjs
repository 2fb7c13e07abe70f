import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { gql, ingest, startServer, until } from './server.mjs';

const TENANT = 'e2e-tenant';
/** Screenshots of each run (gitignored). */
const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'artifacts');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const event = (id, category, service, amount) => ({
  id, tenant: TENANT, timestamp: new Date().toISOString(), category, provider: 'aws', service,
  resource: `${service}-1`, metric: category === 'api' ? 'requests' : 'vcpu_hours', quantity: '1',
  unit: category === 'api' ? 'request' : 'hour', cost: { amount, currency: 'USD' },
});

const SUMMARY = `query($tenant: String!, $range: TimeRangeInput!) { costSummary(tenant: $tenant, range: $range, currency: "USD") { total { amount } } }`;

let server;
let browser;

/** Lets chart animations finish before a screenshot (pictures only; nothing is asserted on time). */
const settle = () => new Promise((r) => setTimeout(r, 1200));

/**
 * Viewport centre of a chart item found by its data name, once its chart has finished animating
 * and the item stays put (ECharts animates entrances and layout changes).
 */
async function chartItemCenter(page, chart, name) {
  const locate = () =>
    page.evaluate(
      ([chartName, itemName]) => {
        const c = window.__cwCharts?.[chartName];
        const data = c?.getModel().getSeriesByIndex(0)?.getData();
        // Entrance animations clip the series (a sweep from the left): wait until they are over.
        if (!data || !c.getZr().animation.isFinished()) return null;
        const i = data.mapArray((idx) => data.getName(idx)).indexOf(itemName);
        const el = i < 0 ? null : data.getItemGraphicEl(i);
        if (!el || !data.getItemLayout(i)) return null;
        // The element's own box, moved by its global transform (translations only here).
        const r = el.getBoundingRect();
        const rect = c.getDom().getBoundingClientRect();
        const [sx, , , sy, tx, ty] = el.transform ?? [1, 0, 0, 1, 0, 0];
        return [rect.left + tx + sx * (r.x + r.width / 2), rect.top + ty + sy * (r.y + r.height / 2)];
      },
      [chart, name],
    );
  return until(`${chart} item ${name} at rest`, async () => {
    const samples = [];
    for (let k = 0; k < 3; k++) {
      if (k) await new Promise((r) => setTimeout(r, 250));
      samples.push(await locate());
    }
    const [a, b, c] = samples;
    return a && b && c && a[0] === c[0] && a[1] === c[1] && b[0] === c[0] && b[1] === c[1] ? c : null;
  });
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer();
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close().catch(() => {});
  server?.stop();
});

test('dashboard shows exact totals, drills down, updates live, notices the server going away and recovers', { timeout: 180_000 }, async () => {
  const { base } = server;
  await ingest(base, [event('e2e-1', 'api', 'api-gateway', '0.00000000503'), event('e2e-2', 'hosting', 'ec2', '12.5')]);
  await until('the tenant to be counted', async () => (await gql(base, '{ tenants }')).tenants.includes(TENANT));

  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(base + '/');

  const indicator = page.getByTestId('live-indicator');
  await until('live indicator', async () => (await indicator.textContent()) === 'live');
  await until('tenant option', async () => (await page.locator(`[data-testid=tenant-select] option[value="${TENANT}"]`).count()) === 1);
  await page.getByTestId('tenant-select').selectOption(TENANT);

  // The shown total is the server's exact decimal for the range the page asked for.
  const total = page.getByTestId('total-amount');
  const shownTotal = async () => {
    const [amount, from, to] = await Promise.all(['data-amount', 'data-from', 'data-to'].map((a) => total.getAttribute(a)));
    return { amount, from, to };
  };
  const breadcrumb = async () => (await page.getByTestId('breadcrumb').textContent()).replace(/\s+/g, ' ').trim();
  await until('total 12.50000000503', async () => (await shownTotal()).amount === '12.50000000503');
  const shown = await shownTotal();
  const server1 = await gql(base, SUMMARY, { tenant: TENANT, range: { from: shown.from, to: shown.to } });
  assert.equal(shown.amount, server1.costSummary.total.amount);
  assert.equal(await total.textContent(), '$12.50');
  assert.match(await page.getByTestId('total-exact').textContent(), /\$12\.50000000503/);

  // Click the "hosting" slice on the canvas; the breadcrumb follows.
  await page.getByTestId('breakdown-chart').waitFor();
  const point = await until('pie layout', () =>
    page.evaluate(() => {
      const chart = window.__cwCharts?.breakdown;
      const data = chart?.getModel().getSeriesByIndex(0)?.getData();
      if (!data) return null;
      const i = data.mapArray((idx) => data.getName(idx)).indexOf('hosting');
      const l = data.getItemLayout(i);
      if (!l) return null;
      // Middle of the slice (ECharts angles are in radians, clockwise on screen).
      const a = (l.startAngle + l.endAngle) / 2;
      const r = (l.r + l.r0) / 2;
      const rect = chart.getDom().getBoundingClientRect();
      return { x: rect.left + l.cx + r * Math.cos(a), y: rect.top + l.cy + r * Math.sin(a) };
    }),
  );
  await page.mouse.click(point.x, point.y);
  await until('breadcrumb hosting', async () => (await page.getByTestId('breadcrumb').textContent()).includes('hosting'));
  await until('sub-kind level', async () => (await page.getByText('by sub-kind').count()) === 1);

  // A new event shows up without a reload.
  await page.evaluate(() => (window.__noReload = true));
  await ingest(base, [event('e2e-3', 'hosting', 'ec2', '2.25')]);
  await until('live total 14.75000000503', async () => (await shownTotal()).amount === '14.75000000503');
  assert.equal(await page.evaluate(() => window.__noReload), true);
  assert.equal(await indicator.textContent(), 'live');
  const after = await shownTotal();
  const server2 = await gql(base, SUMMARY, { tenant: TENANT, range: { from: after.from, to: after.to } });
  assert.equal(after.amount, server2.costSummary.total.amount);

  // The Sankey follows the drill filter: under "hosting" its flows add up to hosting's cost only.
  await page.getByTestId('breakdown-mode-sankey').click();
  const sankeyTotal = () => page.getByTestId('sankey-total').getAttribute('data-amount');
  await until('sankey total under hosting', async () => (await sankeyTotal()) === '14.75');
  // At the top, the flows from the tenant add up to the exact total.
  await page.getByTestId('breadcrumb').getByRole('button', { name: 'All categories' }).click();
  await until('sankey total of everything', async () => (await sankeyTotal()) === after.amount);
  // Clicking the ec2 service node drills the whole dashboard to its category, sub-kind and service.
  await until('sankey layout', () => page.evaluate(() => Boolean(window.__cwCharts?.sankey)));
  await page.mouse.click(...(await chartItemCenter(page, 'sankey', 's:ec2')));
  await until('breadcrumb to ec2 from the sankey', async () => /^All categories › hosting › \S+ › ec2$/.test(await breadcrumb()));
  await until('sankey total under ec2', async () => (await sankeyTotal()) === '14.75');

  // The treemap: a click on hosting's block drills down to the service under the click.
  await page.getByTestId('breadcrumb').getByRole('button', { name: 'All categories' }).click();
  await page.getByTestId('breakdown-mode-treemap').click();
  await until('treemap chart', () => page.evaluate(() => (window.__cwCharts?.treemap?.getOption().series[0].data.length ?? 0) === 2));
  await settle();
  await page.screenshot({ path: path.join(ARTIFACTS, 'treemap-desktop-1280x1000.png') });
  await page.mouse.click(...(await chartItemCenter(page, 'treemap', 'hosting')));
  await until('breadcrumb to the ec2 service', async () => /^All categories › hosting › \S+ › ec2$/.test(await breadcrumb()));
  await page.getByTestId('breakdown-mode-donut').click();
  await until('donut by resource', async () => (await page.getByText('by resource').count()) === 1);
  await page.getByTestId('breadcrumb').getByRole('button', { name: 'All categories' }).click();
  await until('donut back at the top', async () => (await page.getByText('by category').count()) === 1);

  // Resource utilization: an hour × weekday heat map and a per-resource table with exact amounts.
  await page.getByRole('button', { name: 'Resource utilization' }).click();
  await until('heat map', () => page.evaluate(() => Boolean(window.__cwCharts?.utilization)));
  const tableAmounts = async () => page.getByTestId('resource-table').locator('td[data-amount]').evaluateAll((tds) => tds.map((td) => td.dataset.amount));
  await until('resource rows', async () => (await tableAmounts()).length === 2);
  assert.deepEqual(await tableAmounts(), ['14.75', '0.00000000503']);
  const heatTotal = await page.evaluate(() => {
    const data = window.__cwCharts.utilization.getOption().series[0].data;
    return data.reduce((sum, [, , v]) => sum + v, 0);
  });
  assert.ok(Math.abs(heatTotal - 14.75000000503) < 1e-9, `heat map cells sum to ${heatTotal}`);
  await settle();
  await page.screenshot({ path: path.join(ARTIFACTS, 'utilization-desktop-1280x1000.png'), fullPage: true });
  await page.getByTestId('heat-metric-events').click();
  await until('events heat map', () =>
    page.evaluate(() => window.__cwCharts?.utilization?.getOption().series[0].data.reduce((s, [, , v]) => s + v, 0) === 3),
  );
  await page.getByRole('button', { name: 'Overview' }).click();
  await until('overview again', async () => (await shownTotal()).amount === after.amount);

  // The server goes away: the indicator says so.
  server.proc.kill('SIGKILL');
  await until('offline indicator', async () => (await indicator.textContent()) === 'offline', 15_000);

  // By itself, every section falls back to its last answer from IndexedDB and says how old it is.
  const notes = page.getByTestId('offline-note');
  await until('offline notes on overview, breakdown and trends', async () => (await notes.count()) === 3);
  assert.match(await notes.first().textContent(), /^offline — showing data from .+ \((just now|\d+ min ago)\)/);
  assert.equal((await shownTotal()).amount, '14.75000000503');
  // A range never loaded was never cached: an error, not other numbers.
  await page.getByRole('button', { name: '7d', exact: true }).click();
  await until('7d is not cached', async () => (await page.getByText('Could not load: Cannot reach the Costwatch server').count()) > 0);
  await page.getByRole('button', { name: '30d', exact: true }).click();
  await until('offline notes again', async () => (await notes.count()) === 3);
  assert.equal((await shownTotal()).amount, '14.75000000503');
  // The utilization view too.
  await page.getByRole('button', { name: 'Resource utilization' }).click();
  await until('utilization offline note', async () => (await page.getByTestId('offline-note').count()) === 1);
  assert.deepEqual(await tableAmounts(), ['14.75', '0.00000000503']);
  await page.getByRole('button', { name: 'Overview' }).click();

  // It comes back on the same port and data dir: the page reconnects by itself and the total is still right.
  await server.restart();
  await until('live again', async () => (await indicator.textContent()) === 'live', 45_000);
  await until('total after restart', async () => (await shownTotal()).amount === '14.75000000503');
  const recovered = await shownTotal();
  const server3 = await gql(base, SUMMARY, { tenant: TENANT, range: { from: recovered.from, to: recovered.to } });
  assert.equal(recovered.amount, server3.costSummary.total.amount);
  assert.equal(await total.textContent(), '$14.75');
  await until('no offline note', async () => (await page.getByTestId('offline-note').count()) === 0);
  assert.equal(await page.evaluate(() => window.__noReload), true);
  // Live updates flow again after the restart.
  await ingest(base, [event('e2e-4', 'database', 'rds', '1')]);
  await until('live total after restart', async () => (await shownTotal()).amount === '15.75000000503', 30_000);

  await page.setViewportSize({ width: 1280, height: 800 });
  await settle();
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-desktop-1280x800.png') });

  assert.deepEqual(pageErrors, []);
});

test('on a phone: no sideways scrolling, swipe between categories, collapsible sections', { timeout: 90_000 }, async () => {
  const { base } = server;
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 });
  const page = await ctx.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  try {
    await page.goto(base + '/');
    await until('tenant option', async () => (await page.locator(`[data-testid=tenant-select] option[value="${TENANT}"]`).count()) === 1);
    await page.getByTestId('tenant-select').selectOption(TENANT);
    await until('total', async () => (await page.getByTestId('total-amount').getAttribute('data-amount')) !== null);
    assert.equal(await page.evaluate(() => matchMedia('(pointer: coarse)').matches), true);
    await until('breakdown chart', () => page.evaluate(() => Boolean(window.__cwCharts?.breakdown)));
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no horizontal overflow at 390 px');

    // Categories in the overview's order, largest first.
    const categories = await page.locator('.category-name').allTextContents();
    assert.ok(categories.length >= 2, `categories: ${categories}`);
    const breadcrumb = async () => (await page.getByTestId('breadcrumb').textContent()).replace(/\s+/g, ' ').trim();
    const cdp = await ctx.newCDPSession(page);
    const swipe = async (fromX, toX) => {
      const box = await page.getByTestId('breakdown-chart').boundingBox();
      const y = box.y + box.height / 2;
      const point = (x) => [{ x, y }];
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: point(fromX) });
      for (let k = 1; k <= 5; k++) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: point(fromX + ((toX - fromX) * k) / 5) });
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    };
    await page.getByTestId('breakdown-chart').scrollIntoViewIfNeeded();
    await swipe(330, 60); // left: the first category
    await until(`breadcrumb ${categories[0]}`, async () => (await breadcrumb()) === `All categories › ${categories[0]}`);
    await swipe(330, 60); // left again: the next one
    await until(`breadcrumb ${categories[1]}`, async () => (await breadcrumb()) === `All categories › ${categories[1]}`);
    await swipe(60, 330); // right: back
    await until(`breadcrumb ${categories[0]} again`, async () => (await breadcrumb()) === `All categories › ${categories[0]}`);

    // Sections fold away (and the chart with them).
    const trendsToggle = page.getByTestId('section-trends').getByRole('button', { name: /Trends/ });
    await trendsToggle.click();
    assert.equal(await trendsToggle.getAttribute('aria-expanded'), 'false');
    await until('trends chart gone', async () => (await page.getByTestId('trends-chart').count()) === 0);
    await trendsToggle.click();
    await until('trends chart back', async () => (await page.getByTestId('trends-chart').count()) === 1);

    await page.evaluate(() => window.scrollTo(0, 0));
    await settle();
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-mobile-390x844.png'), fullPage: true });
    assert.deepEqual(pageErrors, []);
  } finally {
    await ctx.close();
  }
});
