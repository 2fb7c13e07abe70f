// Starts `costwatch up --no-demo` on free ports with a temp data dir, serving web/dist (or
// COSTWATCH_WEB_DIST: the benchmark can measure another build).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const WEB_DIST = path.resolve(process.env.COSTWATCH_WEB_DIST ?? path.join(here, '..', 'dist'));
export const BIN = process.env.COSTWATCH_BIN ?? '/work/main/target/debug/costwatch';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function spawnServer(http, grpc, dataDir, onLog, auth) {
  const proc = spawn(BIN, ['up', '--no-demo', '--auth', auth, '--http', `127.0.0.1:${http}`, '--grpc', `127.0.0.1:${grpc}`, '--data-dir', dataDir], {
    // The limiter stays on at 10× the default: the suites poll the server from the same
    // address as the browser, and a test must not fail on a 429 of its own polling.
    env: { ...process.env, COSTWATCH_WEB_DIR: WEB_DIST, COSTWATCH_RATE_LIMIT_PER_MINUTE: '6000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.on('data', onLog);
  proc.stderr.on('data', onLog);
  return proc;
}

async function waitHealthy(base, proc, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) return false;
    try {
      if ((await fetch(`${base}/healthz`)).ok) return true;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/**
 * `auth`: 'none' (default; the suites about charts and live data) or 'local' (the server's own
 * signing key; `server.loginUrl` is the admin link it prints, `server.token(role, tenants)` mints
 * more with `costwatch token`).
 */
export async function startServer({ auth = 'none' } = {}) {
  if (!existsSync(path.join(WEB_DIST, 'index.html'))) throw new Error(`${WEB_DIST}/index.html missing: run npm run build first`);
  if (!existsSync(BIN)) throw new Error(`${BIN} missing: cd /work/main && cargo build -p costwatch (or set COSTWATCH_BIN)`);
  const [http, grpc] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'costwatch-e2e-'));
  let log = '';
  const onLog = (d) => (log += d);
  const base = `http://127.0.0.1:${http}`;
  const server = {
    base,
    dataDir,
    proc: spawnServer(http, grpc, dataDir, onLog, auth),
    log: () => log,
    /** The admin link `costwatch up` printed (auth 'local'), e.g. http://127.0.0.1:P/#token=… */
    loginUrl: () => log.match(/dashboard (http:\/\/\S+#token=\S+)/)?.[1],
    /** A token minted by `costwatch token` with the server's local key. */
    token(role, tenants = []) {
      const args = ['token', '--role', role, '--data-dir', dataDir, '--subject', `e2e-${role}`];
      for (const t of tenants) args.push('--tenant', t);
      const out = spawnSync(BIN, args, { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`costwatch token failed: ${out.stderr}`);
      return out.stdout.trim();
    },
    /** Starts the server again on the same ports and data dir (after the old process is gone). */
    async restart() {
      const old = server.proc;
      if (old.exitCode === null && old.signalCode === null) {
        old.kill('SIGKILL');
        await new Promise((r) => old.once('exit', r));
      }
      // The ports may take a moment to be free again; retry the spawn a few times.
      for (let attempt = 0; attempt < 5; attempt++) {
        server.proc = spawnServer(http, grpc, dataDir, onLog, auth);
        if (await waitHealthy(base, server.proc)) return;
        if (server.proc.exitCode === null) server.proc.kill('SIGKILL');
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`costwatch did not come back on ${base}:\n${log}`);
    },
    stop() {
      const proc = server.proc;
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  if (await waitHealthy(base, server.proc)) return server;
  server.stop();
  throw new Error(`costwatch did not become healthy:\n${log}`);
}

export async function gql(base, query, variables = {}, token) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

export async function ingest(base, events, token) {
  const res = await fetch(`${base}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(events),
  });
  if (res.status !== 202) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
}

export async function until(what, fn, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}
