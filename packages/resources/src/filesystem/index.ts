export { type FileOptions, Folder, PathOutsideFolderError } from './folder.js';
export {
  filesystemProvider,
  filesystemResource,
  type FilesystemProviderOptions,
} from './filesystem-provider.js';
