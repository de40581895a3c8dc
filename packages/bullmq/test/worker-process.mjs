// A worker process for the multi-process tests: runs the built @fsm/bullmq on the queue named in argv.
import { createQueueRunner } from '@fsm/bullmq';
import { config, functions } from './shared-config.mjs';

const [queue, concurrency] = process.argv.slice(2);
const runner = createQueueRunner({
  connection: 'redis://127.0.0.1:6379',
  queue,
  config,
  functions,
  lockDurationMs: 2000,
});
runner.worker({ concurrency: Number(concurrency ?? 8) });
process.send?.('ready');
process.on('SIGTERM', () => {
  runner.close().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
});
