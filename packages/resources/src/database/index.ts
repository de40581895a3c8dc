export {
  type AnyDatabase,
  type DatabaseHandle,
  type DatabaseProviderOptions,
  type Dialect,
  databaseProvider,
  databaseResource,
} from './database-provider.js';
export { databaseFunctions } from './database-functions.js';
export {
  DEFAULT_WRITE_BEHIND,
  type Lane,
  type RowWrite,
  WriteBehind,
  type WriteBehindOptions,
  type WriteBehindSettings,
  type WriteBehindStats,
} from './write-behind.js';
export {
  CachingSqliteDialect,
  NamedStatementPostgresDialect,
  type StatementCacheStats,
} from './drivers/index.js';
