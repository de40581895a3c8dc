import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { type ConfigIssue, ConfigError, FsmError } from '../errors/index.js';
import { isPlainObject } from '../util/field-path.js';

/** Largest config file (top config or `$include`/`$import`) read by default. */
export const DEFAULT_MAX_CONFIG_BYTES = 10 * 1024 * 1024;
/** Deepest nesting of objects and lists a config may have (deeper is a mistake or an attack). */
export const MAX_CONFIG_DEPTH = 1000;
/** Most values a config may expand to, counting each use of a YAML alias or included file. */
export const MAX_CONFIG_VALUES = 1_000_000;

export type ConfigFormat = 'yaml' | 'json';

/** YAML for `.yaml`/`.yml`, JSON for `.json`; anything else is read as YAML (a superset of JSON). */
export function formatOf(file: string): ConfigFormat {
  return extname(file).toLowerCase() === '.json' ? 'json' : 'yaml';
}

function lineColumnAt(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return { line, column };
}

class JsonStop {
  constructor(readonly at: number) {}
}

const JSON_LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

/** Offset of the first JSON syntax error (V8's messages do not always carry one), or -1. */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const stop = (): never => {
    throw new JsonStop(i);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i++;
  };
  const string = () => {
    i++;
    while (i < text.length) {
      const c = text.charAt(i);
      if (c === '\\') i += 2;
      else if (c === '"') {
        i++;
        return;
      } else if (c < ' ') stop();
      else i++;
    }
    stop();
  };
  const value = (): void => {
    ws();
    const c = text.charAt(i);
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text.charAt(i) === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          ws();
          if (text.charAt(i) !== '"') stop();
          string();
          ws();
          if (text.charAt(i) !== ':') stop();
          i++;
        }
        value();
        ws();
        if (text.charAt(i) === ',') i++;
        else if (text.charAt(i) === close) {
          i++;
          return;
        } else stop();
      }
    }
    if (c === '"') {
      string();
      return;
    }
    JSON_LITERAL.lastIndex = i;
    const literal = JSON_LITERAL.exec(text);
    if (!literal) stop();
    else i += literal[0].length;
  };
  try {
    value();
    ws();
    if (i < text.length) stop();
    return -1;
  } catch (error) {
    if (error instanceof JsonStop) return error.at;
    throw error;
  }
}

function jsonSyntaxIssue(text: string, error: SyntaxError, file: string): ConfigIssue {
  const offset = jsonErrorOffset(text);
  let where = '';
  if (offset >= 0) {
    const { line, column } = lineColumnAt(text, offset);
    where = ` at line ${line}, column ${column}`;
  }
  return { path: '', message: `JSON syntax error${where}: ${error.message}`, file };
}

/** Parses config text; a syntax error is a ConfigError whose issue names the file, line and column. */
export function parseConfigText(text: string, file: string, format: ConfigFormat = formatOf(file)): unknown {
  const value = format === 'json' ? parseJson(text, file) : parseYaml(text, file);
  const problem = shapeProblem(value);
  if (problem !== undefined) {
    throw new ConfigError([{ path: '', message: `${file} ${problem}`, file }], { source: file });
  }
  return value;
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new ConfigError([jsonSyntaxIssue(text, error, file)], { cause: error, source: file });
  }
}

function parseYaml(text: string, file: string): unknown {
  try {
    const doc = parseDocument(text, { prettyErrors: false });
    if (doc.errors.length > 0) {
      const issues = doc.errors.map((e): ConfigIssue => {
        const { line, column } = lineColumnAt(text, e.pos[0]);
        const where = ` at line ${line}, column ${column}`;
        return {
          path: '',
          message: `YAML syntax error${where}: ${e.message.split('\n')[0] ?? e.code}`,
          file,
        };
      });
      throw new ConfigError(issues, { cause: doc.errors[0], source: file });
    }
    return doc.toJS({ maxAliasCount: 1000 }) as unknown;
  } catch (error) {
    if (FsmError.is(error) || !(error instanceof Error)) throw error;
    // yaml throws a ReferenceError for alias bombs ("Excessive alias count") and may run out of stack.
    throw new ConfigError([{ path: '', message: `YAML cannot be loaded: ${error.message}`, file }], {
      cause: error,
      source: file,
    });
  }
}

interface Frame {
  node: object;
  items: readonly unknown[];
  next: number;
  size: number;
  height: number;
}

