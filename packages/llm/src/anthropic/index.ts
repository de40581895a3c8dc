export { type AnthropicOptions, anthropic } from './anthropic-provider.js';
