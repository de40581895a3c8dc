import type {
  LlmCallOptions,
  LlmFinishReason,
  LlmProvider,
  LlmRequest,
  LlmResponse,
  LlmStreamPart,
  LlmToolCall,
  TokenUsage,
} from '@fsm/core';
import type Anthropic from '@anthropic-ai/sdk';
import { LlmError } from '@fsm/core';
import { ConcurrencyLimit, guardedStream, loadSdk, toLlmError, unsupported } from '../shared/errors.js';
import type { ProviderOptions } from '../shared/options.js';

type Params = Anthropic.MessageCreateParamsNonStreaming;
type Message = Anthropic.MessageParam;

const FINISH: Record<string, LlmFinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool-calls',
  refusal: 'content-filter',
};

function toMessages(request: LlmRequest): Message[] {
  return request.messages
    .filter((m) => m.role !== 'system')
    .map((m): Message => {
      if (m.role === 'tool')
        return {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: m.toolCallId ?? '', content: m.content }],
        };
      if (m.role === 'assistant' && m.toolCalls?.length) {
        return {
          role: 'assistant',
          content: [
            ...(m.content ? [{ type: 'text' as const, text: m.content }] : []),
            ...m.toolCalls.map((c) => ({
              type: 'tool_use' as const,
              id: c.id,
              name: c.name,
              input: c.arguments,
            })),
          ],
        };
      }
      return { role: m.role === 'assistant' ? 'assistant' : 'user', content: m.content };
    });
}

const usageOf = (input: number, output: number): TokenUsage => ({
  inputTokens: input,
  outputTokens: output,
  totalTokens: input + output,
});

/**
 * Anthropic Claude models through the official SDK: chat, streaming, tool calls, JSON output (a schema as
 * structured outputs, schema-less JSON asked for in the system prompt). Embeddings are not offered by Anthropic:
 * `embed` rejects with `UNSUPPORTED`.
 */
export interface AnthropicOptions extends ProviderOptions {
  /** `max_tokens` when a request sets none (Anthropic requires one). Default 1024. */
  defaultMaxTokens?: number;
  /** Send JSON Schemas as structured outputs (`output_config.format`). Default true; false for older models. */
  structuredOutputs?: boolean;
}

export async function anthropic(options: AnthropicOptions): Promise<LlmProvider> {
  const { default: AnthropicClient } = await loadSdk(
    'anthropic',
    '@anthropic-ai/sdk',
    () => import('@anthropic-ai/sdk'),
  );
  const apiKey = options.apiKey ?? process.env.ANTHROPIC_API_KEY;
  if (!apiKey) throw new LlmError('anthropic', 'no API key: pass `apiKey` or set ANTHROPIC_API_KEY');
  const client = new AnthropicClient({
    apiKey,
    timeout: options.timeoutMs ?? 60_000,
    maxRetries: options.maxRetries ?? 2,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
  });
  const limit = new ConcurrencyLimit(options.maxConcurrency ?? 8);
  const fail = (error: unknown, signal?: AbortSignal) =>
    toLlmError('anthropic', error, { ...(apiKey ? { apiKey } : {}), ...(signal ? { signal } : {}) });

  const params = (request: LlmRequest): Params => {
    const system = [
      request.system,
      ...request.messages.filter((m) => m.role === 'system').map((m) => m.content),
    ];
    const json = request.responseFormat?.type === 'json' ? request.responseFormat : undefined;
    // With a schema, Anthropic's structured outputs (`output_config.format`) hold the model to it;
    // without one (or when turned off for older models), the system prompt asks for JSON.
    const native = json?.schema !== undefined && options.structuredOutputs !== false;
    if (json && !native) {
      system.push(
        `Answer with one JSON value only, no prose.${json.schema ? ` It must match this JSON Schema: ${JSON.stringify(json.schema)}` : ''}`,
      );
    }
    const p: Params = {
      model: request.model ?? options.model,
      max_tokens: request.maxTokens ?? options.defaultMaxTokens ?? 1024,
      messages: toMessages(request),
    };
    if (native && json?.schema) p.output_config = { format: { type: 'json_schema', schema: json.schema } };
    const systemText = system.filter(Boolean).join('\n\n');
    if (systemText) p.system = systemText;
    // This SDK generation has no sampling temperature in Messages params; `request.temperature` is not sent.
    if (request.stop) p.stop_sequences = request.stop;
    if (request.tools?.length) {
      p.tools = request.tools.map((t) => ({
        name: t.name,
        input_schema: t.parameters as Anthropic.Tool.InputSchema,
        ...(t.description ? { description: t.description } : {}),
      }));
    }
    return p;
  };

  return {
    specificationVersion: 'v1',
    provider: 'anthropic',
    modelId: options.model,
    capabilities: { chat: true, stream: true, embeddings: false, tools: true, json: true },

    async generate(request: LlmRequest, call: LlmCallOptions = {}): Promise<LlmResponse> {
      try {
        return await limit.run(async () => {
          const message = await client.messages.create(
            params(request),
            call.signal ? { signal: call.signal } : {},
          );
          let text = '';
          const toolCalls: LlmToolCall[] = [];
          for (const block of message.content) {
            if (block.type === 'text') text += block.text;
            else if (block.type === 'tool_use')
              toolCalls.push({
                id: block.id,
                name: block.name,
                arguments: block.input as Record<string, unknown>,
              });
          }
          return {
            text,
            toolCalls,
            usage: usageOf(message.usage.input_tokens, message.usage.output_tokens),
            finishReason: FINISH[message.stop_reason ?? ''] ?? 'other',
            modelId: message.model,
          };
        }, call.signal);
      } catch (error) {
        throw fail(error, call.signal);
      }
    },

    stream(request: LlmRequest, call: LlmCallOptions = {}): AsyncIterable<LlmStreamPart> {
      const body = async function* (): AsyncGenerator<LlmStreamPart> {
        const tools = new Map<number, { id: string; name: string; json: string }>();
        let input = 0;
        let output = 0;
        let finish: LlmFinishReason = 'other';
        const stream = await client.messages.create(
          { ...params(request), stream: true },
          call.signal ? { signal: call.signal } : {},
        );
        for await (const event of stream) {
          if (event.type === 'message_start') input = event.message.usage.input_tokens;
          else if (event.type === 'content_block_start' && event.content_block.type === 'tool_use') {
            tools.set(event.index, {
              id: event.content_block.id,
              name: event.content_block.name,
              json: '',
            });
          } else if (event.type === 'content_block_delta') {
            if (event.delta.type === 'text_delta') yield { type: 'text-delta', text: event.delta.text };
            else if (event.delta.type === 'input_json_delta') {
              const tool = tools.get(event.index);
              if (tool) {
                tool.json += event.delta.partial_json;
                yield {
                  type: 'tool-call-delta',
                  id: tool.id,
                  name: tool.name,
                  argumentsDelta: event.delta.partial_json,
                };
              }
            }
          } else if (event.type === 'message_delta') {
            output = event.usage.output_tokens;
            finish = FINISH[event.delta.stop_reason ?? ''] ?? 'other';
          }
        }
        call.signal?.throwIfAborted();
        for (const t of tools.values())
          yield {
            type: 'tool-call',
            call: {
              id: t.id,
              name: t.name,
              arguments: t.json ? (JSON.parse(t.json) as Record<string, unknown>) : {},
            },
          };
        yield { type: 'finish', usage: usageOf(input, output), finishReason: finish };
      };
      return guardedStream(limit, call.signal, body, (error) => fail(error, call.signal));
    },

    async embed() {
      throw unsupported('anthropic', 'embeddings');
    },
  };
}
