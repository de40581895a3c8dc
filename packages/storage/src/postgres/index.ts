export { openPostgresStore, type PostgresStoreOptions } from './postgres-store.js';
export type { SqlStore } from '../sql/sql-store.js';
