import { ValidationError, getField } from '@fsm/core';

export interface PromptTemplate {
  readonly source: string;
  /** Variable paths the template uses, in order of first use. */
  readonly variables: readonly string[];
  /** Fills the template from a record; a missing variable is a `ValidationError` naming it. */
  render(data: unknown): string;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/g;

/**
 * `promptTemplate('Classify: {{ticket.subject}}')`: `{{path}}` placeholders filled from the record by
 * dotted path. Objects are inserted as JSON. Nothing is evaluated: a template is text, not code.
 */
export function promptTemplate(source: string): PromptTemplate {
  const variables = [...new Set([...source.matchAll(PLACEHOLDER)].map((m) => m[1] as string))];
  return {
    source,
    variables,
    render(data: unknown): string {
      const missing = variables.filter((v) => getField(data, v) === undefined);
      if (missing.length > 0) {
        throw new ValidationError(
          `prompt template needs ${missing.map((m) => `"${m}"`).join(', ')}, missing from the record`,
          missing.map((path) => ({ path, message: 'required by the prompt template' })),
        );
      }
      return source.replace(PLACEHOLDER, (_, path: string) => {
        const value = getField(data, path);
        return typeof value === 'string' ? value : JSON.stringify(value);
      });
    },
  };
}
