#!/usr/bin/env node
// `npm run bench` (`make bench-web` builds first): reports the initial JS bundle of web/dist
// (what index.html loads before any dynamic import) against all JS, and the first contentful
// paint of the dashboard served by `costwatch up --no-demo` (started like the e2e test does),
// next to baselines measured in the same run. Numbers, not pass/fail.
//
// Settings: COSTWATCH_BIN, CHROMIUM_PATH (as for the e2e test), BENCH_RUNS (default 7),
// COSTWATCH_WEB_DIST (another build to measure, e.g. an older one for a before/after).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { WEB_DIST, startServer } from '../e2e/server.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function size(file) {
  const buf = readFileSync(path.join(WEB_DIST, file));
  return { file, bytes: buf.length, gzipBytes: gzipSync(buf, { level: 9 }).length };
}

/** The JS that index.html loads up front: its module scripts and modulepreloads (not lazy chunks). */
function bundleSizes() {
  const html = readFileSync(path.join(WEB_DIST, 'index.html'), 'utf8');
  const initial = [
    ...html.matchAll(/<script[^>]*type="module"[^>]*src="\/?([^"]+)"/g),
    ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="\/?([^"]+)"/g),
  ].map((m) => m[1]);
  const all = readdirSync(path.join(WEB_DIST, 'assets'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => `assets/${f}`);
  const lazy = all.filter((f) => !initial.includes(f));
  const sum = (list) => list.map(size).reduce((a, b) => ({ bytes: a.bytes + b.bytes, gzipBytes: a.gzipBytes + b.gzipBytes }), { bytes: 0, gzipBytes: 0 });
  return { initial: { files: initial.map(size), ...sum(initial) }, lazy: { files: lazy.map(size), ...sum(lazy) }, total: sum(all) };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** FCP (ms from navigation start) of one cold load in a fresh context. */
async function fcp(browser, url) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  try {
    await page.goto(url, { waitUntil: 'load' });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const t = await page.evaluate(
        () => performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint')?.startTime ?? null,
      );
      if (t !== null) return t;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no first-contentful-paint for ${url}`);
  } finally {
    await ctx.close();
  }
}

async function measure(browser, url) {
  await fcp(browser, url); // warm-up (server, chromium), not counted
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await fcp(browser, url));
  return { medianMs: Math.round(median(runs) * 10) / 10, minMs: Math.round(Math.min(...runs) * 10) / 10, runs: runs.map((r) => Math.round(r * 10) / 10) };
}

statSync(path.join(WEB_DIST, 'index.html')); // fail early without a build
const bundle = bundleSizes();
const server = await startServer();
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
let result;
try {
  const dashboard = await measure(browser, `${server.base}/`);
  // Baselines: a tiny non-app document from the same server, and an inline page with no network at all.
  const healthz = await measure(browser, `${server.base}/healthz`);
  const inline = await measure(browser, 'data:text/html,<!doctype html><p>baseline</p>');
  result = { bundle, fcp: { dashboard, baselineSameServer: healthz, baselineInline: inline, overSameServerMs: Math.round((dashboard.medianMs - healthz.medianMs) * 10) / 10 } };
} finally {
  await browser.close().catch(() => {});
  server.stop();
}

const kb = (b) => `${(b / 1024).toFixed(1)} KiB`;
console.log(`initial JS: ${result.bundle.initial.bytes} bytes (${kb(result.bundle.initial.bytes)}), gzip ${result.bundle.initial.gzipBytes} bytes (${kb(result.bundle.initial.gzipBytes)})`);
for (const f of result.bundle.initial.files) console.log(`  ${f.file}: ${f.bytes} B, gzip ${f.gzipBytes} B`);
console.log(`lazy JS:    ${result.bundle.lazy.bytes} bytes, gzip ${result.bundle.lazy.gzipBytes} bytes`);
for (const f of result.bundle.lazy.files) console.log(`  ${f.file}: ${f.bytes} B, gzip ${f.gzipBytes} B`);
const pct = (a, b) => `${((100 * a) / b).toFixed(1)}%`;
console.log(`total JS:   ${result.bundle.total.bytes} bytes, gzip ${result.bundle.total.gzipBytes} bytes; initial = ${pct(result.bundle.initial.gzipBytes, result.bundle.total.gzipBytes)} of it (gzip)`);
console.log(`FCP dashboard /           median ${result.fcp.dashboard.medianMs} ms (min ${result.fcp.dashboard.minMs}, ${RUNS} runs)`);
console.log(`FCP baseline /healthz     median ${result.fcp.baselineSameServer.medianMs} ms (min ${result.fcp.baselineSameServer.minMs})`);
console.log(`FCP baseline inline page  median ${result.fcp.baselineInline.medianMs} ms (min ${result.fcp.baselineInline.minMs})`);
console.log(`FCP dashboard over same-server baseline: ${result.fcp.overSameServerMs} ms (ratio ${(result.fcp.dashboard.medianMs / result.fcp.baselineSameServer.medianMs).toFixed(2)}×)`);
console.log(JSON.stringify(result));
