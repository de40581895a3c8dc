import { Ajv, type ErrorObject } from 'ajv';
import { ConfigError, type ValidationIssue } from '../errors/errors.js';

let shared: Ajv | undefined;
/** One Ajv for the process: compiled validators are cached by schema identity inside it. */
function ajv(): Ajv {
  shared ??= new Ajv({ allErrors: true, strict: false, validateFormats: false });
  return shared;
}

function toIssues(errors: readonly ErrorObject[] | null | undefined): ValidationIssue[] {
  return (errors ?? []).map((e) => {
    const missing =
      e.keyword === 'required'
        ? `/${String((e.params as { missingProperty?: string }).missingProperty)}`
        : '';
    return { path: `${e.instancePath}${missing}` || '/', message: e.message ?? e.keyword };
  });
}

/** Compiles a JSON Schema once; the returned check gives the issues, or null when the data is valid. */
export function compileJsonSchema(
  schema: Record<string, unknown>,
  path: string,
): (data: unknown) => ValidationIssue[] | null {
  let validate: ReturnType<Ajv['compile']>;
  try {
    validate = ajv().compile(schema);
  } catch (error) {
    throw new ConfigError([
      { path, message: `invalid JSON Schema: ${error instanceof Error ? error.message : String(error)}` },
    ]);
  }
  return (data) => (validate(data) ? null : toIssues(validate.errors));
}
