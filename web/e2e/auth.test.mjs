// Signing in, against `costwatch up` with its default local authentication: without a token the
// login view shows; the link `up` prints signs the admin in (and leaves the address bar); a
// tenant-viewer sees only its tenant — the right total, no other tenant to pick, no editing —
// and the server refuses it the other tenant even when asked directly.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { gql, ingest, startServer, until } from './server.mjs';

const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'artifacts');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const [MINE, OTHER] = ['auth-acme', 'auth-globex'];
const SUMMARY = 'query($tenant: String!, $range: TimeRangeInput!) { costSummary(tenant: $tenant, range: $range) { total { amount } } }';

const event = (tenant, id, amount) => ({
  id, tenant, timestamp: new Date().toISOString(), category: 'hosting', provider: 'aws', service: 'ec2',
  resource: 'i-1', metric: 'vcpu_hours', quantity: '1', unit: 'hour', cost: { amount, currency: 'USD' },
});

let server;
let browser;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer({ auth: 'local' });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close().catch(() => {});
  server?.stop();
});

test('login view, admin link, and a tenant-viewer confined to its tenant', { timeout: 120_000 }, async () => {
  const { base } = server;
  const loginUrl = await until('the printed login link', async () => server.loginUrl());
  const admin = new URL(loginUrl).hash.replace('#token=', '');
  const ingestKey = server.token('ingest', [MINE, OTHER]);
  await ingest(base, [event(MINE, 'a-1', '7.25'), event(OTHER, 'g-1', '900')], ingestKey);
  await until('both tenants counted', async () => (await gql(base, '{ tenants }', {}, admin)).tenants.length === 2);

  // No token: the login view, not the dashboard.
  const anon = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await anon.goto(base + '/');
  await anon.getByTestId('login-view').waitFor();
  await anon.getByTestId('login-token').fill('not-a-token');
  await anon.getByTestId('login-submit').click();
  await until('a shape error', async () => ((await anon.getByTestId('login-error').textContent()) ?? '').length > 0);
  await anon.screenshot({ path: path.join(ARTIFACTS, 'login-desktop.png') });
  await anon.close();

  // The viewer: one tenant offered, its exact total, no budget editing, address bar cleaned.
  const viewerToken = server.token('tenant-viewer', [MINE]);
  const viewer = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await viewer.goto(`${base}/#token=${viewerToken}`);
  await until('token moved out of the URL', async () => !viewer.url().includes('token='));
  await until('viewer tenant offered', async () => (await viewer.locator(`[data-testid=tenant-select] option[value="${MINE}"]`).count()) === 1);
  assert.equal(await viewer.locator(`[data-testid=tenant-select] option[value="${OTHER}"]`).count(), 0);
  assert.match(await viewer.getByTestId('account-who').textContent(), /tenant-viewer/);
  const total = viewer.getByTestId('total-amount');
  await until('viewer total 7.25', async () => (await total.getAttribute('data-amount')) === '7.25');
  const [from, to] = await Promise.all([total.getAttribute('data-from'), total.getAttribute('data-to')]);
  const truth = await gql(base, SUMMARY, { tenant: MINE, range: { from, to } }, viewerToken);
  assert.equal(await total.getAttribute('data-amount'), truth.costSummary.total.amount);
  await viewer.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Budgets/ }).click();
  await viewer.getByTestId('budget-tracker').waitFor();
  assert.equal(await viewer.getByTestId('budget-new').count(), 0, 'a viewer cannot create budgets');
  assert.ok((await viewer.getByTestId('read-only-hint').count()) > 0);
  await viewer.screenshot({ path: path.join(ARTIFACTS, 'viewer-desktop.png') });
  // The server, not the UI, is what refuses the other tenant.
  await assert.rejects(gql(base, SUMMARY, { tenant: OTHER, range: { from, to } }, viewerToken), /FORBIDDEN/);
  await viewer.close();

  // The admin link: every tenant, and signing out returns to the login view.
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await page.goto(loginUrl);
  await until('admin sees both tenants', async () => (await page.locator('[data-testid=tenant-select] option').count()) >= 2);
  assert.match(await page.getByTestId('account-who').textContent(), /admin/);
  await page.screenshot({ path: path.join(ARTIFACTS, 'admin-mobile.png') });
  await page.getByTestId('sign-out').click();
  await page.getByTestId('login-view').waitFor();
  await page.close();
});
