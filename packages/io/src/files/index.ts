export { FileSource, type FileReaderOptions, openReader } from './file-source.js';
export { FileSink, type FileWriterOptions, openWriter } from './file-sink.js';
export { fileKind, type FileFormat, type FileKind } from './format.js';
export { type CsvOptions, type ParsedRecord, parseRecords } from './parsers.js';
export { readRecords, writeRecords } from './records.js';
