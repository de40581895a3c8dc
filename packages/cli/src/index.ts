export { main } from './main.js';
export { parseDuration, parsePositiveInt } from './parse-duration.js';
export { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './exit-codes.js';
