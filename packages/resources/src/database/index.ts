export {
  type AnyDatabase,
  type DatabaseHandle,
  type DatabaseProviderOptions,
  type Dialect,
  databaseProvider,
  databaseResource,
} from './database-provider.js';
export { databaseFunctions } from './database-functions.js';
