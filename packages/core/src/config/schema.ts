import { z } from 'zod';

/**
 * The raw config file format (after env substitution and includes), as dataknobs-fsm writes it. Numbers and
 * booleans may also be strings (what `${VAR}` substitution produces); they are coerced here.
 */

function numeric(inner: z.ZodNumber) {
  return z
    .union([inner, z.string()], {
      error: (issue) => `expected a number, got ${describe(issue.input)}`,
    })
    .transform((value, ctx) => {
      if (typeof value === 'number') return value;
      const n = Number(value);
      if (value.trim() === '' || Number.isNaN(n)) {
        ctx.addIssue({ code: 'custom', message: `expected a number, got ${describe(value)}` });
        return z.NEVER;
      }
      return n;
    })
    .pipe(inner);
}

function flag() {
  return z
    .union([z.boolean(), z.enum(['true', 'false'])], {
      error: (issue) => `expected true or false, got ${describe(issue.input)}`,
    })
    .transform((value) => value === true || value === 'true');
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

const name = () => z.string().min(1, 'must not be empty');
const record = () => z.record(z.string(), z.unknown());
const stringMap = () => z.record(z.string(), z.string());

/** Matches one letter in either case: JSON Schema patterns have no `i` flag. */
const eitherCase = (c: string) =>
  /[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * An enum written in any case (dataknobs-fsm's own quick start writes `data_mode: COPY`), normalised to
 * our lowercase spelling. The error for a bad value is the one of a plain enum.
 */
export function anyCaseEnum<const T extends readonly [string, ...string[]]>(values: T) {
  const message = `Invalid option: expected one of ${values.map((v) => JSON.stringify(v)).join('|')}`;
  const pattern = new RegExp(`^(?:${values.map((v) => [...v].map(eitherCase).join('')).join('|')})$`);
  return z
    .string({ error: message })
    .regex(pattern, { error: message })
    .transform((value) => value.toLowerCase() as T[number]);
}

export const dataModeSchema = anyCaseEnum(['copy', 'reference', 'direct']);
export const dataIsolationSchema = anyCaseEnum(['copy', 'reference', 'serialize']);
export const executionStrategySchema = anyCaseEnum([
  'depth_first',
  'breadth_first',
  'resource_optimized',
  'stream_optimized',
]);
/** `dataknobs`: push arcs behave as in dataknobs-fsm (see docs/migrating-from-dataknobs.md). */
export const semanticsSchema = anyCaseEnum(['fsm', 'dataknobs']);

const FUNCTION_TYPES = ['registered', 'builtin', 'expression', 'inline', 'custom'] as const;

export const functionRefObjectSchema = z
  .strictObject({
    type: anyCaseEnum(FUNCTION_TYPES).optional(),
    name: name().optional(),
    code: z.string().optional(),
    language: anyCaseEnum(['jsonata', 'cel']).optional(),
    module: name().optional(),
    params: record().optional(),
  })
  .superRefine((ref, ctx) => {
    const type = ref.type ?? (ref.name !== undefined ? 'registered' : undefined);
    const need = (key: 'name' | 'code' | 'module', why: string) => {
      if (ref[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: why });
    };
    switch (type) {
      case undefined:
        ctx.addIssue({
          code: 'custom',
          path: ['type'],
          message: `a function reference needs a type (${FUNCTION_TYPES.join(', ')}) or a name`,
        });
        break;
      case 'registered':
      case 'builtin':
        need('name', `a ${type} function needs a name`);
        break;
      case 'expression':
      case 'inline':
        need('code', `an ${type} function needs code`);
        break;
      case 'custom':
        need('module', 'a custom function needs a module');
        need('name', 'a custom function needs a name (the export)');
        break;
    }
    if (ref.language !== undefined && type !== 'expression') {
      ctx.addIssue({
        code: 'custom',
        path: ['language'],
        message: 'language applies to expression functions only',
      });
    }
  })
  .meta({ description: 'A function reference object: {type, name | code | module, params}.' });

export const functionRefSchema = z
  .union([name(), functionRefObjectSchema], {
    error: (issue) => `expected a function name or a {type, ...} object, got ${describe(issue.input)}`,
  })
  .meta({
    id: 'FunctionRef',
    description: 'A function name, or {type: registered|builtin|expression|inline|custom, ...}.',
  });

const functionRefList = z.union([functionRefSchema, z.array(functionRefSchema)]);

export const retrySchema = z
  .strictObject({
    attempts: numeric(z.number().int().min(0)),
    backoff: z.enum(['fixed', 'exponential']).optional(),
    delay_ms: numeric(z.number().min(0)).optional(),
  })
  .meta({ id: 'Retry' });

/** Fields shared by state-level arcs and network-level (`from`/`to`) arcs. */
const arcFields = {
  condition: functionRefSchema.optional(),
  transform: functionRefList.optional(),
  resources: z.union([z.array(name()), stringMap()]).optional(),
  priority: numeric(z.number().int()).optional(),
  name: z.string().optional(),
  metadata: record().optional(),
  target_network: name().optional(),
  return_state: name().optional(),
  data_isolation: dataIsolationSchema.optional(),
  data_mapping: stringMap().optional(),
  result_mapping: stringMap().optional(),
};

export const arcSchema = z
  .strictObject({ target: name().optional(), ...arcFields })
  .meta({ id: 'Arc', description: 'An arc of a state; with target_network it is a push arc.' });

export const networkArcSchema = z
  .strictObject({ from: name(), to: name().optional(), ...arcFields })
  .meta({ id: 'NetworkArc', description: "A network-level arc, moved onto its 'from' state." });

export const stateSchema = z
  .strictObject({
    name: name(),
    is_start: flag().optional(),
    is_end: flag().optional(),
    schema: record().optional(),
    data_schema: record().optional(),
    pre_validators: functionRefList.optional(),
    transforms: functionRefList.optional(),
    validators: functionRefList.optional(),
    arcs: z.array(arcSchema).optional(),
    resources: z.array(name()).optional(),
    data_mode: dataModeSchema.optional(),
    emit_output: flag().optional(),
    run_on_failure: flag().optional(),
    retry: retrySchema.optional(),
    metadata: record().optional(),
  })
  .meta({ id: 'State' });

export const streamSchema = z
  .strictObject({
    enabled: flag().optional(),
    chunk_size: numeric(z.number().int().min(1)).optional(),
    parallelism: numeric(z.number().int().min(1)).optional(),
    memory_limit_mb: numeric(z.number().min(1)).optional(),
    backpressure_threshold: numeric(z.number().min(0).max(1)).optional(),
    format: z.string().optional(),
  })
  .meta({ id: 'Streaming' });

export const networkSchema = z
  .strictObject({
    name: name(),
    states: z.array(stateSchema),
    arcs: z.array(networkArcSchema).optional(),
    resources: z.array(name()).optional(),
    streaming: streamSchema.optional(),
    metadata: record().optional(),
  })
  .meta({ id: 'Network' });

export const resourceSchema = z
  .strictObject({
    name: name(),
    type: name(),
    config: record().optional(),
    connection_pool_size: numeric(z.number().int().min(1)).optional(),
    timeout_seconds: numeric(z.number().positive()).optional(),
    retry_attempts: numeric(z.number().int().min(0)).optional(),
    retry_delay_seconds: numeric(z.number().min(0)).optional(),
    health_check_interval: numeric(z.number().positive()).optional(),
  })
  .meta({ id: 'Resource' });

export const dataModeConfigSchema = z.union([
  dataModeSchema,
  z.strictObject({
    default: dataModeSchema.optional(),
    state_overrides: z.record(z.string(), dataModeSchema).optional(),
    copy_config: record().optional(),
    reference_config: record().optional(),
    direct_config: record().optional(),
  }),
]);

export const rawConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: name(),
    version: z.union([z.string(), z.number()]).optional(),
    description: z.string().optional(),
    main_network: name().optional(),
    data_mode: dataModeConfigSchema.optional(),
    resources: z.array(resourceSchema).optional(),
    functions: z.record(z.string(), functionRefSchema).optional(),
    networks: z.array(networkSchema).optional(),
    states: z.array(stateSchema).optional(),
    arcs: z.array(networkArcSchema).optional(),
    execution_strategy: executionStrategySchema.optional(),
    semantics: semanticsSchema.optional().meta({
      description: 'dataknobs: push arcs end in the sub-network and replace data, as in dataknobs-fsm.',
    }),
    network_hint_field: name().optional().meta({
      description:
        'Opt-in: a record field that, when it names a network, is where the record enters. Without it, records never choose their entry.',
    }),
    max_transitions: numeric(z.number().int().min(1)).optional(),
    timeout_seconds: numeric(z.number().positive()).optional(),
    metadata: record().optional(),
    transaction: z
      .unknown()
      .optional()
      .meta({ description: 'Removed in dataknobs-fsm; accepted and ignored.' }),
  })
  .meta({ title: '@fsm config', description: 'A finite state machine config (dataknobs-fsm format).' });

export type RawConfig = z.output<typeof rawConfigSchema>;
export type RawState = z.output<typeof stateSchema>;
export type RawArc = z.output<typeof arcSchema>;
export type RawNetworkArc = z.output<typeof networkArcSchema>;
export type RawNetwork = z.output<typeof networkSchema>;
export type RawFunctionRef = z.output<typeof functionRefSchema>;
