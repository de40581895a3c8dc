import type { DatabaseProviderOptions } from '../database-provider.js';

export interface TestServer {
  name: 'sqlite' | 'postgres' | 'mariadb';
  /** For `databaseProvider(...)`. */
  options: DatabaseProviderOptions;
  /** The same database as a config's `resources[].config` (MariaDB in dataknobs' `backend:` spelling). */
  config: Record<string, unknown>;
}

/** The databases the resource tests run against: a SQLite file and this machine's PostgreSQL and MariaDB. */
export function testServers(sqliteFile: string): TestServer[] {
  const postgres = 'postgres://postgres@127.0.0.1:5432/test';
  const mariadb = { host: '127.0.0.1', port: 3306, user: 'root', database: 'test' };
  return [
    {
      name: 'sqlite',
      options: { dialect: 'sqlite', filename: sqliteFile },
      config: { dialect: 'sqlite', path: sqliteFile },
    },
    {
      name: 'postgres',
      options: { dialect: 'postgres', url: postgres },
      config: { dialect: 'postgres', url: postgres },
    },
    {
      name: 'mariadb',
      options: { dialect: 'mariadb', ...mariadb },
      config: { backend: 'mariadb', ...mariadb },
    },
  ];
}
