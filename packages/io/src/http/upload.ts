import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { IoError } from '@fsm/core';
import { fetchWithRetry, type RetryOptions } from './fetch-retry.js';

type Bytes = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

function bytesOf(data: string | Bytes): AsyncIterable<Uint8Array> {
  return typeof data === 'string'
    ? (createReadStream(data) as AsyncIterable<Uint8Array>)
    : (Readable.from(data) as AsyncIterable<Uint8Array>);
}

/**
 * Streams a file or byte stream in one request with `Transfer-Encoding: chunked`: the size need not be
 * known, and memory holds one chunk at a time. (Not retried: a stream cannot be replayed; use
 * `multipartUpload` for resumable uploads.)
 */
export async function chunkedUpload(
  url: string,
  data: string | Bytes,
  options: { method?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Response> {
  const source = bytesOf(data);
  const body = Readable.toWeb(Readable.from(source)) as ReadableStream<Uint8Array>;
  const response = await fetch(url, {
    method: options.method ?? 'POST',
    headers: { 'content-type': 'application/octet-stream', ...options.headers },
    body,
    duplex: 'half',
    ...(options.signal ? { signal: options.signal } : {}),
  } as RequestInit);
  if (!response.ok)
    throw new IoError(
      `chunked upload to ${url} → ${response.status}: ${(await response.text()).slice(0, 200)}`,
      { source: url },
    );
  return response;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
}

export interface MultipartUploadOptions extends RetryOptions {
  /** Base URL of the upload API: `POST {base}/uploads`, `PUT {base}/uploads/{id}/parts/{n}`, `POST {base}/uploads/{id}/complete`. */
  baseUrl: string;
  headers?: Record<string, string>;
  /** Bytes per part (default 5 MiB). */
  partSize?: number;
  /** Continue an upload: its id and the parts already stored (skipped, not sent again). */
  resume?: { uploadId: string; parts: UploadedPart[] };
  /** Called after each stored part, so a caller can persist progress for `resume`. */
  onPart?: (progress: { uploadId: string; part: UploadedPart }) => void | Promise<void>;
}

async function* parts(data: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let length = 0;
  for await (const chunk of data) {
    pending.push(Buffer.from(chunk));
    length += chunk.length;
    while (length >= size) {
      const all = Buffer.concat(pending);
      yield all.subarray(0, size);
      pending = [all.subarray(size)];
      length -= size;
    }
  }
  if (length > 0) yield Buffer.concat(pending);
}

/**
 * A resumable multipart upload: the data is cut into parts, each PUT with retries (a dropped part is sent
 * again, not the whole file), then the upload is completed with the list of parts. With `resume`, parts
 * already stored are skipped. Returns the upload id and parts.
 */
export async function multipartUpload(
  data: string | Bytes,
  options: MultipartUploadOptions,
): Promise<{ uploadId: string; parts: UploadedPart[] }> {
  const base = options.baseUrl.replace(/\/$/, '');
  const headers = options.headers ?? {};
  let uploadId = options.resume?.uploadId;
  if (!uploadId) {
    const created = await fetchWithRetry(`${base}/uploads`, { method: 'POST', headers }, options);
    uploadId = ((await created.json()) as { uploadId: string }).uploadId;
  }
  const done = new Map((options.resume?.parts ?? []).map((p) => [p.partNumber, p]));
  let partNumber = 0;
  for await (const part of parts(bytesOf(data), options.partSize ?? 5 * 1024 * 1024)) {
    partNumber++;
    if (done.has(partNumber)) continue;
    const response = await fetchWithRetry(
      `${base}/uploads/${uploadId}/parts/${partNumber}`,
      {
        method: 'PUT',
        headers: { ...headers, 'content-type': 'application/octet-stream' },
        body: () => part,
      },
      options,
    );
    const stored = { partNumber, etag: ((await response.json()) as { etag: string }).etag };
    done.set(partNumber, stored);
    await options.onPart?.({ uploadId, part: stored });
  }
  const list = [...done.values()].sort((a, b) => a.partNumber - b.partNumber);
  await fetchWithRetry(
    `${base}/uploads/${uploadId}/complete`,
    {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: () => JSON.stringify({ parts: list }),
    },
    options,
  );
  return { uploadId, parts: list };
}
