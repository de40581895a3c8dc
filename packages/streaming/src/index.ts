export {
  BasicStreamProcessor,
  processStream,
  runStreamJob,
  StreamProcessor,
  type StreamJobOptions,
  type StreamJobStats,
  type StreamingFsm,
} from './stream-job.js';
export { FileOffsetStore, MemoryOffsetStore } from './offset-stores.js';
export { MemorySink, MemorySource } from './memory.js';
