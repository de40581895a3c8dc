export { openai } from './openai-provider.js';
