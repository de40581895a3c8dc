export {
  CachingSqliteDialect,
  type CachingSqliteDialectConfig,
} from './sqlite.js';
export {
  NamedStatementPostgresDialect,
  type NamedStatementPostgresDialectConfig,
  type NamedStatementStats,
  statementName,
} from './postgres.js';
export { StatementCache, type StatementCacheStats } from './statement-cache.js';
