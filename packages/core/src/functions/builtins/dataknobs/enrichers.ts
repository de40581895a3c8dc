/**
 * dataknobs-fsm's `enrichers` library (functions/library/enrichers.py): `build_record_enricher` with a
 * field→value map, which adds fields from static values (as dataknobs' DataEnricher, keeping fields the
 * record has). Its reference-lookup form (`resource` + `match`) and `LookupMergeEnricher` read a
 * database: @fsm/resources registers those names on its `database` resource and takes over this one.
 */
import type { BuiltinFunction } from '../../types.js';
import { z } from '../define.js';
import { type Callable, fieldMap, member } from './shared.js';
import { enricher } from './transformers.js';

/** dataknobs' miss policies of a reference lookup. */
export const ENRICHMENT_ON_MISSING = ['ignore', 'null', 'error'] as const;

const params = z.strictObject({
  spec: fieldMap(z.unknown()),
  on_missing: z.enum(ENRICHMENT_ON_MISSING).optional(),
});

/** The spec keys that make a mapping something other than a field→value map, as dataknobs reads them. */
export function fieldMapSpecError(spec: Record<string, unknown>): string | undefined {
  for (const k of ['database', 'api'])
    if (Object.hasOwn(spec, k))
      return `enrichment spec key '${k}' is an ETL-level convenience (a backend config, not a registered name); name a database resource under 'resource' with a 'match' mapping`;
  const match = Object.hasOwn(spec, 'match') ? spec.match : undefined;
  if (typeof match === 'object' && match !== null && !Array.isArray(match))
    return "enrichment spec has a 'match' join spec but no 'resource' source key: a reference lookup needs {resource: <name>, match: {...}}; remove 'match' for a field→value map";
  return undefined;
}

function buildRecordEnricher(p: z.output<typeof params>): Callable {
  if (Object.hasOwn(p.spec, 'resource'))
    throw new Error(
      'spec.resource: a reference-lookup enrichment reads a database resource; load @fsm/resources (fsm run loads it) for this form',
    );
  const error = fieldMapSpecError(p.spec);
  if (error) throw new Error(`spec: ${error}`);
  return enricher({ enrichments: p.spec });
}

export const dataknobsEnrichers = [
  member({
    module: 'enrichers',
    cls: 'build_record_enricher',
    roles: ['transform'] as BuiltinFunction['roles'],
    description:
      'Enriches the record from `spec`: a {field: value} map adds fields the record lacks; {resource, match, fields, overwrite} looks them up in a database (@fsm/resources); on_missing ignore|null|error.',
    classParams: params,
    create: buildRecordEnricher,
  }),
];

/**
 * dataknobs' `identity` module holds strategies its database functions take as `identity=`/`id_fn=`
 * objects, not steps of a state: here `key_columns` of DatabaseUpsert/DatabaseBulkInsert (or db_upsert's
 * `key`) says the same.
 */
export const refusedIdentity: readonly BuiltinFunction[] = [
  'KeyColumnsIdentity',
  'CallableIdentity',
  'resolve_identity',
].flatMap((cls) =>
  [`identity.${cls}`, cls].map((name) => ({
    name,
    roles: ['transform'] as const,
    sync: false,
    description: `dataknobs' ${cls}: a record-identity strategy, not a function of a state.`,
    create: () => {
      throw new Error(
        `${cls} is a record-identity strategy for dataknobs' database functions, not a step of a state; name the key with key_columns on DatabaseUpsert/DatabaseBulkInsert (or key on db_upsert)`,
      );
    },
  })),
);
