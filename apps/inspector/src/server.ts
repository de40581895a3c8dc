import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ExecutionStatus, type HistoryQuery, type HistoryStore, loadConfig } from '@fsm/core';
import { createStorage } from '@fsm/storage';
import { graphModel } from './graph-model.js';

export interface InspectorOptions {
  /** The config file whose graph is shown. */
  config: string;
  /** A history store URL (`sqlite:./fsm.db`, …) or a store. */
  storage: string | HistoryStore;
  port?: number;
  host?: string;
  /** The built web app (default: dist/web next to this module). */
  webRoot?: string;
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
  '.json': 'application/json',
};

/**
 * The inspector's server: the built web app plus a JSON API — `/api/graph` (the config's networks),
 * `/api/executions?status=&fsm=&limit=` (summaries, newest first) and `/api/executions/:id` (one
 * history, every step with its data and the arc taken, and that arc's condition: why it was taken).
 */
export async function startInspector(options: InspectorOptions): Promise<Inspector> {
  const config = await loadConfig(options.config);
  const networks = graphModel(config);
  const store = typeof options.storage === 'string' ? await createStorage(options.storage) : options.storage;
  const webRoot = options.webRoot ?? fileURLToPath(new URL('../dist/web', import.meta.url));

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const api = async (url: URL, res: ServerResponse) => {
    if (url.pathname === '/api/graph') return json(res, 200, { name: config.name, networks });
    if (url.pathname === '/api/executions') {
      const query: HistoryQuery = { fsm: config.name, limit: Number(url.searchParams.get('limit') ?? 100) };
      const status = url.searchParams.get('status');
      if (status) query.status = status as ExecutionStatus;
      const list = [];
      for await (const summary of store.query(query)) list.push(summary);
      return json(res, 200, list);
    }
    const match = /^\/api\/executions\/(.+)$/.exec(url.pathname);
    if (match) {
      const history = await store.load(decodeURIComponent(match[1] as string));
      if (!history) return json(res, 404, { error: `no execution ${match[1]}` });
      const arcs = new Map(
        networks.flatMap((n) => n.arcs.map((a) => [`${n.name}/${a.from}/${a.name}`, a] as const)),
      );
      const steps = [...history.walk()].map(({ step, depth }) => ({
        ...step,
        children: undefined,
        depth,
        arcDetail: step.arc ? arcs.get(`${step.network}/${step.state}/${step.arc}`) : undefined,
      }));
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
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      json(res, 404, { error: `${path} not found (built the web app? pnpm --filter @fsm/inspector build)` });
    }
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const handle = url.pathname.startsWith('/api/') ? api(url, res) : files(url, res);
    handle.catch((error: unknown) => json(res, 500, { error: (error as Error).message }));
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      if (typeof options.storage === 'string') await store.close();
    },
  };
}
