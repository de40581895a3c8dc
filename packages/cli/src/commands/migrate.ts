import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import {
  ConfigError,
  coreBuiltins,
  DEFAULT_MAX_CONFIG_BYTES,
  type FsmFunction,
  listBuiltins,
  normalizeConfig,
  parseConfigText,
  SimpleFSM,
} from '@fsm/core';
import { stringify } from 'yaml';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from '../exit-codes.js';
import { cliPackages, describeConfigError } from '../load-fsm.js';
import { pythonToJsonata } from './migrate-python.js';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const looksLikeCode = (s: string) => !/^[A-Za-z_][\w.-]*$/.test(s);

/** Our builtin closest to a dataknobs library name (its params differ: dataknobs' stay valid here). */
const OURS: Readonly<Record<string, string>> = {
  required_fields: 'required_fields',
  RequiredFieldsValidator: 'required_fields',
  schema: 'schema',
  SchemaValidator: 'schema',
  range_check: 'range',
  RangeValidator: 'range',
  pattern: 'pattern',
  PatternValidator: 'pattern',
  type_check: 'type_check',
  TypeValidator: 'type_check',
  length: 'length',
  LengthValidator: 'length',
  build_record_validator: 'friendly_schema',
  map_fields: 'rename_fields',
  FieldMapper: 'rename_fields',
  convert_types: 'convert_types',
  TypeConverter: 'convert_types',
  enrich: 'set_defaults',
  DataEnricher: 'set_defaults',
  filter_fields: 'select_fields / drop_fields',
  FieldFilter: 'select_fields / drop_fields',
  normalize: 'uppercase / lowercase / trim',
  ValueNormalizer: 'uppercase / lowercase / trim',
  upsert: 'db_upsert',
  DatabaseUpsert: 'db_upsert',
  query: 'db_query',
  DatabaseQuery: 'db_query',
  fetch: 'db_query',
  DatabaseFetch: 'db_query',
  bulk_insert: 'db_insert',
  DatabaseBulkInsert: 'db_insert',
};

const LIBRARY_MODULE =
  /^dataknobs_fsm\.functions\.library\.([a-z_]+)$|^dataknobs_(llm)\.fsm_integration\.functions$/;

export interface MigrateOptions {
  write?: string;
  /** `--allow-read`: folders besides the config's that `$include`/`$import` may read. */
  allowRead?: string[];
}

interface InlineFinding {
  path: string;
  code: string;
  jsonata?: string;
  stub?: string;
}

interface Difference {
  id: string;
  path: string;
  text: string;
}

interface Report {
  inline: InlineFinding[];
  renamed: Array<{ path: string; name: string; ours?: string }>;
  registered: Array<{ path: string; name: string; stub: boolean }>;
  /** Builtins that refuse these params (dataknobs members with no equivalent here, params we need). */
  refused: Array<{ path: string; name: string; message: string }>;
  differences: Difference[];
}

/** A function reference's place: its JSON path, the object holding it, and the key or index. */
interface Slot {
  path: string;
  holder: Rec | unknown[];
  key: string | number;
  /** What the function is for: `condition`, `transform`, `validator`, `pre_validator`, `function`. */
  role: string;
  /** A readable base for a stub name (`price_condition`). */
  stubBase: string;
}

const refs = (holder: Rec, key: string, path: string, role: string, stubBase: string): Slot[] => {
  const value = holder[key];
  if (value === undefined) return [];
  if (Array.isArray(value))
    return value.map((_, i) => ({
      path: `${path}.${key}[${i}]`,
      holder: value,
      key: i,
      role,
      stubBase: `${stubBase}_${i}`,
    }));
  return [{ path: `${path}.${key}`, holder, key, role, stubBase }];
};

interface ArcInfo {
  path: string;
  arc: Rec;
  state: string;
  network: string;
}

