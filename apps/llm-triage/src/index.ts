import { fileURLToPath } from 'node:url';
import { type BatchResult, SimpleFSM } from '@fsm/core';
import { llmFunctions, llmResourceTypes } from '@fsm/llm';

export const triageConfigPath = fileURLToPath(new URL('../triage.yaml', import.meta.url));

export interface TriageOptions {
  /** OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 for Ollama (default: OpenAI). */
  baseUrl?: string;
  model?: string;
  concurrency?: number;
  signal?: AbortSignal;
}

export interface Ticket {
  id: string;
  subject: string;
  body: string;
}

/** Classifies and routes tickets; each result's `finalState` is its queue. The key comes from OPENAI_API_KEY. */
export async function triage(
  tickets: Iterable<Ticket> | AsyncIterable<Ticket>,
  options: TriageOptions = {},
): Promise<BatchResult> {
  const env: Record<string, string | undefined> = { ...process.env };
  if (options.baseUrl) env.LLM_BASE_URL = options.baseUrl;
  if (options.model) env.TRIAGE_MODEL = options.model;
  const fsm = await SimpleFSM.create(triageConfigPath, {
    env,
    resourceTypes: llmResourceTypes,
    builtins: llmFunctions,
  });
  try {
    return await fsm.processBatch(tickets, {
      concurrency: options.concurrency ?? 4,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } finally {
    await fsm.close();
  }
}
