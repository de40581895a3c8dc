import {
  type BuiltinFunction,
  defineBuiltin,
  type FunctionContext,
  forbiddenSegment,
  type LlmProvider,
} from '@fsm/core';
import { z } from 'zod';

/**
 * dataknobs' LLM functions (dataknobs_llm.fsm_integration.functions, formerly
 * dataknobs_fsm.functions.library.llm) by their names: `llm.PromptBuilder`/`llm.build_prompt`,
 * `llm.LLMCaller`/`llm.call_llm`, `llm.ResponseValidator`/`llm.validate_response`,
 * `llm.ConversationManager`/`llm.manage_conversation`, `llm.EmbeddingGenerator`/`llm.generate_embeddings`,
 * with their parameters and record fields (`prompt`, `system_prompt`, `llm_response`, ...), on our `llm`
 * resource. dataknobs looks the resource up in `data["_resources"]`; here it comes from the state's
 * `resources`, like every resource. FunctionCaller is refused: its registry is Python callables.
 */

type Row = Record<string, unknown>;
const isRow = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v);
const record = (data: unknown): Row => (isRow(data) ? data : {});
const field = () =>
  z
    .string()
    .min(1)
    .refine((s) => forbiddenSegment(s) === undefined, {
      error: (i) => `"${String(i.input)}" is not allowed as a field name`,
    });
const llmOf = (ctx: FunctionContext, name: string) => ctx.resources.get<LlmProvider>(name);

/** Python's str() of a JSON value, for prompts. */
const pyStr = (v: unknown): string =>
  v === null || v === undefined
    ? 'None'
    : v === true
      ? 'True'
      : v === false
        ? 'False'
        : typeof v === 'string'
          ? v
          : typeof v === 'number'
            ? String(v)
            : JSON.stringify(v);

/** A dict path lookup as PromptBuilder does it: the literal key, else the dotted walk. */
function lookup(data: Row, name: string): unknown {
  if (Object.hasOwn(data, name)) return data[name];
  let value: unknown = data;
  for (const part of name.split('.')) {
    if (isRow(value) && Object.hasOwn(value, part)) value = value[part];
    else return undefined;
  }
  return value;
}

/**
 * Python's `template.format(**variables)` for `{name}` fields and `{{`/`}}` escapes. A dotted variable
 * (`{ticket.subject}`) is filled from the variable of that name: PromptBuilder extracts dotted paths, but
 * Python's format would read `.subject` as an attribute of `ticket` and fail (a dataknobs bug not copied).
 */
function format(template: string, variables: Row): string {
  return template.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (match, name: string | undefined) => {
    if (match === '{{') return '{';
    if (match === '}}') return '}';
    const key = name ?? '';
    if (!Object.hasOwn(variables, key)) throw new Error(`Missing variable for prompt: '${key}'`);
    return pyStr(variables[key]);
  });
}

/** The text of a response: its `text`, else `content`, else the whole value (as dataknobs reads it). */
const textOf = (response: unknown): string =>
  isRow(response)
    ? pyStr(
        Object.hasOwn(response, 'text')
          ? response.text
          : Object.hasOwn(response, 'content')
            ? response.content
            : response,
      )
    : pyStr(response);

const promptClass = z.strictObject({
  template: z.string(),
  system_prompt: z.string().nullable().optional(),
  variables: z.array(field()).nullable().optional(),
  format_spec: z.enum(['json', 'markdown', 'plain']).nullable().optional(),
});
const callerClass = z.strictObject({
  resource_name: z.string().min(1),
  model: z.string().nullable().optional(),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  stream: z.literal(false).optional(),
  response_field: field().optional(),
});
const validatorClass = z.strictObject({
  response_field: field().optional(),
  format: z.string().nullable().optional(),
  schema: z.record(z.string(), z.unknown()).nullable().optional(),
  min_length: z.number().int().min(0).nullable().optional(),
  max_length: z.number().int().min(0).nullable().optional(),
  required_fields: z.array(z.string()).nullable().optional(),
});
const conversationClass = z.strictObject({
  max_history: z.number().int().min(1).optional(),
  history_field: field().optional(),
  role_field: field().optional(),
  content_field: field().optional(),
});
const embeddingClass = z.strictObject({
  resource_name: z.string().min(1),
  text_field: field().optional(),
  embedding_field: field().optional(),
  model: z.string().nullable().optional(),
  batch_size: z.number().int().min(1).optional(),
});