/** Every function slot and arc of a raw dataknobs config (networks, or the single-network shorthand). */
function walk(config: Rec) {
  const slots: Slot[] = [];
  const arcs: ArcInfo[] = [];
  const states: Array<{ path: string; state: Rec; network: string }> = [];
  const functions = isRec(config.functions) ? config.functions : {};
  for (const name of Object.keys(functions))
    slots.push({ path: `functions.${name}`, holder: functions, key: name, role: 'function', stubBase: name });
  const networks: Array<{ net: Rec; path: string }> = Array.isArray(config.networks)
    ? config.networks.filter(isRec).map((net, i) => ({ net, path: `networks[${i}]` }))
    : [];
  if (Array.isArray(config.states)) networks.push({ net: config, path: '' });
  for (const { net, path } of networks) {
    const network = path === '' ? 'main' : String(net.name);
    const at = (p: string) => (path === '' ? p : `${path}.${p}`);
    (Array.isArray(net.states) ? net.states : []).forEach((state, j) => {
      if (!isRec(state)) return;
      const sp = at(`states[${j}]`);
      const name = String(state.name);
      states.push({ path: sp, state, network });
      slots.push(...refs(state, 'pre_validators', sp, 'pre_validator', `${name}_pre_validator`));
      slots.push(...refs(state, 'transforms', sp, 'transform', `${name}_transform`));
      slots.push(...refs(state, 'validators', sp, 'validator', `${name}_validator`));
      (Array.isArray(state.arcs) ? state.arcs : []).forEach((arc, k) => {
        if (!isRec(arc)) return;
        arcs.push({ path: `${sp}.arcs[${k}]`, arc, state: name, network });
      });
    });
    (Array.isArray(net.arcs) ? net.arcs : []).forEach((arc, k) => {
      if (!isRec(arc)) return;
      arcs.push({ path: at(`arcs[${k}]`), arc, state: String(arc.from), network });
    });
  }
  for (const { path, arc, state } of arcs) {
    const to = String(arc.target ?? arc.to ?? arc.target_network ?? 'next');
    slots.push(...refs(arc, 'condition', path, 'condition', `${state}_to_${to}_condition`));
    slots.push(...refs(arc, 'transform', path, 'transform', `${state}_to_${to}_transform`));
  }
  return { slots, arcs, states };
}

const stubName = (base: string, taken: Set<string>) => {
  let name = base.replace(/\W+/g, '_').replace(/^(\d)/, '_$1');
  for (let n = 2; taken.has(name); n++) name = `${base.replace(/\W+/g, '_')}_${n}`;
  taken.add(name);
  return name;
};

/** Every line break JavaScript knows: a comment ends at any of them. */
const LINE_BREAK = /\r\n|[\n\r\u2028\u2029]/;

/** A property key for any name: bare when an identifier, else a string literal (config text never becomes code). */
const propertyKey = (name: string) =>
  /^[A-Za-z_$][\w$]*$/.test(name)
    ? name
    : JSON.stringify(name)
        .replace(/\u2028/g, '\\u2028')
        .replace(/\u2029/g, '\\u2029');

/** The TypeScript to fill in for a Python function the migration cannot port. */
function stubFor(name: string, role: string, code: string): string {
  const returns =
    role === 'condition'
      ? 'boolean'
      : role.endsWith('validator')
        ? 'boolean | { valid: boolean }'
        : 'unknown';
  const body = role === 'condition' || role.endsWith('validator') ? 'return true;' : 'return data;';
  const comment = code
    .trim()
    .split(LINE_BREAK)
    .map((line) => `    // ${line}`)
    .join('\n');
  return [
    `  ${propertyKey(name)}: (data: Record<string, unknown>, context: FunctionContext): ${returns} => {`,
    '    // TODO port from Python:',
    comment,
    `    ${body}`,
    '  },',
  ].join('\n');
}

