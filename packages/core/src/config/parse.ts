import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { type ConfigIssue, ConfigError } from '../errors/index.js';

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
  if (format === 'json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      throw new ConfigError([jsonSyntaxIssue(text, error, file)], { cause: error, source: file });
    }
  }
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e): ConfigIssue => {
      const { line, column } = lineColumnAt(text, e.pos[0]);
      const where = ` at line ${line}, column ${column}`;
      return { path: '', message: `YAML syntax error${where}: ${e.message.split('\n')[0] ?? e.code}`, file };
    });
    throw new ConfigError(issues, { cause: doc.errors[0], source: file });
  }
  return doc.toJS({ maxAliasCount: 1000 }) as unknown;
}

/** Reads and parses one config file; an unreadable file is a ConfigError naming it. */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError([{ path: '', message: `cannot read config file ${file}: ${reason}`, file }], {
      cause: error,
      source: file,
    });
  }
  return parseConfigText(text, file);
}
