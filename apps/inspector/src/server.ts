import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  isLoopbackHostHeader,
  isLoopbackName,
  type ExecutionFilter,
  type ExecutionHistoryData,
  type ExecutionSearch,
  type ExecutionSearchPage,
  type ExecutionStatus,
  FsmError,
  type FlowSummary,
  type HistoryStore,
  loadConfig,
  MisuseError,
  scanExecutions,
  scanFlowSummary,
} from '@fsm/core';
import { createStorage } from '@fsm/storage';
import { graphModel } from './graph-model.js';
import { layoutGraph } from './layout.js';

export interface InspectorOptions {
  /** The config file whose graph is shown. */
  config: string;
  /** A history store URL (`sqlite:./fsm.db`, …) or a store. */
  storage: string | HistoryStore;
  port?: number;
  host?: string;
  /** The built web app (default: dist/web next to this module). */
  webRoot?: string;
  /** How often the live stream (`/api/live`) sends counts and flow, in ms (default 1000). */
  liveIntervalMs?: number;
  /** Open live streams at most (default 32): one more is 503, so a page cannot pile up feeds and queries. */
  maxLiveClients?: number;
  /**
   * Histories a data-field search reads for its page and for its counts (the store's `scanLimit`; default
   * the store's, 50 000 on SQL stores): bounds the time of a search on a big store.
   */
  fieldScanLimit?: number;
}

export interface Inspector {
  url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

const STATUSES: readonly ExecutionStatus[] = ['running', 'succeeded', 'failed'];

/**
 * Why a request is refused, or undefined. Bound to loopback (the default), the server answers only to a
 * loopback name: a page that rebinds its own name to 127.0.0.1 reads nothing. API requests another
 * site makes (its Origin, or the browser's Sec-Fetch-Site) are refused: they could still open live
 * streams. A link from another site to the page itself still opens it.
 */
function refusal(req: IncomingMessage, loopbackOnly: boolean, api: boolean): string | undefined {
  const host = req.headers.host ?? '';
  if (loopbackOnly && !isLoopbackHostHeader(host)) return `host "${host}" is not this inspector`;
  if (!api) return undefined;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `a ${site} request`;
  const origin = req.headers.origin;
  // `null` is a sandboxed frame or a file: page, not the inspector's own.
  if (origin !== undefined) {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return `origin "${origin}" is not a URL`;
    }
    if (originHost !== host) return `origin "${origin}" is another site`;
  }
  return undefined;
}

/** Epoch ms from a query value: digits or a date, and a time a store can hold. */
function millisFrom(key: string, value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isSafeInteger(ms)) throw new MisuseError(`${key} "${value}" is neither epoch ms nor a date`);
  return ms;
}

/** Every history of a store without `summarizeFlow`/`findExecutions`: one at a time, through the HistoryStore API. */
async function* everyHistory(store: HistoryStore, fsm: string): AsyncGenerator<ExecutionHistoryData> {
  for await (const summary of store.query({ fsm })) {
    const history = await store.load(summary.executionId);
    if (history) yield history.toJSON();
  }
}

/** The filter of a flow view (summary or live feed): a search's filter without its paging and counting. */
function flowFilterFromQuery(params: URLSearchParams, fsm: string): ExecutionFilter {
  const { cursor: _c, limit: _l, exactCounts: _e, ...filter } = filterFromQuery(params, fsm);
  return filter;
}

