import { getField, IoError, type StreamPosition, type StreamSource } from '@fsm/core';
import { fetchWithRetry, type RetryOptions } from './fetch-retry.js';

export type Pagination =
  /** The response says where to continue: `nextCursorPath` in the body, sent back as `cursorParam`. */
  | { type: 'cursor'; cursorParam: string; nextCursorPath: string }
  /** `offsetParam`/`limitParam` query parameters; stops at a short page. */
  | { type: 'offset'; offsetParam?: string; limitParam?: string; pageSize: number }
  /** RFC 8288 `Link: <…>; rel="next"` headers (GitHub-style). */
  | { type: 'link' };

export interface HttpSourceOptions extends RetryOptions {
  url: string;
  headers?: Record<string, string>;
  pagination: Pagination;
  /** Where the records are in a page body (default: the body is the array). */
  itemsPath?: string;
}

function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match) return match[1];
  }
  return undefined;
}

/** Records of a paged HTTP API, page by page (one page in memory), with retries per page. */
export class HttpSource implements StreamSource<Record<string, unknown>> {
  readonly specificationVersion = 'v1' as const;
  private read = 0;
  private cursor: string | undefined;
  private closed = false;

  constructor(private readonly options: HttpSourceOptions) {}

  position(): StreamPosition {
    return { records: this.read, ...(this.cursor !== undefined ? { cursor: this.cursor } : {}) };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Record<string, unknown>> {
    const p = this.options.pagination;
    let next: string | undefined = this.options.url;
    let offset = 0;
    while (next && !this.closed) {
      const url = new URL(next);
      if (p.type === 'offset') {
        url.searchParams.set(p.offsetParam ?? 'offset', String(offset));
        url.searchParams.set(p.limitParam ?? 'limit', String(p.pageSize));
      }
      const response = await fetchWithRetry(url, { headers: this.options.headers ?? {} }, this.options);
      const body = (await response.json()) as unknown;
      const items = this.options.itemsPath ? getField(body, this.options.itemsPath) : body;
      if (!Array.isArray(items))
        throw new IoError(`${url}: no array at ${this.options.itemsPath ?? 'the body'}`, {
          source: url.toString(),
        });
      for (const item of items) {
        if (this.closed) return;
        this.options.signal?.throwIfAborted();
        this.read++;
        yield item as Record<string, unknown>;
      }
      if (p.type === 'cursor') {
        const cursor = getField(body, p.nextCursorPath);
        this.cursor = cursor === undefined || cursor === null || cursor === '' ? undefined : String(cursor);
        if (this.cursor === undefined) return;
        const following = new URL(this.options.url);
        following.searchParams.set(p.cursorParam, this.cursor);
        next = following.toString();
      } else if (p.type === 'offset') {
        offset += items.length;
        next = items.length < p.pageSize ? undefined : this.options.url;
      } else {
        next = nextLink(response.headers.get('link'));
        if (next) this.cursor = next;
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
