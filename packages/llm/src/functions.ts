import {
  type BuiltinFunction,
  defineBuiltin,
  type FunctionContext,
  getField,
  LlmError,
  type LlmProvider,
  setField,
  type VectorStore,
} from '@fsm/core';
import { z } from 'zod';
import { promptTemplate } from './template.js';

type Row = Record<string, unknown>;
const copy = (data: unknown): Row => (typeof data === 'object' && data !== null ? { ...(data as Row) } : {});
const llmOf = (ctx: FunctionContext, name: string) => ctx.resources.get<LlmProvider>(name);
const storeOf = (ctx: FunctionContext, name: string) => ctx.resources.get<VectorStore>(name);

const base = z.object({
  /** Name of the `llm` resource (declared on the state). */
  resource: z.string().min(1),
  /** `{{field.path}}` template filled from the record. */
  prompt: z.string().min(1),
  system: z.string().optional(),
  model: z.string().optional(),
  max_tokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  target: z.string().min(1),
  /** Where token usage is added up (per record), when given. */
  usage_target: z.string().min(1).optional(),
});

function request(p: z.output<typeof base>, data: unknown, extra: { system?: string } = {}) {
  const system = [p.system, extra.system].filter(Boolean).join('\n\n');
  return {
    messages: [{ role: 'user' as const, content: promptTemplate(p.prompt).render(data) }],
    ...(system ? { system } : {}),
    ...(p.model ? { model: p.model } : {}),
    ...(p.max_tokens !== undefined ? { maxTokens: p.max_tokens } : {}),
    ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
  };
}

function addUsage(
  out: Row,
  target: string | undefined,
  usage: { totalTokens: number; inputTokens: number; outputTokens: number },
): void {
  if (!target) return;
  const previous = (getField(out, target) as typeof usage | undefined) ?? {
    inputTokens: 0,
    outputTokens: 0,
    totalTokens: 0,
  };
  setField(out, target, {
    inputTokens: previous.inputTokens + usage.inputTokens,
    outputTokens: previous.outputTokens + usage.outputTokens,
    totalTokens: previous.totalTokens + usage.totalTokens,
  });
}

function parseJson(provider: string, text: string): unknown {
  const trimmed = text.trim().replace(/^```(?:json)?\s*|\s*```$/g, '');
  try {
    return JSON.parse(trimmed);
  } catch (error) {
    throw new LlmError(provider, `expected JSON, got: ${text.slice(0, 120)}`, { cause: error });
  }
}

/**
 * LLM steps for configs. Each names its resources in `params` (the state must declare them), fills a
 * prompt template from the record, and writes the answer to `target`.
 */
