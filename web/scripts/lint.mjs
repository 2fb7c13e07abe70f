#!/usr/bin/env node
// `npm run lint` (after tsc): the import direction of the feature-folder layout,
// app (src/*.tsx, src/layout) → features → shared. Shared code imports no feature, and a feature
// imports no other feature, so each feature can change (or be lazy-loaded) on its own.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');

function files(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|tsx)$/.test(f) ? [p] : [];
  });
}

/** 'app', 'shared' or 'feature:<name>' for a path under src/. */
function zone(file) {
  const [top, name] = path.relative(SRC, file).split(path.sep);
  if (top === 'shared') return 'shared';
  if (top === 'features') return `feature:${name}`;
  return 'app';
}

const problems = [];
for (const file of files(SRC)) {
  const from = zone(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2];
    const to = zone(path.resolve(path.dirname(file), spec));
    const rel = path.relative(SRC, file);
    if (from === 'shared' && to !== 'shared') problems.push(`${rel}: shared code imports ${spec} (${to}); move what both need into shared/`);
    if (from.startsWith('feature:') && to.startsWith('feature:') && to !== from)
      problems.push(`${rel}: ${from} imports ${spec} (${to}); features may only import shared/`);
  }
}
if (problems.length) {
  console.error(`${problems.length} import boundary problem(s):\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`import boundaries ok (${files(SRC).length} files)`);
