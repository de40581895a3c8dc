export { huggingface, type HuggingFaceOptions } from './huggingface-provider.js';
