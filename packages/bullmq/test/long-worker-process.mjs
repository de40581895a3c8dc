// A worker that checkpoints every step into a real store (argv: queue, storage URL).
import { createQueueRunner } from '@fsm/bullmq';
import { createStorage } from '@fsm/storage';
import { closeLog, longConfig, longFunctions } from './long-config.mjs';

const [queue, storageUrl] = process.argv.slice(2);
const storage = await createStorage(storageUrl);
const runner = createQueueRunner({
  connection: 'redis://127.0.0.1:6379',
  queue,
  config: longConfig,
  functions: longFunctions,
  storage,
  lockDurationMs: 2000,
});
runner.worker({ concurrency: 4 });
process.send?.('ready');
process.on('SIGTERM', () => {
  Promise.all([runner.close(), closeLog()])
    .then(() => storage.close())
    .then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
});
