import { createHash } from 'node:crypto';
import {
  type DatabaseConnection,
  PostgresDialect,
  type PostgresCursorConstructor,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
} from 'kysely';

export interface NamedStatementPostgresDialectConfig {
  /** A `pg` Pool. */
  pool: PostgresPool;
  /** Named statements per connection (default 256); statements past it run unnamed. */
  statementCacheSize?: number;
  cursor?: PostgresCursorConstructor;
  onCreateConnection?: (connection: DatabaseConnection) => Promise<void>;
}

/** Counters over every connection of one dialect. */
export interface NamedStatementStats {
  /** Statements the server parsed under a name (once per connection and SQL text). */
  named: number;
  /** Executions that reused a named statement. */
  reused: number;
  /** Executions sent unnamed (no parameters, or the connection's names were used up). */
  unnamed: number;
}

interface QueryConfig {
  name: string;
  text: string;
  values: readonly unknown[];
}
type QueryWithConfig = (config: QueryConfig) => Promise<PostgresQueryResult<unknown>>;

/**
 * Kysely's PostgreSQL dialect, sending every parameterized query as a named prepared statement
 * (`{ name, text, values }`, the name a hash of the SQL text): the server parses and plans it once per
 * connection instead of once per execution. Each connection names at most `statementCacheSize`
 * statements; later ones run unnamed, so server memory stays bounded without deallocating statements
 * that a queued query may be about to use.
 */
export class NamedStatementPostgresDialect extends PostgresDialect {
  private readonly counters: NamedStatementStats = { named: 0, reused: 0, unnamed: 0 };

  constructor(config: NamedStatementPostgresDialectConfig) {
    const capacity = config.statementCacheSize ?? 256;
    if (!Number.isInteger(capacity) || capacity < 0)
      throw new RangeError(`statementCacheSize must be a non-negative integer, got ${capacity}`);
    const counters: NamedStatementStats = { named: 0, reused: 0, unnamed: 0 };
    super({
      pool: namingPool(config.pool, capacity, counters),
      ...(config.cursor ? { cursor: config.cursor } : {}),
      ...(config.onCreateConnection ? { onCreateConnection: config.onCreateConnection } : {}),
    });
    this.counters = counters;
  }

  statementStats(): NamedStatementStats {
    return { ...this.counters };
  }
}

/** The statement name of a SQL text: stable across connections and processes. */
export function statementName(sql: string): string {
  return `fsm_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
}

function namingPool(pool: PostgresPool, capacity: number, counters: NamedStatementStats): PostgresPool {
  // One wrapper per pg client: Kysely keys its connection objects by client, and the names a client
  // has prepared live as long as its server session.
  const wrappers = new WeakMap<PostgresPoolClient, PostgresPoolClient>();
  const wrapped: PostgresPool = {
    get options() {
      return pool.options;
    },
    async connect() {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (!wrapper) {
        wrapper = namingClient(client, capacity, counters);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
  if (pool.Client) wrapped.Client = pool.Client;
  return wrapped;
}

function namingClient(
  client: PostgresPoolClient,
  capacity: number,
  counters: NamedStatementStats,
): PostgresPoolClient {
  const names = new Map<string, string>();
  const queryWithConfig = client.query.bind(client) as unknown as QueryWithConfig;
  const query = (sqlOrCursor: unknown, parameters?: readonly unknown[]): unknown => {
    if (typeof sqlOrCursor !== 'string' || !parameters || parameters.length === 0) {
      // Cursors and statements without parameters (begin, commit, DDL, several statements in one
      // text) go as they are: the simple protocol cannot prepare them.
      if (typeof sqlOrCursor === 'string') counters.unnamed++;
      return (client.query as (a: unknown, b?: unknown) => unknown)(sqlOrCursor, parameters);
    }
    let name = names.get(sqlOrCursor);
    if (name === undefined) {
      if (names.size >= capacity) {
        counters.unnamed++;
        return client.query(sqlOrCursor, parameters);
      }
      name = statementName(sqlOrCursor);
      names.set(sqlOrCursor, name);
      counters.named++;
    } else counters.reused++;
    return queryWithConfig({ name, text: sqlOrCursor, values: parameters });
  };
  return {
    query: query as PostgresPoolClient['query'],
    release: (destroy?: boolean) => {
      // A destroyed client's session (and its statements) is gone; a new client starts empty.
      if (destroy) names.clear();
      client.release(destroy);
    },
    get processID() {
      return client.processID;
    },
  } as PostgresPoolClient;
}
