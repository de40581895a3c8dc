export * from './fsm-error.js';
export * from './errors.js';
