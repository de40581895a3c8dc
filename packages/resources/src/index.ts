import type { BuiltinFunction, ResourceFactory } from '@fsm/core';
import { databaseFunctions } from './database/database-functions.js';
import { databaseResource } from './database/database-provider.js';
import { dataknobsDatabaseFunctions } from './database/dataknobs-database.js';
import { dataknobsIoFunctions } from './dataknobs-io.js';
import { filesystemResource } from './filesystem/filesystem-provider.js';
import { httpResource } from './http/http-provider.js';

export { ResourceManager } from './resource-manager.js';
export { ResourcePool } from './pool/resource-pool.js';
export type { Gauge, PoolMetrics } from './pool/pool-metrics.js';
export type { DatabaseHandle, DatabaseProviderOptions, Dialect } from './database/database-provider.js';
export { type FileOptions, Folder, PathOutsideFolderError } from './filesystem/folder.js';
export {
  HttpClient,
  type HttpClientOptions,
  type HttpRequest,
  type HttpResponse,
} from './http/http-client.js';

/**
 * Config `type:` → provider factory, for `SimpleFSM.create(config, { resourceTypes: defaultResourceTypes })`.
 * dataknobs names are accepted (`async_database`, `file`, `api`).
 */
export const defaultResourceTypes: Readonly<Record<string, ResourceFactory>> = {
  database: databaseResource,
  async_database: databaseResource,
  filesystem: filesystemResource,
  file: filesystemResource,
  http: httpResource,
  api: httpResource,
};

/** Builtin functions that use these resources (`db_insert`, `db_upsert`, `db_query`). */
export const resourceFunctions: readonly BuiltinFunction[] = [
  ...databaseFunctions,
  // dataknobs-fsm's database library by its names (database.DatabaseUpsert, upsert, ...).
  ...dataknobsDatabaseFunctions,
  // dataknobs' enrichers (lookups) and streaming.FileAppender, on database and filesystem resources.
  ...dataknobsIoFunctions,
];