const prompt = (p: z.output<typeof promptClass>) => (data: unknown) => {
  const row = record(data);
  const variables: Row = {};
  for (const name of p.variables ?? []) {
    const value = lookup(row, name);
    if (value !== undefined && value !== null) variables[name] = value;
  }
  let text = format(p.template, variables);
  if (p.format_spec === 'json') text += '\n\nPlease respond with valid JSON only.';
  else if (p.format_spec === 'markdown') text += '\n\nPlease format your response using Markdown.';
  return { ...row, prompt: text, ...(p.system_prompt ? { system_prompt: p.system_prompt } : {}) };
};

const caller = (p: z.output<typeof callerClass>) => async (data: unknown, ctx: FunctionContext) => {
  const row = record(data);
  const text = row.prompt;
  if (typeof text !== 'string' || text === '') throw new Error('No prompt found in data');
  const system = typeof row.system_prompt === 'string' && row.system_prompt ? row.system_prompt : undefined;
  const r = await llmOf(ctx, p.resource_name).generate(
    {
      messages: [{ role: 'user', content: text }],
      ...(system ? { system } : {}),
      ...(p.model ? { model: p.model } : {}),
      ...(p.max_tokens ? { maxTokens: p.max_tokens } : {}),
      temperature: p.temperature ?? 0.7,
    },
    { signal: ctx.signal },
  );
  const usage = {
    prompt_tokens: r.usage.inputTokens,
    completion_tokens: r.usage.outputTokens,
    total_tokens: r.usage.totalTokens,
  };
  return {
    ...row,
    [p.response_field ?? 'llm_response']: { text: r.text, usage },
    tokens_used: usage.total_tokens,
  };
};

const invalid = (message: string) => ({ valid: false, errors: [{ path: '', message }] });

const responseCheck = (p: z.output<typeof validatorClass>) => {
  const responseField = p.response_field ?? 'llm_response';
  const schemaFields = Object.keys(p.schema ?? {});
  return (data: unknown) => {
    const row = record(data);
    const response = Object.hasOwn(row, responseField) ? row[responseField] : undefined;
    if (response === undefined || response === null)
      return invalid(`Response field '${responseField}' not found`);
    const text = textOf(response);
    const length = [...text].length;
    if (p.min_length && length < p.min_length)
      return invalid(`Response too short: ${length} < ${p.min_length}`);
    if (p.max_length && length > p.max_length)
      return invalid(`Response too long: ${length} > ${p.max_length}`);
    if (p.format === 'json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        return invalid(`Invalid JSON response: ${(error as Error).message}`);
      }
      const parsedRow = isRow(parsed) ? parsed : {};
      // The schema's fields are required (a pydantic model of them); their types are not checked here.
      const missing = schemaFields.filter((f) => !Object.hasOwn(parsedRow, f));
      if (missing.length > 0)
        return invalid(`Response failed schema validation on ${missing.length} field(s)`);
      for (const f of p.required_fields ?? [])
        if (!Object.hasOwn(parsedRow, f)) return invalid(`Required field missing: ${f}`);
    }
    return true;
  };
};

const conversation = (p: z.output<typeof conversationClass>) => (data: unknown) => {
  const row = record(data);
  const historyField = p.history_field ?? 'conversation_history';
  const role = p.role_field ?? 'role';
  const content = p.content_field ?? 'content';
  const previous = Object.hasOwn(row, historyField) ? row[historyField] : [];
  const history: unknown[] = Array.isArray(previous) ? [...previous] : [];
  if (Object.hasOwn(row, 'prompt')) history.push({ [role]: 'user', [content]: row.prompt });
  if (Object.hasOwn(row, 'llm_response'))
    history.push({ [role]: 'assistant', [content]: textOf(row.llm_response) });
  const max = p.max_history ?? 10;
  return { ...row, [historyField]: history.length > max ? history.slice(-max) : history };
};

