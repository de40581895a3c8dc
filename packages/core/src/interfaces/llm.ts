export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

export type LlmRole = 'system' | 'user' | 'assistant' | 'tool';

export interface LlmMessage {
  role: LlmRole;
  content: string;
  /** For `tool` messages: the call this answers. */
  toolCallId?: string;
  /** For `assistant` messages that called tools. */
  toolCalls?: LlmToolCall[];
}

export interface LlmToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
}

export interface LlmToolCall {
  id: string;
  name: string;
  /** Parsed JSON arguments. */
  arguments: Record<string, unknown>;
}

export interface LlmRequest {
  messages: LlmMessage[];
  system?: string;
  model?: string;
  temperature?: number;
  maxTokens?: number;
  stop?: string[];
  tools?: LlmToolDefinition[];
  /** Ask for JSON output, optionally matching a JSON Schema. */
  responseFormat?: { type: 'text' } | { type: 'json'; schema?: Record<string, unknown>; name?: string };
}

export type LlmFinishReason = 'stop' | 'length' | 'tool-calls' | 'content-filter' | 'error' | 'other';

export interface LlmResponse {
  text: string;
  toolCalls: LlmToolCall[];
  usage: TokenUsage;
  finishReason: LlmFinishReason;
  modelId: string;
}

export type LlmStreamPart =
  | { type: 'text-delta'; text: string }
  | { type: 'tool-call-delta'; id: string; name?: string; argumentsDelta: string }
  | { type: 'tool-call'; call: LlmToolCall }
  | { type: 'finish'; usage: TokenUsage; finishReason: LlmFinishReason };

export interface LlmCapabilities {
  chat: boolean;
  stream: boolean;
  embeddings: boolean;
  tools: boolean;
  json: boolean;
}

export interface LlmCallOptions {
  signal?: AbortSignal;
}

/** One model of one vendor, mapped onto one shape (like the Vercel AI SDK's LanguageModel spec). */
export interface LlmProvider {
  readonly specificationVersion: 'v1';
  readonly provider: string;
  readonly modelId: string;
  readonly capabilities: LlmCapabilities;
  generate(request: LlmRequest, options?: LlmCallOptions): Promise<LlmResponse>;
  stream(request: LlmRequest, options?: LlmCallOptions): AsyncIterable<LlmStreamPart>;
  /** Rejects with `LlmError` code `UNSUPPORTED` when `capabilities.embeddings` is false. */
  embed(texts: string[], options?: LlmCallOptions): Promise<{ vectors: number[][]; usage?: TokenUsage }>;
}

export interface VectorItem {
  id: string;
  vector: number[];
  metadata?: Record<string, unknown>;
}

export interface VectorMatch {
  id: string;
  score: number;
  metadata?: Record<string, unknown>;
}

export interface VectorStore {
  readonly specificationVersion: 'v1';
  upsert(items: VectorItem[]): Promise<void>;
  /** Cosine similarity, best first; `filter` matches metadata fields by equality. */
  query(
    vector: number[],
    options: { topK: number; filter?: Record<string, unknown> },
  ): Promise<VectorMatch[]>;
  delete(ids: string[]): Promise<void>;
  close(): Promise<void>;
}
