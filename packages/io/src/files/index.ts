export { FileSource, type FileReaderOptions, openReader } from './file-source.js';
export { FileSink, type FileWriterOptions, openWriter } from './file-sink.js';
export { fileKind, type FileFormat, type FileKind } from './format.js';
export {
  type BadRecordReason,
  type CsvOptions,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_RECORD_LENGTH,
  jsonDepth,
  type ParsedRecord,
  type ParseOptions,
  parseRecords,
} from './parsers.js';
export { readRecords, writeRecords } from './records.js';
