import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake model answers: text, or a tool call, decided per request by `reply`. */
export interface FakeReply {
  text?: string;
  toolCall?: { name: string; arguments: Record<string, unknown> };
}

export interface FakeLlmServerOptions {
  /** Decides the answer from the last user message (default: echoes it back). */
  reply?: (lastUserMessage: string, body: Record<string, unknown>) => FakeReply;
  /** The first N requests get 429 with `Retry-After: retryAfterSeconds`. */
  rateLimitFirst?: number;
  retryAfterSeconds?: number;
  /** Milliseconds to wait before answering (for timeout tests). */
  delayMs?: number;
  /** Milliseconds between streamed chunks. */
  chunkDelayMs?: number;
  /** The embedding of a text (default `fakeEmbedding`: letter frequencies). */
  embed?: (text: string) => number[];
}

export interface FakeLlmServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Every request: path, headers, parsed body, and when it arrived (`Date.now()`). */
  requests: {
    path: string;
    headers: IncomingMessage['headers'];
    body: Record<string, unknown>;
    at: number;
  }[];
  /** Most requests being answered at the same time. */
  maxConcurrent(): number;
  close(): Promise<void>;
}

function lastUser(body: Record<string, unknown>): string {
  const messages = (body.messages ?? []) as { role: string; content: unknown }[];
  const last = [...messages].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return (last.content as { text?: string }[]).map((p) => p.text ?? '').join('');
}

const words = (text: string) => text.match(/\S+\s*/g) ?? [''];

/** A vector per text, deterministic: letter frequencies, so similar texts get similar vectors. */
export function fakeEmbedding(text: string): number[] {
  const v = new Array<number>(8).fill(0);
  for (const ch of text.toLowerCase()) v[ch.charCodeAt(0) % 8] = (v[ch.charCodeAt(0) % 8] ?? 0) + 1;
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

type Handler = (body: Record<string, unknown>, res: ServerResponse, reply: FakeReply) => Promise<void>;

const sse = (res: ServerResponse) =>
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** OpenAI Chat Completions (JSON and SSE) and Embeddings. Also what HuggingFace's chat endpoints speak. */
const openaiChat =
  (chunkDelay: number): Handler =>
  async (body, res, reply) => {
    const model = String(body.model ?? 'fake');
    const usage = { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 };
    const toolCalls = reply.toolCall
      ? [
          {
            id: 'call_1',
            type: 'function',
            function: { name: reply.toolCall.name, arguments: JSON.stringify(reply.toolCall.arguments) },
          },
        ]
      : undefined;
    const finish = toolCalls ? 'tool_calls' : 'stop';
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 0,
          model,
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: toolCalls ? null : (reply.text ?? ''),
                ...(toolCalls ? { tool_calls: toolCalls } : {}),
              },
              finish_reason: finish,
            },
          ],
          usage,
        }),
      );
      return;
    }
    sse(res);
    const chunk = (
      delta: Record<string, unknown>,
      finishReason: string | null,
      extra: Record<string, unknown> = {},
    ) =>
      res.write(
        `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta, finish_reason: finishReason }], ...extra })}\n\n`,
      );
    chunk({ role: 'assistant', content: '' }, null);
    if (toolCalls?.[0]) {
      const args = toolCalls[0].function.arguments;
      chunk(
        {
          tool_calls: [
            {
              index: 0,
              id: 'call_1',
              type: 'function',
              function: { name: toolCalls[0].function.name, arguments: args.slice(0, 5) },
            },
          ],
        },
        null,
      );
      chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(5) } }] }, null);
    } else {
      for (const word of words(reply.text ?? '')) {
        if (res.destroyed) return;
        chunk({ content: word }, null);
        if (chunkDelay > 0) await pause(chunkDelay);
      }
    }
    chunk({}, finish);
    res.write(
      `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 0, model, choices: [], usage })}\n\n`,
    );
    res.end('data: [DONE]\n\n');
  };

const openaiEmbeddings =
  (embed: (text: string) => number[]): Handler =>
  async (body, res) => {
    const input = Array.isArray(body.input) ? (body.input as string[]) : [String(body.input)];
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        object: 'list',
        model: body.model,
        data: input.map((text, index) => ({ object: 'embedding', index, embedding: embed(text) })),
        usage: { prompt_tokens: input.length * 3, total_tokens: input.length * 3 },
      }),
    );
  };

