#!/usr/bin/env node
// Prints the functions with the most self time in a V8 .cpuprofile (from `node --cpu-prof`), grouped by
// function and file, with the share of all samples: the table bench/README.md quotes before and after a change.
//   node bench/scripts/profile-top.mjs <file.cpuprofile> [rows=15]
import { readFileSync } from 'node:fs';

const [file, rowsArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile-top.mjs <file.cpuprofile> [rows]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfSamples = new Map();
for (const id of profile.samples) selfSamples.set(id, (selfSamples.get(id) ?? 0) + 1);
const total = profile.samples.length;
const groups = new Map();
for (const [id, count] of selfSamples) {
  const { functionName, url, lineNumber } = byId.get(id).callFrame;
  const where = url
    ? `${url.replace(/^file:\/\//, '').replace(/.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '')}:${lineNumber + 1}`
    : '';
  const key = `${functionName || '(anonymous)'} ${where}`.trim();
  groups.set(key, (groups.get(key) ?? 0) + count);
}
const rows = [...groups].sort((a, b) => b[1] - a[1]).slice(0, Number(rowsArg ?? 15));
for (const [key, count] of rows) console.log(`${((count * 100) / total).toFixed(1).padStart(5)} %  ${key}`);
