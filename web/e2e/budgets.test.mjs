// Budgets and alerts in a real browser against `costwatch up`: a user creates a budget through
// the form (a bad amount is refused naming the field), spend crosses 80 %, the alert appears
// live in the Alerts view and is acknowledged there; the budget row shows the exact spend.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { gql, ingest, startServer, until } from './server.mjs';

const TENANT = 'e2e-budgets';
const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'artifacts');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const event = (id, amount) => ({
  id, tenant: TENANT, timestamp: new Date().toISOString(), category: 'hosting', provider: 'aws', service: 'ec2',
  resource: 'i-1', metric: 'vcpu_hours', quantity: '1', unit: 'hour', cost: { amount, currency: 'USD' },
});

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

test('create a budget in the form, cross 80 %, acknowledge the live alert', { timeout: 120_000 }, async () => {
  const { base } = server;
  await ingest(base, [event('b-1', '10')]);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base + '/');
  await until('tenant option', async () => (await page.locator(`[data-testid=tenant-select] option[value="${TENANT}"]`).count()) === 1);
  await page.getByTestId('tenant-select').selectOption(TENANT);

  await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Budgets/ }).click();
  await page.getByTestId('budget-tracker').waitFor();
  await page.getByTestId('budget-new').click();
  await page.getByTestId('budget-name').fill('Web tier');
  await page.getByTestId('budget-amount').fill('-5');
  await page.getByTestId('budget-save').click();
  await until('amount error', async () => ((await page.getByTestId('budget-error-amount').textContent()) ?? '').length > 0);
  // A monthly budget sized so that the 10 already spent is under 80 % and 30 more crosses it
  // (forecast thresholds may fire too early in a month; only the actual 80 % is asserted).
  await page.getByTestId('budget-amount').fill('45');
  await page.getByTestId('budget-period').selectOption('MONTHLY');
  await page.getByTestId('budget-save').click();
  const row = page.getByTestId('budget-row');
  await until('budget row', async () => (await row.count()) === 1);
  await until('spent 10', async () => (await row.getByTestId('budget-spent').getAttribute('data-amount')) === '10');

  await ingest(base, [event('b-2', '26.5')]);
  await until('spent 36.5', async () => (await row.getByTestId('budget-spent').getAttribute('data-amount')) === '36.5', 30_000);
  const [budget] = (await gql(base, `query($t:String!){budgets(tenant:$t){id percentSpent}}`, { t: TENANT })).budgets;
  assert.equal(budget.percentSpent, '81.11');
  await page.screenshot({ path: path.join(ARTIFACTS, 'budgets.png'), fullPage: true });

  await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Alerts/ }).click();
  await page.getByTestId('alerts-panel').waitFor();
  const { alerts } = await gql(base, `query($t:String!){alerts(tenant:$t){id kind threshold{amount}}}`, { t: TENANT });
  const crossing = alerts.find((a) => a.kind === 'BUDGET_THRESHOLD');
  assert.ok(crossing, JSON.stringify(alerts));
  assert.equal(crossing.threshold.amount, '36');
  const alertRow = page.locator(`[data-testid=alert-row][data-alert-id="${crossing.id}"]`);
  await until('alert row', async () => (await alertRow.getAttribute('data-state')) === 'TRIGGERED');
  await alertRow.getByTestId('alert-ack').click();
  await until('acknowledged', async () => (await alertRow.getAttribute('data-state')) === 'ACKNOWLEDGED');
  const after = (await gql(base, `query($t:String!){alerts(tenant:$t){id state}}`, { t: TENANT })).alerts;
  assert.equal(after.find((a) => a.id === crossing.id).state, 'ACKNOWLEDGED');
  await page.screenshot({ path: path.join(ARTIFACTS, 'alerts.png'), fullPage: true });

  // The overview's budget utilization is the server's exact percent for the budget.
  await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Overview/ }).click();
  const util = page.getByTestId('budget-utilization-percent');
  await until('utilization 81.11', async () => (await util.getAttribute('data-percent').catch(() => null)) === budget.percentSpent);
  await page.close();
});