function differences(
  config: Rec,
  arcs: ArcInfo[],
  states: Array<{ path: string; state: Rec; network: string }>,
) {
  const out: Difference[] = [];
  const add = (id: string, path: string, text: string) => out.push({ id, path, text });
  const byState = new Map<string, ArcInfo[]>();
  for (const a of arcs) {
    const key = `${a.network}\u0000${a.state}`;
    byState.set(key, [...(byState.get(key) ?? []), a]);
  }
  const priority = (a: ArcInfo) => Number(a.arc.priority ?? 0);
  for (const a of arcs) {
    const target = a.arc.target ?? a.arc.to;
    if (a.arc.target_network !== undefined) {
      const sub = String(a.arc.target_network);
      if (a.arc.return_state === undefined)
        add(
          'push-return',
          a.path,
          `push to "${sub}" without return_state: dataknobs ends the run in "${sub}"; here the record continues at "${String(target)}" (semantics: dataknobs gives dataknobs' way)`,
        );
      if (a.arc.result_mapping === undefined)
        add(
          'push-result',
          a.path,
          `push to "${sub}" without result_mapping: dataknobs replaces the record with "${sub}"'s result; here it is merged into the record (semantics: dataknobs gives dataknobs' way)`,
        );
      if (a.arc.transform !== undefined)
        add(
          'push-transform',
          a.path,
          'push arc with a transform: dataknobs drops it; here it runs before the push',
        );
      const siblings = byState.get(`${a.network}\u0000${a.state}`) ?? [];
      if (siblings.some((s) => s !== a && priority(s) <= priority(a)))
        add(
          'push-failure',
          a.path,
          `if "${sub}" fails, dataknobs fails the record; here the state's remaining arcs are tried (context.lastError)`,
        );
    }
    if (target !== undefined && String(target) === a.state && a.arc.target_network === undefined)
      add(
        'self-loop',
        a.path,
        `self-loop on "${a.state}": dataknobs collapses repeated states in the path; here each visit is listed`,
      );
  }
  for (const [, list] of byState) {
    const conditional = list.filter((a) => a.arc.condition !== undefined);
    if (conditional.length >= 2 && new Set(conditional.map(priority)).size > 1)
      add(
        'condition-order',
        (conditional[0] as ArcInfo).path.replace(/\.arcs\[\d+\]$/, ''),
        `arcs of "${(conditional[0] as ArcInfo).state}" with conditions at different priorities: here a lower-priority condition is not evaluated once a higher one holds; dataknobs evaluates all and fails if one raises`,
      );
  }
  const seen = new Map<string, string>();
  for (const { path, state, network } of states) {
    const name = String(state.name);
    if (state.transforms !== undefined)
      add(
        'transform-error',
        `${path}.transforms`,
        `a transform of "${name}" that raises stops the record here; dataknobs continues to an end state and reports the failure there`,
      );
    if (state.validators !== undefined)
      add(
        'validator-false',
        `${path}.validators`,
        `a validator of "${name}" returning false (or raising) fails the state here; dataknobs ignores it`,
      );
    if (state.schema !== undefined || state.data_schema !== undefined)
      add(
        'schema',
        `${path}.schema`,
        `the schema of "${name}" is enforced on entry here; dataknobs does not enforce it`,
      );
    const other = seen.get(name);
    if (other !== undefined && other !== network)
      add(
        'names-across-networks',
        path,
        `state "${name}" is also in network "${other}": dataknobs may match the name in the wrong network; here names are per network`,
      );
    else seen.set(name, network);
  }
  if (config.max_transitions !== undefined)
    add(
      'max-transitions',
      'max_transitions',
      'enforced here (the record fails on the transition past the limit); dataknobs ignores it (and is off by one at its own limit)',
    );
  if (
    config.execution_strategy !== undefined &&
    String(config.execution_strategy).toLowerCase() !== 'depth_first'
  )
    add('execution-strategy', 'execution_strategy', 'used here; dataknobs ignores it');
  return out;
}

