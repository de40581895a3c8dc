export { Folder } from './folder.js';
export {
  filesystemProvider,
  filesystemResource,
  type FilesystemProviderOptions,
} from './filesystem-provider.js';
