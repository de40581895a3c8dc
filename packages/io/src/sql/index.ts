export {
  type AnyDatabase,
  type SqlDialect,
  SqlTableSink,
  type SqlTableSinkOptions,
  SqlTableSource,
  type SqlTableSourceOptions,
} from './sql-table.js';