/** Builds the report and rewrites `config` in place into a config that loads here. */
export function migrateConfig(config: Rec): Report {
  const builtinNames = new Set(listBuiltins(cliPackages.builtins).map((b) => b.name));
  const builtinByName = new Map([...coreBuiltins, ...cliPackages.builtins].map((b) => [b.name, b]));
  const functionNames = new Set(isRec(config.functions) ? Object.keys(config.functions) : []);
  const report: Report = { inline: [], renamed: [], registered: [], refused: [], differences: [] };
  const { slots, arcs, states } = walk(config);
  report.differences = differences(config, arcs, states);
  const taken = new Set([...functionNames]);
  const oursFor = (name: string) => OURS[name.slice(name.lastIndexOf('.') + 1)];
  const renamed = (path: string, name: string, params?: unknown) => {
    // Building it is how a builtin checks its params (no I/O): one that refuses them is not a rename.
    try {
      builtinByName.get(name)?.create(isRec(params) ? params : {});
    } catch (error) {
      report.refused.push({ path, name, message: (error as Error).message });
      return;
    }
    const ours = oursFor(name);
    if (name.includes('.') || ours !== undefined)
      report.renamed.push({ path, name, ...(ours !== undefined && ours !== name ? { ours } : {}) });
  };
  for (const slot of slots) {
    const value = (slot.holder as Record<string | number, unknown>)[slot.key];
    const set = (v: unknown) => {
      (slot.holder as Record<string | number, unknown>)[slot.key] = v;
    };
    const port = (code: string) => {
      const jsonata = pythonToJsonata(code);
      if (jsonata !== undefined) {
        report.inline.push({ path: slot.path, code, jsonata });
        set({ type: 'expression', code: jsonata });
        return;
      }
      const name = slot.role === 'function' ? String(slot.key) : stubName(slot.stubBase, taken);
      report.inline.push({ path: slot.path, code, stub: stubFor(name, slot.role, code) });
      // A `functions:` entry keeps its key; the registered function takes its place under that name.
      if (slot.role === 'function') delete (slot.holder as Rec)[slot.key as string];
      else set(name);
    };
    if (typeof value === 'string') {
      if (builtinNames.has(value)) renamed(slot.path, value);
      else if (functionNames.has(value)) continue;
      else if (looksLikeCode(value)) port(value);
      else report.registered.push({ path: slot.path, name: value, stub: false });
      continue;
    }
    if (!isRec(value)) continue;
    const type = String(value.type ?? (value.name !== undefined ? 'registered' : 'inline')).toLowerCase();
    if (type === 'inline' && typeof value.code === 'string') port(value.code);
    else if ((type === 'builtin' || type === 'registered') && typeof value.name === 'string') {
      if (builtinNames.has(value.name)) renamed(slot.path, value.name, value.params);
      else if (!functionNames.has(value.name))
        report.registered.push({ path: slot.path, name: value.name, stub: type === 'builtin' });
    } else if (type === 'custom' && typeof value.module === 'string' && typeof value.name === 'string') {
      const library = LIBRARY_MODULE.exec(value.module);
      const builtin = library ? `${library[1] ?? library[2]}.${value.name}` : undefined;
      if (builtin && builtinNames.has(builtin)) {
        renamed(slot.path, builtin, value.params);
        set({
          type: 'builtin',
          name: builtin,
          ...(value.params !== undefined ? { params: value.params } : {}),
        });
      } else {
        const name = stubName(value.name, taken);
        report.inline.push({
          path: slot.path,
          code: `from ${value.module} import ${value.name}`,
          stub: stubFor(name, slot.role, `${value.module}.${value.name}`),
        });
        set(value.params !== undefined ? { name, params: value.params } : name);
      }
    }
  }
  return report;
}

function render(file: string, name: string, report: Report, written: string | undefined): string {
  const lines: string[] = [`fsm migrate: ${file} (config "${name}")`, ''];
  const stubs = report.inline.filter((f) => f.stub !== undefined);
  if (report.inline.length > 0) {
    lines.push(`Inline Python (${report.inline.length}): port each one`);
    for (const f of report.inline) {
      lines.push(`  ${f.path}`, `    python:  ${f.code.trim().split('\n').join('\n             ')}`);
      if (f.jsonata !== undefined) lines.push(`    jsonata: ${f.jsonata}`);
      else lines.push('    no JSONata equivalent: a TypeScript function (stub below)');
    }
    lines.push('');
  }
  if (stubs.length > 0) {
    lines.push(
      'TypeScript stubs: register them (SimpleFSM.create(config, { functions }), or fsm run --allow-code --functions <module>)',
      "  import type { FunctionContext } from '@fsm/core';",
      '  export const functions = {',
      ...stubs.map((s) => (s.stub as string).replace(/^/gm, '  ')),
      '  };',
      '',
    );
  }
  if (report.registered.length > 0) {
    lines.push(`Functions the config names but does not define (${report.registered.length}): register them`);
    for (const r of report.registered) lines.push(`  ${r.path}: ${r.name}`);
    lines.push('');
  }
  if (report.renamed.length > 0) {
    lines.push(
      `Builtins by dataknobs-fsm names (${report.renamed.length}): they load as they are, same behaviour`,
    );
    for (const r of report.renamed)
      lines.push(`  ${r.path}: ${r.name}${r.ours ? ` (our own: ${r.ours}, with its own params)` : ''}`);
    lines.push('');
  }
  if (report.refused.length > 0) {
    lines.push(`Builtins that do not load with these params (${report.refused.length}): change them`);
    for (const r of report.refused) lines.push(`  ${r.path}: ${r.name}: ${r.message}`);
    lines.push('');
  }
  if (report.differences.length > 0) {
    lines.push(
      `Differences from dataknobs-fsm this config can hit (${report.differences.length}; see docs/migrating-from-dataknobs.md)`,
    );
    for (const d of report.differences) lines.push(`  [${d.id}] ${d.path}: ${d.text}`);
    lines.push('');
  }
  const action = report.inline.length + report.registered.length + report.refused.length;
  const jsonata = report.inline.length - stubs.length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  lines.push(
    action === 0
      ? 'Loads here unchanged: nothing to port.'
      : `Needs action: ${[
          ...(report.inline.length > 0
            ? [
                `${plural(report.inline.length, 'inline Python function')} (${jsonata} written as JSONata, review them; ${stubs.length} to write in TypeScript)`,
              ]
            : []),
          ...(report.registered.length > 0
            ? [`${plural(report.registered.length, 'function')} to register`]
            : []),
          ...(report.refused.length > 0 ? [`${plural(report.refused.length, 'builtin')} to change`] : []),
        ].join(', ')}.`,
  );
  if (written !== undefined) lines.push(`Wrote ${written}.`);
  return `${lines.join('\n')}\n`;
}

