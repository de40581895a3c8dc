export { runStreamJob, type StreamJobOptions, type StreamJobStats, type StreamingFsm } from './stream-job.js';
export { FileOffsetStore, MemoryOffsetStore } from './offset-stores.js';
