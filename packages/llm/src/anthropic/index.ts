export { anthropic } from './anthropic-provider.js';