export const llmFunctions: readonly BuiltinFunction[] = [
  ...defineBuiltin({
    name: 'llm_complete',
    roles: ['transform'],
    sync: false,
    description: 'Asks the model with a prompt template; the text goes to `target`.',
    params: base,
    create: (p) => async (data, ctx) => {
      const r = await llmOf(ctx, p.resource).generate(request(p, data), { signal: ctx.signal });
      const out = copy(data);
      setField(out, p.target, r.text);
      addUsage(out, p.usage_target, r.usage);
      return out;
    },
  }),
  ...defineBuiltin({
    name: 'llm_classify',
    roles: ['transform'],
    sync: false,
    description:
      'Classifies the record into one of `labels`; the label goes to `target` (an answer outside the labels fails the record).',
    params: base.extend({ labels: z.array(z.string().min(1)).min(2) }),
    create: (p) => async (data, ctx) => {
      const llm = llmOf(ctx, p.resource);
      const system = `Answer with exactly one of these labels and nothing else: ${p.labels.join(', ')}.`;
      const r = await llm.generate(request(p, data, { system }), { signal: ctx.signal });
      const answer = r.text.trim().replace(/^["'`]|["'`.]$/g, '');
      const label = p.labels.find((l) => l.toLowerCase() === answer.toLowerCase());
      if (!label)
        throw new LlmError(
          llm.provider,
          `answer "${answer.slice(0, 60)}" is not one of ${p.labels.join(', ')}`,
        );
      const out = copy(data);
      setField(out, p.target, label);
      addUsage(out, p.usage_target, r.usage);
      return out;
    },
  }),
  ...defineBuiltin({
    name: 'llm_extract',
    roles: ['transform'],
    sync: false,
    description: 'Extracts structured data matching the JSON Schema `schema`; the object goes to `target`.',
    params: base.extend({ schema: z.record(z.string(), z.unknown()) }),
    create: (p) => {
      return async (data, ctx) => {
        const llm = llmOf(ctx, p.resource);
        const r = await llm.generate(
          { ...request(p, data), responseFormat: { type: 'json', schema: p.schema, name: 'extraction' } },
          { signal: ctx.signal },
        );
        const value = parseJson(llm.provider, r.text);
        const required = (p.schema.required as string[] | undefined) ?? [];
        const missing = required.filter((k) => (value as Row | null)?.[k] === undefined);
        if (typeof value !== 'object' || value === null || missing.length > 0) {
          throw new LlmError(llm.provider, `extraction misses ${missing.join(', ') || 'an object'}`);
        }
        const out = copy(data);
        setField(out, p.target, value);
        addUsage(out, p.usage_target, r.usage);
        return out;
      };
    },
  }),
  ...defineBuiltin({
    name: 'embed',
    roles: ['transform'],
    sync: false,
    description: 'Embeds the text at `field` with the `llm` resource; the vector goes to `target`.',
    params: z.object({ resource: z.string().min(1), field: z.string().min(1), target: z.string().min(1) }),
    create: (p) => async (data, ctx) => {
      const text = getField(data, p.field);
      if (typeof text !== 'string') throw new LlmError('embed', `field "${p.field}" is not text`);
      const { vectors } = await llmOf(ctx, p.resource).embed([text], { signal: ctx.signal });
      const out = copy(data);
      setField(out, p.target, vectors[0]);
      return out;
    },
  }),
  ...defineBuiltin({
    name: 'vector_upsert',
    roles: ['transform'],
    sync: false,
    description:
      'Stores the vector at `vector_field` under the id at `id_field`, with `metadata_fields`, in the `vector_store` resource.',
    params: z.object({
      store: z.string().min(1),
      id_field: z.string().min(1),
      vector_field: z.string().min(1),
      metadata_fields: z.array(z.string().min(1)).default([]),
    }),
    create: (p) => async (data, ctx) => {
      const vector = getField(data, p.vector_field);
      if (!Array.isArray(vector))
        throw new LlmError('vector_upsert', `field "${p.vector_field}" holds no vector`);
      const metadata = Object.fromEntries(p.metadata_fields.map((f) => [f, getField(data, f)]));
      await storeOf(ctx, p.store).upsert([
        { id: String(getField(data, p.id_field)), vector: vector as number[], metadata },
      ]);
      return data;
    },
  }),
  ...defineBuiltin({
    name: 'vector_search',
    roles: ['transform'],
    sync: false,
    description:
      'Finds the `top_k` nearest vectors to the one at `vector_field` (metadata `filter` by equality); matches go to `target`.',
    params: z.object({
      store: z.string().min(1),
      vector_field: z.string().min(1),
      target: z.string().min(1),
      top_k: z.number().int().positive().default(5),
      filter: z.record(z.string(), z.unknown()).optional(),
    }),
    create: (p) => async (data, ctx) => {
      const vector = getField(data, p.vector_field);
      if (!Array.isArray(vector))
        throw new LlmError('vector_search', `field "${p.vector_field}" holds no vector`);
      const matches = await storeOf(ctx, p.store).query(vector as number[], {
        topK: p.top_k,
        ...(p.filter ? { filter: p.filter } : {}),
      });
      const out = copy(data);
      setField(out, p.target, matches);
      return out;
    },
  }),
];
