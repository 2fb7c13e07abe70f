// Forecast and anomalies in a real browser against `costwatch up`: six days of steady hourly
// history with one 10× hour on r-spiky (all before the current hour) are ingested through the
// collector; the trends chart marks the anomalies and draws the 14-day forecast, the Anomalies
// panel lists the spike with its root cause, and "Expected" records feedback. A tenant with too
// little history gets a muted forecast note instead of a broken chart.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { gql, ingest, startServer, until } from './server.mjs';

const TENANT = 'e2e-anomalies';
const SHORT = 'e2e-short-history';
const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'artifacts');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const HOUR = 3_600_000;
const RESOURCES = [['r-a', 'ec2', '2'], ['r-b', 'rds', '3'], ['r-c', 'ec2', '0.5'], ['r-spiky', 'ec2', '1']];

/** `hours` closed hours ending with the last one (mid-hour timestamps); r-spiky costs 10× in the last when `spike`. */
function history(tenant, hours, spike) {
  const thisHour = Math.floor(Date.now() / HOUR) * HOUR;
  const events = [];
  for (let back = hours; back >= 1; back--) {
    const timestamp = new Date(thisHour - back * HOUR + 30 * 60_000).toISOString();
    for (const [resource, service, amount] of RESOURCES) {
      events.push({
        id: `${tenant}-${resource}-${back}`, tenant, timestamp, category: service === 'rds' ? 'database' : 'hosting',
        provider: 'aws', service, resource, metric: 'vcpu_hours', quantity: '1', unit: 'hour',
        cost: { amount: spike && back === 1 && resource === 'r-spiky' ? '10' : amount, currency: 'USD' },
      });
    }
  }
  return events;
}

const ANOMALIES = `query($t:String!){anomalies(tenant:$t,from:"2020-01-01T00:00:00Z",to:"2100-01-01T00:00:00Z"){id series windowStart rootCause{key} feedback{expected}}}`;

let server;
let browser;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer();
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close().catch(() => {});
  server?.stop();
});

test('anomalies are marked on the trends chart, listed with root cause, and marked expected', { timeout: 120_000 }, async () => {
  const { base } = server;
  await ingest(base, history(TENANT, 6 * 24, true));
  await ingest(base, history(SHORT, 3 * 24, false));
  // The detector runs right after the ingest; wait until the spike's anomalies are stored.
  const stored = await until('spike detected', async () => {
    const { anomalies } = await gql(base, ANOMALIES, { t: TENANT });
    return anomalies.some((a) => a.rootCause[0]?.key === 'resource=r-spiky') && anomalies;
  });
  await new Promise((r) => setTimeout(r, 500)); // let the pass store every series' anomaly
  const { anomalies } = await gql(base, ANOMALIES, { t: TENANT });
  assert.ok(anomalies.length >= stored.length);

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base + '/');
  await until('tenant option', async () => (await page.locator(`[data-testid=tenant-select] option[value="${TENANT}"]`).count()) === 1);
  await page.getByTestId('tenant-select').selectOption(TENANT);

  // Trends: every anomaly (all in the 30-day range) marked, the 14-day forecast drawn.
  await page.getByTestId('trends-chart').waitFor();
  const want = `${anomalies.length} anomalies marked; forecast 14 days`;
  await until(want, async () => (await page.getByTestId('trends-summary').textContent()) === want, 30_000);
  const drawn = await page.evaluate(() => {
    const series = window.__cwCharts?.trends?.getOption().series ?? [];
    return {
      marks: series.find((s) => s.id === 'anomalies')?.markPoint?.data?.length ?? 0,
      forecast: series.filter((s) => s.name === 'Forecast (80 % / 95 %)').map((s) => s.id),
    };
  });
  assert.equal(drawn.marks, anomalies.length);
  assert.deepEqual(drawn.forecast, ['fc-lower', 'fc-low95', 'fc-mid80', 'fc-high95', 'fc-point']);
  assert.equal(await page.getByTestId('forecast-note').count(), 0);
  await new Promise((r) => setTimeout(r, 1200)); // chart animations, for the picture only
  await page.screenshot({ path: path.join(ARTIFACTS, 'trends-forecast.png'), fullPage: true });

  // The toggle removes the forecast from the chart.
  await page.getByTestId('trends-show-forecast').uncheck();
  await until('forecast hidden', async () => (await page.getByTestId('trends-summary').textContent()).endsWith('no forecast'));

  // Overview badge: every open anomaly of the range counted; a click opens the anomalies panel.
  const badge = page.getByTestId('anomaly-badge');
  const open = anomalies.filter((a) => !a.feedback?.expected).length;
  await until(`badge ${open}`, async () => (await badge.getAttribute('data-count')) === String(open));
  await badge.click();
  await page.getByTestId('anomalies-panel').waitFor();
  const rows = page.getByTestId('anomaly-row');
  await until('anomaly rows', async () => (await rows.count()) === anomalies.length);
  const spiky = anomalies.find((a) => a.rootCause[0]?.key === 'resource=r-spiky');
  const row = page.locator(`[data-testid=anomaly-row][data-anomaly-id="${spiky.id}"]`);
  assert.match(await row.getByTestId('anomaly-causes').textContent(), /r-spiky\s+\d+(\.\d+)? %/);
  assert.match(await row.textContent(), /Spike/);
  await row.getByTestId('anomaly-expected').click();
  await until('feedback shown', async () => ((await row.getByTestId('anomaly-feedback').textContent().catch(() => '')) ?? '').startsWith('Marked expected'));
  assert.equal(await row.getByTestId('anomaly-feedback').getAttribute('data-expected'), 'true');
  const marked = (await gql(base, ANOMALIES, { t: TENANT })).anomalies.find((a) => a.id === spiky.id);
  assert.deepEqual(marked.feedback, { expected: true });
  await page.screenshot({ path: path.join(ARTIFACTS, 'anomalies.png'), fullPage: true });

  // Too little history: the chart still renders, with the forecast's error as a muted note.
  await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Overview/ }).click();
  await page.getByTestId('trends-show-forecast').check();
  await page.getByTestId('tenant-select').selectOption(SHORT);
  await until('forecast note', async () => /scope/.test((await page.getByTestId('forecast-note').textContent().catch(() => '')) ?? ''), 30_000);
  await page.getByTestId('trends-chart').waitFor();
  assert.match(await page.getByTestId('trends-summary').textContent(), /no forecast$/);
  await page.close();
});
