import type { CheckpointStore, HistoryStore } from '@fsm/core';
import { StorageError } from '@fsm/core';

/** The stores built into @fsm/storage keep checkpoints as well as histories. */
export type DurableStore = HistoryStore & CheckpointStore;

export type StorageOptions =
  | { backend: 'memory' }
  | { backend: 'file'; path: string; fsync?: boolean }
  | { backend: 'sqlite'; path: string; synchronous?: 'normal' | 'full' }
  | { backend: 'postgres'; url: string; schema?: string; maxConnections?: number }
  | {
      backend: 's3';
      bucket: string;
      prefix?: string;
      endpoint?: string;
      region?: string;
      credentials?: { accessKeyId: string; secretAccessKey: string };
    };

/**
 * Opens a store from options, from a URL (`memory:`, `file:./dir`, `sqlite:./fsm.db`,
 * `postgres://…?schema=fsm`, `s3://bucket/prefix?endpoint=http://…&region=…`), or passes a store
 * through unchanged — so a third-party `HistoryStore` plugs in with one line. Each backend's driver is
 * loaded only when that backend is asked for.
 */
export async function createStorage<S extends HistoryStore>(store: S): Promise<S>;
export async function createStorage(spec: string | StorageOptions): Promise<DurableStore>;
export async function createStorage(spec: string | StorageOptions | HistoryStore): Promise<HistoryStore> {
  if (typeof spec === 'object' && 'specificationVersion' in spec) return spec;
  const options = typeof spec === 'string' ? parseStorageUrl(spec) : spec;
  switch (options.backend) {
    case 'memory': {
      const { MemoryStore } = await import('./memory/memory-store.js');
      return new MemoryStore();
    }
    case 'file': {
      const { FileStore } = await import('./file/file-store.js');
      return FileStore.open({ directory: options.path, ...(options.fsync ? { fsync: true } : {}) });
    }
    case 'sqlite': {
      const { openSqliteStore } = await import('./sqlite/sqlite-store.js');
      return openSqliteStore({
        filename: options.path,
        ...(options.synchronous ? { synchronous: options.synchronous } : {}),
      });
    }
    case 'postgres': {
      const { openPostgresStore } = await import('./postgres/postgres-store.js');
      return openPostgresStore({
        connectionString: options.url,
        ...(options.schema ? { schema: options.schema } : {}),
        ...(options.maxConnections ? { maxConnections: options.maxConnections } : {}),
      });
    }
    case 's3': {
      const { S3Store } = await import('./s3/s3-store.js');
      const { backend: _backend, ...rest } = options;
      return S3Store.open(rest);
    }
    default:
      throw new StorageError(
        String((options as { backend?: unknown }).backend),
        'open',
        `unknown storage backend "${String((options as { backend?: unknown }).backend)}" (expected memory, file, sqlite, postgres or s3)`,
      );
  }
}

/** `sqlite:./fsm.db` → `{ backend: 'sqlite', path: './fsm.db' }`, and so on for each backend. */
export function parseStorageUrl(url: string): StorageOptions {
  const scheme = /^([a-z0-9+]+):/i.exec(url)?.[1]?.toLowerCase();
  const rest = scheme ? url.slice(scheme.length + 1) : '';
  switch (scheme) {
    case 'memory':
      return { backend: 'memory' };
    case 'file':
      return { backend: 'file', path: stripSlashes(rest) };
    case 'sqlite':
      return { backend: 'sqlite', path: stripSlashes(rest) };
    case 'postgres':
    case 'postgresql': {
      const parsed = new URL(url);
      const schema = parsed.searchParams.get('schema');
      parsed.searchParams.delete('schema');
      return { backend: 'postgres', url: parsed.toString(), ...(schema ? { schema } : {}) };
    }
    case 's3': {
      const parsed = new URL(url);
      const endpoint = parsed.searchParams.get('endpoint') ?? process.env.AWS_ENDPOINT_URL;
      const region = parsed.searchParams.get('region');
      return {
        backend: 's3',
        bucket: parsed.hostname,
        prefix: decodeURIComponent(parsed.pathname.replace(/^\//, '')),
        ...(endpoint ? { endpoint } : {}),
        ...(region ? { region } : {}),
      };
    }
    default:
      throw new StorageError(
        scheme ?? url,
        'open',
        `unknown storage URL "${url}" (expected memory:, file:<dir>, sqlite:<file>, postgres://… or s3://bucket/prefix)`,
      );
  }
}

/** `file:///abs/dir` and `file:./dir` both work; `sqlite::memory:` keeps its colon form. */
function stripSlashes(path: string): string {
  return path.startsWith('///') ? path.slice(2) : path.startsWith('//') ? path.slice(2) : path;
}