/** The filter of a request's query string; unknown statuses and bad times are the caller's mistake. */
export function filterFromQuery(params: URLSearchParams, fsm: string): ExecutionSearch {
  const filter: ExecutionSearch = { fsm };
  const text = (key: string) => {
    const value = params.get(key);
    return value === null || value === '' ? undefined : value;
  };
  const status = text('status');
  if (status !== undefined) {
    if (!(STATUSES as readonly string[]).includes(status)) {
      throw new MisuseError(`status "${status}" is not one of ${STATUSES.join(', ')}`);
    }
    filter.status = status as ExecutionStatus;
  }
  const batchId = text('batch');
  if (batchId !== undefined) filter.batchId = batchId;
  const finalState = text('finalState');
  if (finalState !== undefined) filter.finalState = finalState;
  const errorCode = text('errorCode');
  if (errorCode !== undefined) filter.errorCode = errorCode;
  for (const key of ['since', 'until'] as const) {
    const value = text(key);
    if (value === undefined) continue;
    filter[key] = millisFrom(key, value);
  }
  const field = text('field');
  if (field !== undefined) filter.field = { path: field, value: params.get('value') ?? '' };
  const cursor = text('cursor');
  if (cursor !== undefined) filter.cursor = cursor;
  // "count all": every match of a data-field search counted, however long that takes.
  const exact = text('exactCounts');
  if (exact !== undefined) {
    if (exact !== '1' && exact !== 'true') throw new MisuseError(`exactCounts "${exact}" must be 1 or true`);
    filter.exactCounts = true;
  }
  const limit = text('limit');
  if (limit !== undefined) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new MisuseError(`limit "${limit}" must be 1..1000`);
    filter.limit = n;
  }
  return filter;
}

/**
 * The inspector's server: the built web app plus a JSON API — `/api/graph` (networks, definitions and
 * a dagre layout), `/api/flow` (counts per arc and state over the store or one batch), `/api/executions`
 * (filtered, paged, with counts), `/api/executions/:id` (one history), `/api/live` (server-sent events:
 * counts and flow every second).
 */
