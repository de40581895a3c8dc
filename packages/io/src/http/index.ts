export { fetchWithRetry, type RetryOptions } from './fetch-retry.js';
export { HttpSink, type HttpSinkOptions } from './http-sink.js';
export { HttpSource, type HttpSourceOptions, type Pagination } from './http-source.js';
export { chunkedUpload, type MultipartUploadOptions, multipartUpload, type UploadedPart } from './upload.js';