/** Any registered name resolves to a placeholder: the written config is checked for structure and builtins. */
const placeholder = (data: unknown) => data;
const placeholders = new Proxy({} as Record<string, FsmFunction>, {
  get: (_t, name) => (typeof name === 'string' ? placeholder : undefined),
  has: () => true,
  // Own-key lookups (Object.hasOwn) see every name too.
  getOwnPropertyDescriptor: (_t, name) =>
    typeof name === 'string'
      ? { value: placeholder, writable: false, enumerable: true, configurable: true }
      : undefined,
});

/**
 * `fsm migrate <config> [--write out.yaml]`: what a dataknobs-fsm config needs to run here (inline
 * Python to port, names to register, builtins under dataknobs names, behaviour differences it can hit)
 * and, with --write, the config rewritten to load here. Exit 0 when it loads unchanged, 1 when functions
 * need porting or registering, 2 when the file is unreadable or not a valid config even after migration.
 */
export async function migrateCommand(configPath: string, options: MigrateOptions): Promise<number> {
  if (!existsSync(configPath)) throw new UsageError(`config file "${configPath}" does not exist`);
  let raw: unknown;
  // Only a regular file of config size: `fsm migrate /dev/zero` or a FIFO must not hang or fill memory.
  const stats = statSync(configPath);
  if (!stats.isFile()) throw new UsageError(`config "${configPath}" is not a regular file`);
  if (stats.size > DEFAULT_MAX_CONFIG_BYTES)
    throw new UsageError(`config "${configPath}" is larger than ${DEFAULT_MAX_CONFIG_BYTES} bytes`);
  const source = readFileSync(configPath, 'utf8');
  try {
    raw = parseConfigText(source, configPath);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(describeConfigError(error, configPath));
      return EXIT_USAGE;
    }
    throw error;
  }
  if (!isRec(raw)) throw new UsageError(`${configPath}: a config is a mapping at the top level`);
  const report = migrateConfig(raw);
  try {
    // What --write would write must load here: its structure, and every builtin and expression in it.
    const allowedRoots = options.allowRead ?? [];
    normalizeConfig(raw, { baseDir: resolve(configPath, '..'), allowedRoots });
    const fsm = await SimpleFSM.create(structuredClone(raw), {
      ...cliPackages,
      // Includes resolve against the config's folder, as when the migrated file is loaded.
      baseDir: resolve(configPath, '..'),
      functions: placeholders,
      allowCode: false,
      allowedRoots,
    });
    await fsm.close();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stdout.write(render(basename(configPath), String(raw.name ?? ''), report, undefined));
    process.stderr.write(describeConfigError(error, configPath));
    return EXIT_USAGE;
  }
  if (options.write !== undefined) {
    let text: string;
    if (options.write.endsWith('.json')) text = `${JSON.stringify(raw, null, 2)}\n`;
    else {
      // The original's leading comment (what the config is for) stays on top, with where the file came from.
      const lines = source.split('\n');
      const end = lines.findIndex((line) => !line.startsWith('#'));
      const header = lines.slice(0, end === -1 ? lines.length : end);
      // A file name may hold line breaks: they must not add lines (keys) to the YAML.
      const from = basename(configPath).replace(/[\p{Cc}\u2028\u2029]/gu, '?');
      text = `${[...header, `# Written by fsm migrate from ${from}.`].join('\n')}\n${stringify(raw)}`;
    }
    writeFileSync(options.write, text);
  }
  process.stdout.write(render(basename(configPath), String(raw.name ?? ''), report, options.write));
  return report.inline.length + report.registered.length + report.refused.length > 0 ? EXIT_FAILED : EXIT_OK;
}
