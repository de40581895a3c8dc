import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { IoError, type ReaderOptions, type StreamPosition, type StreamSource } from '@fsm/core';
import { type FileFormat, fileKind } from '../files/format.js';
import { type CsvOptions, parseRecords } from '../files/parsers.js';

type S3 = typeof import('@aws-sdk/client-s3');
const sdk = (): Promise<S3> =>
  import('@aws-sdk/client-s3').catch((error: unknown) => {
    throw new IoError('S3 needs the "@aws-sdk/client-s3" package', { cause: error });
  });

export interface S3ReadOptions extends ReaderOptions, CsvOptions {
  client: S3Client;
  bucket: string;
  key: string;
  format?: FileFormat;
  gzip?: boolean;
}

/** An S3 object's records, streamed from GetObject's body (never downloaded whole); format by key extension. */
export class S3Source implements StreamSource<Record<string, unknown>> {
  readonly specificationVersion = 'v1' as const;
  private body: Readable | undefined;
  private records = 0;
  private line = 0;
  private closed = false;

  constructor(private readonly options: S3ReadOptions) {}

  position(): StreamPosition {
    return { records: this.records, line: this.line };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Record<string, unknown>> {
    const { client, bucket, key } = this.options;
    const { format, gzip } = fileKind(key, this.options.format, this.options.gzip);
    const s3 = await sdk();
    const where = `s3://${bucket}/${key}`;
    let object: { Body?: unknown };
    try {
      object = await client.send(
        new s3.GetObjectCommand({ Bucket: bucket, Key: key }),
        this.options.signal ? { abortSignal: this.options.signal } : {},
      );
    } catch (error) {
      throw new IoError(`${where}: ${(error as Error).message}`, { source: where, cause: error });
    }
    const raw = object.Body as Readable;
    this.body = gzip ? raw.pipe(createGunzip()) : raw;
    try {
      for await (const parsed of parseRecords(format, this.body, where, this.options)) {
        if (this.closed) return;
        this.options.signal?.throwIfAborted();
        this.line = parsed.line;
        if (parsed.bad) {
          if (this.options.onBadRecord !== 'skip')
            throw new IoError(`${where}:${parsed.line}: ${parsed.bad.message}`, {
              source: where,
              line: parsed.line,
            });
          await this.options.onError?.({ line: parsed.line, ...parsed.bad });
          continue;
        }
        this.records++;
        yield parsed.value as Record<string, unknown>;
      }
    } finally {
      this.body.destroy();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.body?.destroy();
  }
}

export interface S3UploadOptions {
  client: S3Client;
  bucket: string;
  key: string;
  /** Bytes per part (default 5 MiB, S3's minimum for all but the last part). */
  partSize?: number;
  /** Attempts per part before giving up (default 3). */
  partAttempts?: number;
  contentType?: string;
  signal?: AbortSignal;
}

/**
 * Multipart upload of a byte stream: parts are uploaded as they fill (memory holds one part), each
 * retried on failure; on a final failure the upload is aborted so S3 keeps no orphaned parts, and the
 * error (and any abort failure) is reported.
 */
export async function s3MultipartUpload(
  data: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: S3UploadOptions,
): Promise<{ parts: number; bytes: number }> {
  const s3 = await sdk();
  const { client, bucket, key } = options;
  const size = options.partSize ?? 5 * 1024 * 1024;
  const send = { ...(options.signal ? { abortSignal: options.signal } : {}) };
  let uploadId: string;
  try {
    const created = await client.send(
      new s3.CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        ...(options.contentType ? { ContentType: options.contentType } : {}),
      }),
      send,
    );
    uploadId = created.UploadId as string;
  } catch (error) {
    throw new IoError(`s3://${bucket}/${key}: cannot start a multipart upload: ${(error as Error).message}`, {
      source: `s3://${bucket}/${key}`,
      cause: error,
    });
  }
  const parts: { ETag: string; PartNumber: number }[] = [];
  let bytes = 0;
  const upload = async (body: Buffer) => {
    const partNumber = parts.length + 1;
    let lastError: unknown;
    for (let attempt = 1; attempt <= (options.partAttempts ?? 3); attempt++) {
      try {
        const out = await client.send(
          new s3.UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: body,
          }),
          send,
        );
        parts.push({ ETag: out.ETag as string, PartNumber: partNumber });
        bytes += body.length;
        return;
      } catch (error) {
        if (options.signal?.aborted) throw error;
        lastError = error;
      }
    }
    throw lastError;
  };
  try {
    let pending: Buffer[] = [];
    let length = 0;
    for await (const chunk of Readable.from(data)) {
      const buffer = Buffer.from(chunk as Uint8Array);
      pending.push(buffer);
      length += buffer.length;
      if (length >= size) {
        await upload(Buffer.concat(pending));
        pending = [];
        length = 0;
      }
    }
    if (length > 0 || parts.length === 0) await upload(Buffer.concat(pending));
    await client.send(
      new s3.CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
      send,
    );
    return { parts: parts.length, bytes };
  } catch (error) {
    const failures: unknown[] = [error];
    try {
      await client.send(new s3.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    } catch (abortError) {
      failures.push(abortError);
    }
    throw new IoError(
      `multipart upload to s3://${bucket}/${key} failed${failures.length > 1 ? ' (and aborting it failed too)' : ''}: ${(error as Error).message}`,
      {
        source: `s3://${bucket}/${key}`,
        cause: failures.length > 1 ? new AggregateError(failures) : error,
      },
    );
  }
}
