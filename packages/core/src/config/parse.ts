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

function jsonSyntaxIssue(text: string, error: SyntaxError, file: string): ConfigIssue {
  const lc = /line (\d+) column (\d+)/.exec(error.message);
  const pos = /position (\d+)/.exec(error.message);
  let where = '';
  if (lc?.[1] !== undefined && lc[2] !== undefined) where = ` at line ${lc[1]}, column ${lc[2]}`;
  else if (pos?.[1] !== undefined) {
    const { line, column } = lineColumnAt(text, Number(pos[1]));
    where = ` at line ${line}, column ${column}`;
  } else if (/end of JSON input/i.test(error.message)) {
    const { line, column } = lineColumnAt(text, text.length);
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
      const at = e.linePos?.[0];
      const where = at ? ` at line ${at.line}, column ${at.col}` : '';
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
