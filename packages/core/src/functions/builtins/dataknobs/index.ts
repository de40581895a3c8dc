/**
 * dataknobs-fsm's builtin library as it spells it: module-qualified (`validators.range_check`,
 * `transformers.FieldMapper`), class names and factory names, each with dataknobs' parameters and
 * behaviour. Our own names keep our parameters: where a bare name is both ours and dataknobs'
 * (`required_fields`, `convert_types`, `flatten`, `FieldMapper`, `RangeValidator`, ...) our parameters are
 * tried first and dataknobs' second, so `FieldMapper` takes `mapping` or `field_map`. Module-qualified
 * names are dataknobs' alone. Provider packages add `database.*` the same way (@fsm/resources).
 */
import type { BuiltinFunction } from '../../types.js';
import { conditionBuiltins } from '../conditions.js';
import { transformBuiltins } from '../transforms.js';
import { validatorBuiltins } from '../validators.js';
import { dataknobsEnrichers, refusedIdentity } from './enrichers.js';
import { type MemberFunctions, either } from './shared.js';
import { dataknobsStreaming, refusedStreaming } from './streaming.js';
import { dataknobsTransformers } from './transformers.js';
import { dataknobsValidators, nested } from './validators.js';

export { ENRICHMENT_ON_MISSING, fieldMapSpecError } from './enrichers.js';
export { type Member, member, type MemberFunctions } from './shared.js';
export { refusedMember } from './streaming.js';

/** The param keys of our builtins that share a bare name with dataknobs' library. */
const OUR_KEYS: Readonly<Record<string, readonly string[]>> = {
  required_fields: ['fields'],
  RequiredFieldsValidator: ['fields'],
  schema: ['schema'],
  SchemaValidator: ['schema'],
  RangeValidator: ['field', 'min', 'max'],
  pattern: ['field', 'pattern'],
  PatternValidator: ['field', 'pattern'],
  type_check: ['field', 'fields', 'type'],
  TypeValidator: ['field', 'fields', 'type'],
  length: ['field', 'min', 'max'],
  LengthValidator: ['field', 'min', 'max'],
  FieldMapper: ['mapping'],
  convert_types: ['fields'],
  TypeConverter: ['fields'],
  flatten: ['separator'],
};

/**
 * The builtins for members of dataknobs' library. `core` holds the builtins already known under bare
 * names; a bare name of both dispatches on the params (see above).
 */
export function dataknobsBuiltins(
  members: readonly MemberFunctions[],
  core: ReadonlyMap<string, BuiltinFunction>,
): BuiltinFunction[] {
  const out: BuiltinFunction[] = [];
  for (const m of members) {
    out.push(...m.qualified);
    for (const b of m.bare) {
      const ours = core.get(b.name);
      if (!ours) out.push(b);
      else out.push(either(b.name, ours, b, OUR_KEYS[b.name] ?? []));
    }
  }
  return out;
}

const ours = [...validatorBuiltins, ...transformBuiltins, ...conditionBuiltins];
const coreByName = new Map(ours.map((b) => [b.name, b]));

/** Core's part of dataknobs' library: `validators.*`, `transformers.*`, `enrichers.*`, `streaming.*`. */
export const coreDataknobsBuiltins: readonly BuiltinFunction[] = [
  ...dataknobsBuiltins(
    [...dataknobsValidators, ...dataknobsTransformers, ...dataknobsEnrichers, ...dataknobsStreaming],
    coreByName,
  ),
  ...refusedStreaming,
  ...refusedIdentity,
];

const all = new Map([...coreByName, ...coreDataknobsBuiltins.map((b) => [b.name, b] as const)]);
nested.resolve = (ref) => {
  const b = all.get(ref.name);
  if (!b) throw new Error(`unknown builtin "${ref.name}" in a nested reference`);
  return b.create(ref.params ?? {});
};

const LIBRARY_MODULE = /^dataknobs_fsm\.functions\.library\.([a-z_]+)$/;
/** dataknobs' LLM functions moved out of the fsm library into dataknobs-llm. */
const LLM_MODULE = 'dataknobs_llm.fsm_integration.functions';

/**
 * The builtin name for a dataknobs `custom` reference into its own library
 * (`{type: custom, module: dataknobs_fsm.functions.library.database, name: DatabaseUpsert}` →
 * `database.DatabaseUpsert`); undefined for any other module.
 */
export function dataknobsLibraryName(module: string, name: string): string | undefined {
  if (module === LLM_MODULE) return `llm.${name}`;
  const match = LIBRARY_MODULE.exec(module);
  return match ? `${match[1]}.${name}` : undefined;
}
