import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { gql, ingest, startServer, until } from './server.mjs';

const TENANT = 'e2e-tenant';
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

before(async () => {
  server = await startServer();
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close().catch(() => {});
  server?.stop();
});

test('dashboard shows exact totals, drills down, updates live and notices the server going away', { timeout: 120_000 }, async () => {
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

  // The server goes away: the indicator says so.
  server.proc.kill('SIGKILL');
  await until('offline indicator', async () => (await indicator.textContent()) === 'offline', 15_000);

  assert.deepEqual(pageErrors, []);
});