function isContainer(value: unknown): value is object {
  return Array.isArray(value) || isPlainObject(value);
}

function frameOf(node: object): Frame {
  const items = Array.isArray(node) ? node : Object.values(node as Record<string, unknown>);
  return { node, items, next: 0, size: 1, height: 0 };
}

/**
 * Why a parsed or included config cannot be walked safely, or undefined: it contains itself (a YAML alias
 * inside its own anchor), is nested too deeply, or expands to too many values (shared objects count once per
 * use, as every later step copies them). Iterative, and linear in the number of distinct objects.
 */
export function shapeProblem(
  root: unknown,
  maxValues = MAX_CONFIG_VALUES,
  maxDepth = MAX_CONFIG_DEPTH,
): string | undefined {
  if (!isContainer(root)) return undefined;
  const measured = new Map<object, { size: number; height: number }>();
  const onPath = new Set<object>([root]);
  const stack: Frame[] = [frameOf(root)];
  const add = (frame: Frame, size: number, height: number): void => {
    frame.size = Math.min(frame.size + size, maxValues + 1);
    if (height + 1 > frame.height) frame.height = height + 1;
  };
  for (;;) {
    const top = stack[stack.length - 1] as Frame;
    if (top.next < top.items.length) {
      const child = top.items[top.next++];
      if (!isContainer(child)) {
        add(top, 1, 0);
        continue;
      }
      if (onPath.has(child)) return 'contains itself (a YAML alias used inside its own anchor?)';
      const known = measured.get(child);
      if (known !== undefined) add(top, known.size, known.height);
      else if (stack.length >= maxDepth) return `is nested deeper than ${maxDepth} levels`;
      else {
        onPath.add(child);
        stack.push(frameOf(child));
      }
      continue;
    }
    stack.pop();
    onPath.delete(top.node);
    if (top.size > maxValues) {
      return `expands to more than ${maxValues} values (aliases or includes used too often?)`;
    }
    const parent = stack[stack.length - 1];
    if (parent === undefined) return undefined;
    measured.set(top.node, { size: top.size, height: top.height });
    add(parent, top.size, top.height);
  }
}

export interface ReadLimits {
  /** Largest file read, in bytes; default {@link DEFAULT_MAX_CONFIG_BYTES}. */
  maxBytes?: number;
  /**
   * Read only a regular file: opened without blocking (a FIFO cannot hang the load) and without following a
   * last-moment link, then checked with fstat, so `/dev/zero`, FIFOs and sockets are refused.
   */
  regularOnly?: boolean;
}

class ReadRefused extends Error {}

/** Reads at most `maxBytes` (a growing file cannot exceed it); closes the file even when reading fails. */
function readBounded(file: string, maxBytes: number, regularOnly: boolean): string {
  const flags = regularOnly
    ? constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0)
    : constants.O_RDONLY;
  const fd = openSync(file, flags);
  let text = '';
  let failure: unknown;
  let failed = false;
  try {
    let limit = maxBytes;
    if (regularOnly) {
      const stats = fstatSync(fd);
      if (!stats.isFile()) throw new ReadRefused('not a regular file');
      // Read what the file says it holds: /proc pseudo-files claim 0 bytes and a growing file stops here.
      limit = Math.min(maxBytes, stats.size);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, limit + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > limit) {
        throw new ReadRefused(
          total > maxBytes
            ? `larger than the limit of ${maxBytes} bytes (raise it with maxConfigBytes)`
            : 'holds more than its size says (a pseudo-file, or it grew while being read)',
        );
      }
      chunks.push(chunk.subarray(0, n));
    }
    text = Buffer.concat(chunks, total).toString('utf8');
  } catch (error) {
    failed = true;
    failure = error;
  }
  try {
    closeSync(fd);
  } catch (closeError) {
    if (failed) throw new AggregateError([failure, closeError], `reading and closing ${file} failed`);
    throw closeError;
  }
  if (failed) throw failure;
  return text;
}

/** Reads and parses one config file; an unreadable file is a ConfigError naming it. */
export function readConfigFile(file: string, limits: ReadLimits = {}): unknown {
  let text: string;
  try {
    text = readBounded(file, limits.maxBytes ?? DEFAULT_MAX_CONFIG_BYTES, limits.regularOnly ?? false);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError([{ path: '', message: `cannot read config file ${file}: ${reason}`, file }], {
      cause: error,
      source: file,
    });
  }
  return parseConfigText(text, file);
}
