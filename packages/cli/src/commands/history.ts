import type { ExecutionResult, ExecutionStatus, HistoryQuery } from '@fsm/core';
import { EXIT_FAILED, EXIT_OK, UsageError } from '../exit-codes.js';
import { type CliRunMetadata, createFsm, openStorage } from '../load-fsm.js';
import { resultLine } from '../output.js';
import { parsePositiveInt } from '../parse-duration.js';

export interface HistoryOptions {
  storage?: string;
  fsm?: string;
  status?: string;
  limit?: string;
  json?: boolean;
}

async function storageOf(options: { storage?: string }) {
  if (!options.storage) throw new UsageError('--storage <url> is required (e.g. sqlite:./fsm.db)');
  const store = await openStorage(options.storage);
  if (!store) throw new UsageError('--storage <url> is required (e.g. sqlite:./fsm.db)');
  return store;
}

export async function historyList(options: HistoryOptions): Promise<number> {
  const store = await storageOf(options);
  const query: HistoryQuery = { limit: options.limit ? parsePositiveInt(options.limit, '--limit') : 20 };
  if (options.fsm) query.fsm = options.fsm;
  if (options.status) {
    if (!['running', 'succeeded', 'failed'].includes(options.status))
      throw new UsageError('--status must be running, succeeded or failed');
    query.status = options.status as ExecutionStatus;
  }
  try {
    for await (const s of store.query(query)) {
      process.stdout.write(
        options.json
          ? `${JSON.stringify(s)}\n`
          : `${s.executionId}\t${s.fsm}\t${s.status}\t${new Date(s.startedAt).toISOString()}\n`,
      );
    }
  } finally {
    await store.close();
  }
  return EXIT_OK;
}

export async function historyShow(id: string, options: HistoryOptions): Promise<number> {
  const store = await storageOf(options);
  try {
    const history = await store.load(id);
    if (!history) {
      process.stderr.write(`no history for execution "${id}"\n`);
      return EXIT_FAILED;
    }
    if (options.json) process.stdout.write(`${JSON.stringify(history)}\n`);
    else {
      process.stdout.write(
        `${history.executionId} ${history.fsm} ${history.status} final=${history.finalState ?? '-'}\n`,
      );
      for (const { step, depth } of history.walk()) {
        const ms = step.endedAt !== undefined ? `${step.endedAt - step.startedAt}ms` : 'running';
        const arc = step.arc ? ` --${step.arc}-->` : '';
        const error = step.error ? ` ERROR ${step.error.code}: ${step.error.message}` : '';
        process.stdout.write(
          `${'  '.repeat(depth + 1)}${step.network}.${step.state} (${ms})${arc}${error}\n`,
        );
      }
    }
    return EXIT_OK;
  } finally {
    await store.close();
  }
}

export async function historyDelete(id: string, options: HistoryOptions): Promise<number> {
  const store = await storageOf(options);
  try {
    const deleted = await store.delete(id);
    process.stdout.write(deleted ? `deleted ${id}\n` : `no history for "${id}"\n`);
    return deleted ? EXIT_OK : EXIT_FAILED;
  } finally {
    await store.close();
  }
}

/**
 * `fsm resume <id> [config]`: continues one execution from its checkpoint and prints its result line. The
 * config (and --functions module) default to the ones recorded with the execution by `fsm run --storage`.
 */
export async function resumeCommand(
  id: string,
  configPath: string | undefined,
  options: { storage?: string; allowCode?: boolean; functions?: string; allowRead?: string[] },
): Promise<number> {
  const storage = await storageOf(options);
  let fsm: Awaited<ReturnType<typeof createFsm>> | undefined;
  try {
    const history = await storage.load(id);
    if (history && history.status !== 'running' && history.output) {
      // Finished before (a crash may have left its checkpoint behind): report it, run nothing.
      await storage.deleteCheckpoint(id);
      process.stderr.write(`execution "${id}" already finished (${history.status}); nothing was run\n`);
      const result: ExecutionResult = {
        success: history.status === 'succeeded',
        finalState: history.finalState ?? '',
        data: history.output.data,
        path: history.output.path,
        executionId: id,
        transitions: history.output.transitions,
        durationMs: 0,
      };
      if (history.error) result.error = history.error;
      process.stdout.write(resultLine(result));
      return result.success ? EXIT_OK : EXIT_FAILED;
    }
    const recorded = ((await storage.loadCheckpoint(id))?.metadata ?? (await storage.load(id))?.metadata) as
      | Partial<CliRunMetadata>
      | undefined;
    const config = configPath ?? recorded?.config;
    if (!config)
      throw new UsageError(
        `no checkpoint or history of "${id}" names its config: pass it (fsm resume ${id} <config>)`,
      );
    const functions = options.functions ?? recorded?.functions;
    const allowRead = options.allowRead?.length ? options.allowRead : recorded?.allowRead;
    fsm = await createFsm(config, {
      storage,
      checkpoint: 'every-step',
      // Code recorded with the run still needs --allow-code now: resuming never widens what may run.
      ...(options.allowCode !== undefined ? { allowCode: options.allowCode } : {}),
      ...(functions !== undefined ? { functions } : {}),
      ...(allowRead !== undefined ? { allowRead } : {}),
    });
    const result = await fsm.resume(id);
    process.stdout.write(resultLine(result));
    return result.success ? EXIT_OK : EXIT_FAILED;
  } finally {
    await fsm?.close();
    await storage.close();
  }
}
