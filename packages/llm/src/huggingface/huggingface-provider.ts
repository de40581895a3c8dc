import type {
  LlmCallOptions,
  LlmFinishReason,
  LlmProvider,
  LlmRequest,
  LlmResponse,
  LlmStreamPart,
  TokenUsage,
} from '@fsm/core';
import { ConcurrencyLimit, toLlmError } from '../shared/errors.js';
import type { ProviderOptions } from '../shared/options.js';

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
  const { InferenceClient } = await import('@huggingface/inference');
  const token = options.accessToken ?? process.env.HF_TOKEN;
  const client = new InferenceClient(token, options.endpointUrl ? { endpointUrl: options.endpointUrl } : {});
  const embedClient = options.embeddingEndpointUrl
    ? new InferenceClient(token, { endpointUrl: options.embeddingEndpointUrl })
    : client;
  const limit = new ConcurrencyLimit(options.maxConcurrency ?? 8);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const fail = (error: unknown, signal?: AbortSignal) =>
    toLlmError('huggingface', error, { ...(token ? { apiKey: token } : {}), ...(signal ? { signal } : {}) });
  const signalOf = (call: LlmCallOptions) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    return call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
  };
  const args = (request: LlmRequest) => ({
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
      return limit.run(async () => {
        const signal = signalOf(call);
        try {
          const out = await client.chatCompletion(args(request), { signal });
          const choice = out.choices[0];
          return {
            text: choice?.message.content ?? '',
            toolCalls: [],
            usage: usageOf(out.usage),
            finishReason: FINISH[choice?.finish_reason ?? ''] ?? 'other',
            modelId: out.model,
          };
        } catch (error) {
          throw fail(error, signal);
        }
      });
    },

    stream(request: LlmRequest, call: LlmCallOptions = {}): AsyncIterable<LlmStreamPart> {
      return limit.stream(async function* () {
        const signal = signalOf(call);
        let usage: TokenUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
        let finish: LlmFinishReason = 'other';
        try {
          for await (const chunk of client.chatCompletionStream(args(request), { signal })) {
            if (chunk.usage) usage = usageOf(chunk.usage);
            const choice = chunk.choices[0];
            if (!choice) continue;
            if (choice.delta.content) yield { type: 'text-delta', text: choice.delta.content };
            if (choice.finish_reason) finish = FINISH[choice.finish_reason] ?? 'other';
          }
          signal.throwIfAborted();
        } catch (error) {
          throw fail(error, signal);
        }
        yield { type: 'finish', usage, finishReason: finish };
      });
    },

    async embed(texts: string[], call: LlmCallOptions = {}) {
      return limit.run(async () => {
        const signal = signalOf(call);
        try {
          const out = await embedClient.featureExtraction(
            { model: options.embeddingModel ?? options.model, inputs: texts },
            { signal },
          );
          return { vectors: (out as unknown[]).map(pooled) };
        } catch (error) {
          throw fail(error, signal);
        }
      });
    },
  };
}
