import { fileURLToPath } from 'node:url';
import { type BatchResult, SimpleFSM } from '@fsm/core';
import { openReader } from '@fsm/io';
import { defaultResourceTypes, type PoolMetrics, ResourceManager, resourceFunctions } from '@fsm/resources';
import { createStorage } from '@fsm/storage';

/** The config and sample data shipped with the app. */
export const etlConfigPath = fileURLToPath(new URL('../etl.yaml', import.meta.url));
export const sampleOrdersPath = fileURLToPath(new URL('../data/orders.csv', import.meta.url));

export interface EtlDemoOptions {
  /** CSV, JSONL or JSON file of orders (default: the sample). */
  input?: string;
  /** History store URL, e.g. `sqlite:.demo/fsm.db`. */
  storage: string;
  /** Warehouse: a SQLite file, or `{ dialect: 'postgres', url }`. */
  warehouse: { dialect: 'sqlite'; path: string } | { dialect: 'postgres' | 'mysql'; url: string };
  /** Same id after a crash: only what was not finished runs again. */
  batchId: string;
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (progress: { done: number; total: number }) => void;
}

export interface EtlDemoResult {
  batch: BatchResult;
  pool: PoolMetrics | undefined;
}

/**
 * The etl-demo from code: what `bash scripts/demo.sh` does through the CLI. Orders are read in a stream,
 * run as a durable batch (history and a checkpoint per step in `storage`), and loaded into the warehouse.
 */
export async function runEtlDemo(options: EtlDemoOptions): Promise<EtlDemoResult> {
  const env: Record<string, string> = { WAREHOUSE_DIALECT: options.warehouse.dialect };
  if (options.warehouse.dialect === 'sqlite') env.WAREHOUSE_DB = options.warehouse.path;
  else env.WAREHOUSE_URL = options.warehouse.url;
  const storage = await createStorage(options.storage);
  const resources = new ResourceManager();
  const fsm = await SimpleFSM.create(etlConfigPath, {
    env,
    storage,
    checkpoint: 'every-step',
    resourceTypes: defaultResourceTypes,
    resourceManager: resources,
    builtins: resourceFunctions,
  });
  try {
    const batch = await fsm.processDurableBatch(
      openReader(options.input ?? sampleOrdersPath, { cast: true }),
      {
        batchId: options.batchId,
        concurrency: options.concurrency ?? 8,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      },
    );
    return { batch, pool: resources.metrics().warehouse };
  } finally {
    await fsm.close();
    await storage.close();
  }
}