const embedding = (p: z.output<typeof embeddingClass>) => async (data: unknown, ctx: FunctionContext) => {
  const row = record(data);
  const textField = p.text_field ?? 'text';
  const text = Object.hasOwn(row, textField) ? row[textField] : undefined;
  if (!text) return row;
  const llm = llmOf(ctx, p.resource_name);
  let vectors: unknown;
  if (Array.isArray(text)) {
    const out: number[][] = [];
    const size = p.batch_size ?? 100;
    for (let i = 0; i < text.length; i += size)
      out.push(...(await llm.embed(text.slice(i, i + size).map(pyStr), { signal: ctx.signal })).vectors);
    vectors = out;
  } else vectors = (await llm.embed([pyStr(text)], { signal: ctx.signal })).vectors[0];
  return { ...row, [p.embedding_field ?? 'embedding']: vectors };
};

/** dataknobs' factories take `resource` where its classes take `resource_name`. */
const factory = <S extends z.ZodObject>(schema: S) =>
  z
    .record(z.string(), z.unknown())
    .transform((params) =>
      Object.fromEntries(Object.entries(params).map(([k, v]) => [k === 'resource' ? 'resource_name' : k, v])),
    )
    .pipe(schema);

function pair<S extends z.ZodObject>(
  cls: string,
  fn: string,
  roles: BuiltinFunction['roles'],
  sync: boolean,
  description: string,
  schema: S,
  create: (p: z.output<S>) => (data: unknown, ctx: FunctionContext) => unknown,
): BuiltinFunction[] {
  return [
    ...defineBuiltin({
      name: `llm.${cls}`,
      aliases: [cls],
      roles,
      sync,
      description,
      params: schema,
      create,
    }),
    ...defineBuiltin({
      name: `llm.${fn}`,
      roles,
      sync,
      description,
      params: factory(schema),
      create: create as (p: unknown) => (data: unknown, ctx: FunctionContext) => unknown,
    }),
  ];
}

export const dataknobsLlmFunctions: readonly BuiltinFunction[] = [
  ...pair(
    'PromptBuilder',
    'build_prompt',
    ['transform'],
    true,
    'Fills a Python format template {var} from `variables` of the record into `prompt` (and `system_prompt`).',
    promptClass,
    prompt,
  ),
  ...pair(
    'LLMCaller',
    'call_llm',
    ['transform'],
    false,
    "Asks the `llm` resource the record's `prompt` (and `system_prompt`); the answer goes to `response_field`.",
    callerClass,
    caller,
  ),
  ...pair(
    'ResponseValidator',
    'validate_response',
    ['validator'],
    true,
    'Checks the answer in `response_field`: length bounds, JSON with `required_fields`.',
    validatorClass,
    responseCheck,
  ),
  ...pair(
    'ConversationManager',
    'manage_conversation',
    ['transform'],
    true,
    'Appends `prompt` and `llm_response` to the conversation history, keeping the last `max_history`.',
    conversationClass,
    conversation,
  ),
  ...pair(
    'EmbeddingGenerator',
    'generate_embeddings',
    ['transform'],
    false,
    'Embeds the text (or texts) in `text_field` with the `llm` resource into `embedding_field`.',
    embeddingClass,
    embedding,
  ),
  ...['llm.FunctionCaller', 'FunctionCaller', 'llm.call_function'].map(
    (name): BuiltinFunction => ({
      name,
      roles: ['transform'],
      sync: false,
      description: "dataknobs' FunctionCaller: not available (its registry is Python callables).",
      create: () => {
        throw new Error(
          'FunctionCaller calls Python callables from a registry; register a TypeScript function that does the call instead',
        );
      },
    }),
  ),
];
