#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { main } from './main.js';

// Under a long run's allocation rate V8 grows the young generation to its maximum (a durable run of the
// etl-demo peaks at ~330 MB RSS with ~165 MB of heap for ~20 MB of live data); 8 MB semi-spaces keep it
// near 235 MB at the same speed. Set before main runs; a NODE_OPTIONS setting wins.
if (!/--max-semi-space-size/.test(process.env.NODE_OPTIONS ?? ''))
  setFlagsFromString('--max-semi-space-size=8');

// `fsm run … | head` closes the pipe early: stop quietly, as Unix tools do on SIGPIPE, instead of crashing
// on the unhandled EPIPE. A durable run stopped this way resumes like any interrupted one.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`fsm: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
