export { createStorage, parseStorageUrl, type DurableStore, type StorageOptions } from './create-storage.js';
export { MemoryStore } from './memory/memory-store.js';
export type { FileStore, FileStoreOptions } from './file/file-store.js';
export type { SqliteStoreOptions } from './sqlite/sqlite-store.js';
export type { PostgresStoreOptions } from './postgres/postgres-store.js';
export type { S3Store, S3StoreOptions } from './s3/s3-store.js';
export type { SqlStore, SqlStoreOptions } from './sql/sql-store.js';
