export { BasicResourceManager } from './basic-resource-manager.js';
