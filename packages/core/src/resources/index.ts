export { BasicResourceManager } from './basic-resource-manager.js';
export { HeldByOwner } from './held-by-owner.js';
