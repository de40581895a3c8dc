export { openSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
export type { SqlStore } from '../sql/sql-store.js';