export async function startInspector(options: InspectorOptions): Promise<Inspector> {
  const config = await loadConfig(options.config);
  const networks = graphModel(config);
  const layout = layoutGraph(networks);
  const store = typeof options.storage === 'string' ? await createStorage(options.storage) : options.storage;
  const webRoot = options.webRoot ?? fileURLToPath(new URL('../dist/web', import.meta.url));
  const liveInterval = options.liveIntervalMs ?? 1000;
  const maxLive = options.maxLiveClients ?? 32;
  const host = options.host ?? '127.0.0.1';
  const loopbackOnly = isLoopbackName(host);
  const live = new Set<ServerResponse>();

  const flow = (filter: ExecutionFilter): Promise<FlowSummary> =>
    store.summarizeFlow
      ? store.summarizeFlow(filter)
      : scanFlowSummary(everyHistory(store, config.name), filter);
  const find = (query: ExecutionSearch): Promise<ExecutionSearchPage> => {
    const search =
      options.fieldScanLimit === undefined ? query : { ...query, scanLimit: options.fieldScanLimit };
    return store.findExecutions
      ? store.findExecutions(search)
      : scanExecutions(everyHistory(store, config.name), search);
  };

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res
      .writeHead(status, { 'content-type': 'application/json', 'x-content-type-options': 'nosniff' })
      .end(JSON.stringify(body));
  };

  /**
   * One feed per filter, shared by every page watching it: one flow summary a second however many pages
   * watch, sent only when it changed. SQL stores keep the flow as running totals (only executions that
   * finished since the last tick are read), so an idle store of a million executions costs a probe.
   */
  interface Feed {
    clients: Set<ServerResponse>;
    timer: NodeJS.Timeout;
    counts: string;
    message: string;
  }
  const feeds = new Map<string, Feed>();
  const stream = (url: URL, req: IncomingMessage, res: ServerResponse) => {
    const filter = flowFilterFromQuery(url.searchParams, config.name);
    const key = JSON.stringify(filter);
    if (live.size >= maxLive) return json(res, 503, { error: `${maxLive} live streams are open already` });
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    live.add(res);
    let feed = feeds.get(key);
    if (!feed) {
      let busy = false;
      const tick = async (current: Feed) => {
        if (busy) return; // a slow store: skip a beat instead of piling up queries
        busy = true;
        try {
          const summary = await flow(filter);
          const counts = JSON.stringify(summary);
          if (counts === current.counts) {
            for (const client of current.clients) client.write(': idle\n\n');
            return;
          }
          current.counts = counts;
          current.message = `data: {"at":${Date.now()},"flow":${JSON.stringify(summary)}}\n\n`;
          for (const client of current.clients) client.write(current.message);
        } catch (error) {
          const failure = `event: failure\ndata: ${JSON.stringify({ error: (error as Error).message })}\n\n`;
          for (const client of current.clients) client.write(failure);
        } finally {
          busy = false;
        }
      };
      const created: Feed = {
        clients: new Set(),
        counts: '',
        message: '',
        timer: setInterval(() => void tick(created), liveInterval),
      };
      feed = created;
      feeds.set(key, created);
      void tick(created);
    } else if (feed.message) {
      res.write(feed.message);
    }
    const mine = feed;
    mine.clients.add(res);
    req.on('close', () => {
      live.delete(res);
      mine.clients.delete(res);
      if (mine.clients.size === 0) {
        clearInterval(mine.timer);
        feeds.delete(key);
      }
    });
  };

  const api = async (url: URL, req: IncomingMessage, res: ServerResponse) => {
    if (url.pathname === '/api/graph') return json(res, 200, { name: config.name, networks, layout });
    if (url.pathname === '/api/flow') {
      return json(res, 200, await flow(flowFilterFromQuery(url.searchParams, config.name)));
    }
    if (url.pathname === '/api/live') return stream(url, req, res);
    if (url.pathname === '/api/executions') {
      return json(res, 200, await find(filterFromQuery(url.searchParams, config.name)));
    }
    const match = /^\/api\/executions\/(.+)$/.exec(url.pathname);
    if (match) {
      let id: string;
      try {
        id = decodeURIComponent(match[1] as string);
      } catch (error) {
        throw new MisuseError(`execution id "${match[1]}" is not URL-encoded text`, { cause: error });
      }
      const history = await store.load(id);
      if (!history) return json(res, 404, { error: `no execution ${match[1]}` });
      const arcs = new Map(
        networks.flatMap((n) => n.arcs.map((a) => [`${n.name}/${a.from}/${a.name}`, a] as const)),
      );
      const steps = [...history.walk()].map(({ step, depth }) => {
        const { children, ...rest } = step;
        const arc = step.arc ? arcs.get(`${step.network}/${step.state}/${step.arc}`) : undefined;
        return {
          ...rest,
          depth,
          // The sub-network state the push returned from: lights the right return edge.
          ...(children && children.length > 0
            ? { pushed: children.length, returnedFrom: children[children.length - 1]?.state }
            : {}),
          ...(arc ? { arcDetail: { ...arc, definition: undefined } } : {}),
        };
      });
      return json(res, 200, { ...history.toJSON(), steps });
    }
    return json(res, 404, { error: 'unknown API path' });
  };

  const files = async (url: URL, res: ServerResponse) => {
    const path = normalize(url.pathname === '/' ? '/index.html' : url.pathname);
    if (path.includes('..')) return json(res, 400, { error: 'bad path' });
    try {
      const body = await readFile(join(webRoot, path));
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch (error) {
      // A folder is not a file to serve either.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EISDIR') throw error;
      json(res, 404, { error: `${path} not found (built the web app? pnpm --filter @fsm/inspector build)` });
    }
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const isApi = url.pathname.startsWith('/api/');
    const refused = refusal(req, loopbackOnly, isApi);
    if (refused !== undefined) return json(res, 403, { error: `refused: ${refused}` });
    const handle = isApi ? api(url, req, res) : files(url, res);
    handle.catch((error: unknown) => {
      if (res.headersSent) {
        res.end();
        return;
      }
      // Bad filters and cursors are the caller's mistake (400); anything else is ours (500).
      const status = error instanceof FsmError && error.code === 'MISUSE' ? 400 : 500;
      json(res, status, { error: (error as Error).message, code: (error as FsmError).code });
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: async () => {
      for (const feed of feeds.values()) clearInterval(feed.timer);
      feeds.clear();
      for (const res of live) res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      if (typeof options.storage === 'string') await store.close();
    },
  };
}
