import type {
  LlmCallOptions,
  LlmFinishReason,
  LlmProvider,
  LlmRequest,
  LlmResponse,
  LlmStreamPart,
  TokenUsage,
} from '@fsm/core';
import { ConcurrencyLimit, guardedStream, loadSdk, toLlmError, unsupported } from '../shared/errors.js';
import type { ProviderOptions } from '../shared/options.js';
import { retryingFetch } from '../shared/retry-fetch.js';

export interface HuggingFaceOptions extends Omit<ProviderOptions, 'apiKey' | 'baseURL'> {
  /** Defaults to HF_TOKEN. */
  accessToken?: string;
  /** A dedicated Inference Endpoint or a TGI/TEI server; without it, HuggingFace's router is used. */
  endpointUrl?: string;
  /** Endpoint for embeddings when it differs (TEI servers often serve one task each). */
  embeddingEndpointUrl?: string;
}

const FINISH: Record<string, LlmFinishReason> = {
  stop: 'stop',
  eos_token: 'stop',
  length: 'length',
  tool_calls: 'tool-calls',
};

const usageOf = (u: { prompt_tokens?: number; completion_tokens?: number } | undefined): TokenUsage => {
  const input = u?.prompt_tokens ?? 0;
  const output = u?.completion_tokens ?? 0;
  return { inputTokens: input, outputTokens: output, totalTokens: input + output };
};

/** Mean of token vectors when a server returns one vector per token. */
function pooled(vector: unknown): number[] {
  if (Array.isArray(vector) && Array.isArray(vector[0])) {
    const rows = vector as number[][];
    const width = rows[0]?.length ?? 0;
    return Array.from(
      { length: width },
      (_, i) => rows.reduce((sum, row) => sum + (row[i] ?? 0), 0) / rows.length,
    );
  }
  return vector as number[];
}

/**
 * HuggingFace models through the official `@huggingface/inference` client: chat and streaming (TGI's
 * OpenAI-compatible chat), embeddings (feature extraction). Tool calls are not declared: support varies by
 * model and server.
 */
export async function huggingface(options: HuggingFaceOptions): Promise<LlmProvider> {
  const { InferenceClient } = await loadSdk(
    'huggingface',
    '@huggingface/inference',
    () => import('@huggingface/inference'),
  );
  const token = options.accessToken ?? process.env.HF_TOKEN;
  // This client has no retries of its own (and retries 503 at once, forever, unless told not to): ours
  // back off and honour Retry-After.
  const settings = {
    fetch: retryingFetch({ maxRetries: options.maxRetries ?? 2 }),
    retry_on_error: false,
  };
  const client = new InferenceClient(token, {
    ...settings,
    ...(options.endpointUrl ? { endpointUrl: options.endpointUrl } : {}),
  });
  const embedClient = options.embeddingEndpointUrl
    ? new InferenceClient(token, { ...settings, endpointUrl: options.embeddingEndpointUrl })
    : client;
  const limit = new ConcurrencyLimit(options.maxConcurrency ?? 8);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const fail = (error: unknown, call: LlmCallOptions, timeout: AbortSignal) =>
    toLlmError('huggingface', error, {
      ...(token ? { apiKey: token } : {}),
      ...(call.signal ? { signal: call.signal } : {}),
      timeout,
    });
  // The client takes no timeout: our timer's signal, joined with the caller's, stops the request.
  const signals = (call: LlmCallOptions) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    return { timeout, signal: call.signal ? AbortSignal.any([call.signal, timeout]) : timeout };
  };
  const args = (request: LlmRequest) => {
    if (request.tools?.length) throw unsupported('huggingface', 'tool calls');
    return chatArgs(request);
  };
  const chatArgs = (request: LlmRequest) => ({
    model: request.model ?? options.model,
    messages: [
      ...(request.system ? [{ role: 'system', content: request.system }] : []),
      ...request.messages.map((m) => ({ role: m.role, content: m.content })),
    ],
    ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.stop ? { stop: request.stop } : {}),
    ...(request.responseFormat?.type === 'json'
      ? {
          response_format: request.responseFormat.schema
            ? {
                type: 'json_schema' as const,
                json_schema: {
                  name: request.responseFormat.name ?? 'output',
                  schema: request.responseFormat.schema,
                },
              }
            : { type: 'json_object' as const },
        }
      : {}),
  });

  return {
    specificationVersion: 'v1',
    provider: 'huggingface',
    modelId: options.model,
    capabilities: { chat: true, stream: true, embeddings: true, tools: false, json: true },

    async generate(request: LlmRequest, call: LlmCallOptions = {}): Promise<LlmResponse> {
      const { timeout, signal } = signals(call);
      try {
        return await limit.run(async () => {
          const out = await client.chatCompletion(args(request), { signal });
          const choice = out.choices[0];
          return {
            text: choice?.message.content ?? '',
            toolCalls: [],
            usage: usageOf(out.usage),
            finishReason: FINISH[choice?.finish_reason ?? ''] ?? 'other',
            modelId: out.model,
          };
        }, signal);
      } catch (error) {
        throw fail(error, call, timeout);
      }
    },

    stream(request: LlmRequest, call: LlmCallOptions = {}): AsyncIterable<LlmStreamPart> {
      const { timeout, signal } = signals(call);
      const body = async function* (): AsyncGenerator<LlmStreamPart> {
        let usage: TokenUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
        let finish: LlmFinishReason = 'other';
        for await (const chunk of client.chatCompletionStream(args(request), { signal })) {
          if (chunk.usage) usage = usageOf(chunk.usage);
          const choice = chunk.choices[0];
          if (!choice) continue;
          if (choice.delta.content) yield { type: 'text-delta', text: choice.delta.content };
          if (choice.finish_reason) finish = FINISH[choice.finish_reason] ?? 'other';
        }
        signal.throwIfAborted();
        yield { type: 'finish', usage, finishReason: finish };
      };
      return guardedStream(limit, signal, body, (error) => fail(error, call, timeout));
    },

    async embed(texts: string[], call: LlmCallOptions = {}) {
      const { timeout, signal } = signals(call);
      try {
        return await limit.run(async () => {
          const out = await embedClient.featureExtraction(
            { model: options.embeddingModel ?? options.model, inputs: texts },
            { signal },
          );
          return { vectors: (out as unknown[]).map(pooled) };
        }, signal);
      } catch (error) {
        throw fail(error, call, timeout);
      }
    },
  };
}