/** Anthropic Messages API (JSON and SSE events). */
const anthropicMessages =
  (chunkDelay: number): Handler =>
  async (body, res, reply) => {
    const model = String(body.model ?? 'fake');
    const content = reply.toolCall
      ? [{ type: 'tool_use', id: 'toolu_1', name: reply.toolCall.name, input: reply.toolCall.arguments }]
      : [{ type: 'text', text: reply.text ?? '' }];
    const stop = reply.toolCall ? 'tool_use' : 'end_turn';
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 'msg_1',
          type: 'message',
          role: 'assistant',
          model,
          content,
          stop_reason: stop,
          stop_sequence: null,
          usage: { input_tokens: 12, output_tokens: 7 },
        }),
      );
      return;
    }
    sse(res);
    const event = (type: string, data: Record<string, unknown>) =>
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    event('message_start', {
      message: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 12, output_tokens: 0 },
      },
    });
    if (reply.toolCall) {
      event('content_block_start', {
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_1', name: reply.toolCall.name, input: {} },
      });
      const args = JSON.stringify(reply.toolCall.arguments);
      event('content_block_delta', {
        index: 0,
        delta: { type: 'input_json_delta', partial_json: args.slice(0, 5) },
      });
      event('content_block_delta', {
        index: 0,
        delta: { type: 'input_json_delta', partial_json: args.slice(5) },
      });
    } else {
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
      for (const word of words(reply.text ?? '')) {
        if (res.destroyed) return;
        event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: word } });
        if (chunkDelay > 0) await pause(chunkDelay);
      }
    }
    event('content_block_stop', { index: 0 });
    event('message_delta', {
      delta: { stop_reason: stop, stop_sequence: null },
      usage: { output_tokens: 7 },
    });
    event('message_stop', {});
    res.end();
  };

/** HuggingFace feature extraction: a vector per input. */
const hfFeatureExtraction =
  (embed: (text: string) => number[]): Handler =>
  async (body, res) => {
    const inputs = Array.isArray(body.inputs) ? (body.inputs as string[]) : [String(body.inputs)];
    const vectors = inputs.map(embed);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(Array.isArray(body.inputs) ? vectors : vectors[0]));
  };

/**
 * A local HTTP server on 127.0.0.1 that speaks the wire protocols of OpenAI (chat completions, streaming,
 * embeddings), Anthropic (messages, streaming) and HuggingFace (chat completions, feature extraction), so
 * the official SDKs are tested for real, not mocked.
 */
export async function startFakeLlmServer(options: FakeLlmServerOptions = {}): Promise<FakeLlmServer> {
  const requests: FakeLlmServer['requests'] = [];
  const reply = options.reply ?? ((text: string) => ({ text: `echo: ${text}` }));
  let limited = 0;
  let active = 0;
  let maxActive = 0;
  const chunkDelay = options.chunkDelayMs ?? 0;
  const embed = options.embed ?? fakeEmbedding;
  const route = (path: string, body: Record<string, unknown>): Handler | undefined => {
    if (path.endsWith('/chat/completions')) return openaiChat(chunkDelay);
    if (path.endsWith('/embeddings')) return openaiEmbeddings(embed);
    if (path.endsWith('/messages')) return anthropicMessages(chunkDelay);
    // A dedicated HuggingFace endpoint (`endpointUrl`) takes feature extraction at its root.
    if (
      path.includes('feature-extraction') ||
      path.includes('/pipeline/') ||
      path.endsWith('/embed') ||
      (path === '/' && 'inputs' in body)
    )
      return hfFeatureExtraction(embed);
    return undefined;
  };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => {
      raw += c.toString();
    });
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] as string;
      let body: Record<string, unknown>;
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch (error) {
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { message: `body is not JSON: ${(error as Error).message}` } }));
        return;
      }
      requests.push({ path, headers: req.headers, body, at: Date.now() });
      const handler = route(path, body);
      if (!handler) {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { message: `no route ${path}` } }));
        return;
      }
      if (limited < (options.rateLimitFirst ?? 0)) {
        limited++;
        res
          .writeHead(429, {
            'content-type': 'application/json',
            'retry-after': String(options.retryAfterSeconds ?? 0),
          })
          .end(JSON.stringify({ error: { message: 'rate limited', type: 'rate_limit_error' } }));
        return;
      }
      active++;
      maxActive = Math.max(maxActive, active);
      res.on('close', () => {
        active--;
      });
      const answer = () =>
        handler(body, res, reply(lastUser(body), body)).catch((error: unknown) =>
          res.destroy(error as Error),
        );
      if (options.delayMs) setTimeout(answer, options.delayMs);
      else void answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    maxConcurrent: () => maxActive,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
