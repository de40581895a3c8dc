export { type S3ReadOptions, S3Source, type S3UploadOptions, s3MultipartUpload } from './s3-io.js';
