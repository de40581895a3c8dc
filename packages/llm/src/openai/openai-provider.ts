import type {
  LlmCallOptions,
  LlmFinishReason,
  LlmMessage,
  LlmProvider,
  LlmRequest,
  LlmResponse,
  LlmStreamPart,
  LlmToolCall,
  TokenUsage,
} from '@fsm/core';
import { LlmError } from '@fsm/core';
import type OpenAI from 'openai';
import { ConcurrencyLimit, guardedStream, loadSdk, toLlmError } from '../shared/errors.js';
import type { ProviderOptions } from '../shared/options.js';

type ChatParams = OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;
type ChatMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;

const FINISH: Record<string, LlmFinishReason> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool-calls',
  function_call: 'tool-calls',
  content_filter: 'content-filter',
};

function toMessages(request: LlmRequest): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (request.system) out.push({ role: 'system', content: request.system });
  for (const m of request.messages) out.push(toMessage(m));
  return out;
}

function toMessage(m: LlmMessage): ChatMessage {
  if (m.role === 'tool') return { role: 'tool', content: m.content, tool_call_id: m.toolCallId ?? '' };
  if (m.role === 'assistant' && m.toolCalls?.length) {
    return {
      role: 'assistant',
      content: m.content || null,
      tool_calls: m.toolCalls.map((c) => ({
        id: c.id,
        type: 'function' as const,
        function: { name: c.name, arguments: JSON.stringify(c.arguments) },
      })),
    };
  }
  return { role: m.role, content: m.content } as ChatMessage;
}

function usageOf(
  u: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null | undefined,
): TokenUsage {
  const input = u?.prompt_tokens ?? 0;
  const output = u?.completion_tokens ?? 0;
  return { inputTokens: input, outputTokens: output, totalTokens: u?.total_tokens ?? input + output };
}

function parseArguments(text: string): Record<string, unknown> {
  if (!text) return {};
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * OpenAI chat models through the official SDK — and any OpenAI-compatible endpoint (Ollama, vLLM, LM
 * Studio) through `baseURL`. Chat, streaming, tool calls, JSON output, embeddings; the SDK retries
 * 408/409/429/5xx honouring Retry-After; a timeout and the caller's signal abort the request.
 */
export async function openai(options: ProviderOptions): Promise<LlmProvider> {
  const { default: OpenAIClient } = await loadSdk('openai', 'openai', () => import('openai'));
  const apiKey = options.apiKey ?? process.env.OPENAI_API_KEY;
  // Local OpenAI-compatible servers (Ollama, vLLM) take any key; api.openai.com needs a real one.
  if (!apiKey && !options.baseURL)
    throw new LlmError('openai', 'no API key: pass `apiKey` or set OPENAI_API_KEY');
  const client = new OpenAIClient({
    apiKey: apiKey ?? 'not-needed-for-local-endpoints',
    timeout: options.timeoutMs ?? 60_000,
    maxRetries: options.maxRetries ?? 2,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
  });
  const limit = new ConcurrencyLimit(options.maxConcurrency ?? 8);
  const fail = (error: unknown, signal?: AbortSignal) =>
    toLlmError('openai', error, { ...(apiKey ? { apiKey } : {}), ...(signal ? { signal } : {}) });

  const params = (request: LlmRequest): ChatParams => {
    const p: ChatParams = { model: request.model ?? options.model, messages: toMessages(request) };
    if (request.temperature !== undefined) p.temperature = request.temperature;
    if (request.maxTokens !== undefined) p.max_tokens = request.maxTokens;
    if (request.stop) p.stop = request.stop;
    if (request.tools?.length) {
      p.tools = request.tools.map((t) => ({
        type: 'function' as const,
        function: {
          name: t.name,
          parameters: t.parameters,
          ...(t.description ? { description: t.description } : {}),
        },
      }));
    }
    if (request.responseFormat?.type === 'json') {
      p.response_format = request.responseFormat.schema
        ? {
            type: 'json_schema',
            json_schema: {
              name: request.responseFormat.name ?? 'output',
              schema: request.responseFormat.schema,
              strict: false,
            },
          }
        : { type: 'json_object' };
    }
    return p;
  };

  return {
    specificationVersion: 'v1',
    provider: 'openai',
    modelId: options.model,
    capabilities: { chat: true, stream: true, embeddings: true, tools: true, json: true },

    async generate(request: LlmRequest, call: LlmCallOptions = {}): Promise<LlmResponse> {
      try {
        return await limit.run(async () => {
          const completion = await client.chat.completions.create(
            params(request),
            call.signal ? { signal: call.signal } : {},
          );
          const choice = completion.choices[0];
          const toolCalls: LlmToolCall[] = (choice?.message.tool_calls ?? []).flatMap((c) =>
            c.type === 'function'
              ? [{ id: c.id, name: c.function.name, arguments: parseArguments(c.function.arguments) }]
              : [],
          );
          return {
            text: choice?.message.content ?? '',
            toolCalls,
            usage: usageOf(completion.usage),
            finishReason: FINISH[choice?.finish_reason ?? ''] ?? 'other',
            modelId: completion.model,
          };
        }, call.signal);
      } catch (error) {
        throw fail(error, call.signal);
      }
    },

    stream(request: LlmRequest, call: LlmCallOptions = {}): AsyncIterable<LlmStreamPart> {
      const body = async function* (): AsyncGenerator<LlmStreamPart> {
        const calls = new Map<number, { id: string; name: string; args: string }>();
        let usage: TokenUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
        let finish: LlmFinishReason = 'other';
        const stream = await client.chat.completions.create(
          { ...params(request), stream: true, stream_options: { include_usage: true } },
          call.signal ? { signal: call.signal } : {},
        );
        for await (const chunk of stream) {
          if (chunk.usage) usage = usageOf(chunk.usage);
          const choice = chunk.choices[0];
          if (!choice) continue;
          if (choice.delta.content) yield { type: 'text-delta', text: choice.delta.content };
          for (const d of choice.delta.tool_calls ?? []) {
            const entry = calls.get(d.index) ?? { id: d.id ?? '', name: d.function?.name ?? '', args: '' };
            if (d.id) entry.id = d.id;
            if (d.function?.name) entry.name = d.function.name;
            entry.args += d.function?.arguments ?? '';
            calls.set(d.index, entry);
            yield {
              type: 'tool-call-delta',
              id: entry.id,
              ...(d.function?.name ? { name: d.function.name } : {}),
              argumentsDelta: d.function?.arguments ?? '',
            };
          }
          if (choice.finish_reason) finish = FINISH[choice.finish_reason] ?? 'other';
        }
        // The SDK ends an aborted stream quietly; the caller must learn it was cut short.
        call.signal?.throwIfAborted();
        for (const c of calls.values())
          yield { type: 'tool-call', call: { id: c.id, name: c.name, arguments: parseArguments(c.args) } };
        yield { type: 'finish', usage, finishReason: finish };
      };
      return guardedStream(limit, call.signal, body, (error) => fail(error, call.signal));
    },

    async embed(texts: string[], call: LlmCallOptions = {}) {
      try {
        return await limit.run(async () => {
          const out = await client.embeddings.create(
            { model: options.embeddingModel ?? options.model, input: texts },
            call.signal ? { signal: call.signal } : {},
          );
          const vectors = [...out.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
          const tokens = out.usage?.prompt_tokens ?? 0;
          return {
            vectors,
            usage: { inputTokens: tokens, outputTokens: 0, totalTokens: out.usage?.total_tokens ?? tokens },
          };
        }, call.signal);
      } catch (error) {
        throw fail(error, call.signal);
      }
    },
  };
}
