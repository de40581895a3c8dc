import {
  type BuiltinFunction,
  cloneData,
  compileJsonSchema,
  defineBuiltin,
  type FunctionContext,
  getField,
  LlmError,
  type LlmProvider,
  setField,
  type TokenUsage,
  ValidationError,
  type VectorStore,
} from '@fsm/core';
import { z } from 'zod';
import { parseJsonAnswer } from './structured.js';
import { promptTemplate } from './template.js';

type Row = Record<string, unknown>;
/** Builtins never mutate their input (copy mode relies on it): a deep copy, then the new fields. */
const copy = (data: unknown): Row =>
  typeof data === 'object' && data !== null && !Array.isArray(data) ? cloneData(data as Row) : {};
const llmOf = (ctx: FunctionContext, name: string) => ctx.resources.get<LlmProvider>(name);
const storeOf = (ctx: FunctionContext, name: string) => ctx.resources.get<VectorStore>(name);

/**
 * The SPEC spells the resource `llm` and the output `into`; our packs and apps say `resource` and
 * `target`. Both are accepted (not both at once).
 */
const ALIASES: Record<string, string> = { llm: 'resource', into: 'target' };
function withAliases<S extends z.ZodType>(schema: S) {
  return z.preprocess((params) => {
    if (typeof params !== 'object' || params === null) return params;
    const out: Row = { ...(params as Row) };
    for (const [alias, name] of Object.entries(ALIASES)) {
      if (!(alias in out)) continue;
      if (name in out) throw new Error(`give "${name}" or its alias "${alias}", not both`);
      out[name] = out[alias];
      delete out[alias];
    }
    return out;
  }, schema);
}

