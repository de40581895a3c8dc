#!/usr/bin/env node
import { main } from './main.js';

// The heap during long runs is tuned by tuneHeapForLongRun (heap-tuning.ts), which `fsm run` and `fsm worker`
// start: `--max-semi-space-size` set here, after V8 started, would have no effect.

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
