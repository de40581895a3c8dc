export { RedisHistoryStore, type RedisHistoryStoreOptions } from './redis-history-store.js';
export { redisProvider, redisResourceType } from './redis-resource.js';
export { redisFunctions } from './redis-functions.js';