const prompted = z.strictObject({
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
type Prompted = z.output<typeof prompted>;

function request(p: Prompted, data: unknown, extra: { system?: string } = {}) {
  const system = [p.system, extra.system].filter(Boolean).join('\n\n');
  return {
    messages: [{ role: 'user' as const, content: promptTemplate(p.prompt).render(data) }],
    ...(system ? { system } : {}),
    ...(p.model ? { model: p.model } : {}),
    ...(p.max_tokens !== undefined ? { maxTokens: p.max_tokens } : {}),
    ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
  };
}

function addUsage(out: Row, target: string | undefined, usage: TokenUsage): void {
  if (!target) return;
  const previous = (getField(out, target) as TokenUsage | undefined) ?? {
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

/** Ready-to-use check of an extraction: a JSON Schema (config) or a zod schema (TypeScript). */
function extractionSchema(schema: Row | z.ZodType): {
  jsonSchema: Row;
  check: (value: unknown) => { ok: true; value: unknown } | { ok: false; issues: string[] };
} {
  if (schema instanceof z.ZodType) {
    return {
      jsonSchema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Row,
      check: (value) => {
        const parsed = schema.safeParse(value);
        return parsed.success
          ? { ok: true, value: parsed.data }
          : {
              ok: false,
              issues: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
            };
      },
    };
  }
  const validate = compileJsonSchema(schema, 'params.schema');
  return {
    jsonSchema: schema,
    check: (value) => {
      const issues = validate(value);
      return issues
        ? { ok: false, issues: issues.map((i) => `${i.path}: ${i.message}`) }
        : { ok: true, value };
    },
  };
}

const isZod = (value: unknown): value is z.ZodType => value instanceof z.ZodType;

/**
 * LLM steps for configs. Each names its resources in `params` (the state must declare them), fills a
 * prompt template from the record, and writes the answer to `target`. Unknown params are config errors.
 */
export const llmFunctions: readonly BuiltinFunction[] = [
  ...defineBuiltin({
    name: 'llm_complete',
    roles: ['transform'],
    sync: false,
    description: 'Asks the model with a prompt template; the text goes to `target`.',
    params: withAliases(prompted),
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
    params: withAliases(prompted.extend({ labels: z.array(z.string().min(1)).min(2) })),
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
    description:
      'Extracts structured data matching `schema` (a JSON Schema, or a zod schema from TypeScript); the validated object goes to `target`.',
    params: withAliases(
      prompted.extend({
        schema: z.union([z.custom<z.ZodType>(isZod), z.record(z.string(), z.unknown())]),
      }),
    ),
    create: (p) => {
      const { jsonSchema, check } = extractionSchema(p.schema);
      return async (data, ctx) => {
        const llm = llmOf(ctx, p.resource);
        const r = await llm.generate(
          { ...request(p, data), responseFormat: { type: 'json', schema: jsonSchema, name: 'extraction' } },
          { signal: ctx.signal },
        );
        const result = check(parseJsonAnswer(llm.provider, r.text));
        if (!result.ok)
          throw new LlmError(
            llm.provider,
            `the extraction does not match the schema: ${result.issues.join('; ')}`,
          );
        const out = copy(data);
        setField(out, p.target, result.value);
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
    params: withAliases(
      z.strictObject({
        resource: z.string().min(1),
        field: z.string().min(1),
        target: z.string().min(1),
        usage_target: z.string().min(1).optional(),
      }),
    ),
    create: (p) => async (data, ctx) => {
      const text = getField(data, p.field);
      if (typeof text !== 'string')
        throw new ValidationError(`embed: field "${p.field}" is not text`, [
          { path: p.field, message: 'expected a string to embed' },
        ]);
      const { vectors, usage } = await llmOf(ctx, p.resource).embed([text], { signal: ctx.signal });
      const out = copy(data);
      setField(out, p.target, vectors[0]);
      if (usage) addUsage(out, p.usage_target, usage);
      return out;
    },
  }),
  ...defineBuiltin({
    name: 'vector_upsert',
    roles: ['transform'],
    sync: false,
    description:
      'Stores the vector at `vector_field` under the id at `id_field`, with `metadata_fields`, in the `vector_store` resource.',
    params: z.strictObject({
      store: z.string().min(1),
      id_field: z.string().min(1),
      vector_field: z.string().min(1),
      metadata_fields: z.array(z.string().min(1)).default([]),
    }),
    create: (p) => async (data, ctx) => {
      const vector = vectorAt(data, p.vector_field, 'vector_upsert');
      const id = getField(data, p.id_field);
      if (typeof id !== 'string' && typeof id !== 'number')
        throw new ValidationError(`vector_upsert: field "${p.id_field}" holds no id`, [
          { path: p.id_field, message: 'expected a string or number id' },
        ]);
      const metadata = Object.fromEntries(p.metadata_fields.map((f) => [f, getField(data, f)]));
      await storeOf(ctx, p.store).upsert([{ id: String(id), vector, metadata }]);
      return data;
    },
  }),
  ...defineBuiltin({
    name: 'vector_search',
    roles: ['transform'],
    sync: false,
    description:
      'Finds the `top_k` nearest vectors to the one at `vector_field` (metadata `filter` by equality); matches go to `target`.',
    params: z.strictObject({
      store: z.string().min(1),
      vector_field: z.string().min(1),
      target: z.string().min(1),
      top_k: z.number().int().positive().default(5),
      filter: z.record(z.string(), z.unknown()).optional(),
    }),
    create: (p) => async (data, ctx) => {
      const vector = vectorAt(data, p.vector_field, 'vector_search');
      const matches = await storeOf(ctx, p.store).query(vector, {
        topK: p.top_k,
        ...(p.filter ? { filter: p.filter } : {}),
      });
      const out = copy(data);
      setField(out, p.target, matches);
      return out;
    },
  }),
];

function vectorAt(data: unknown, field: string, fn: string): number[] {
  const vector = getField(data, field);
  if (!Array.isArray(vector) || vector.length === 0 || !vector.every((x) => typeof x === 'number'))
    throw new ValidationError(`${fn}: field "${field}" holds no vector`, [
      { path: field, message: 'expected a non-empty array of numbers' },
    ]);
  return vector as number[];
}
