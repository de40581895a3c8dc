import { type LlmCallOptions, LlmError, type LlmProvider, type LlmRequest, type TokenUsage } from '@fsm/core';
import { z } from 'zod';

/** The JSON in a model's answer; a fenced ```json block is accepted. Not JSON is an `LlmError`. */
export function parseJsonAnswer(provider: string, text: string): unknown {
  const trimmed = text.trim().replace(/^```(?:json)?\s*|\s*```$/g, '');
  try {
    return JSON.parse(trimmed);
  } catch (error) {
    throw new LlmError(provider, `expected JSON, got: ${trimmed.slice(0, 120)}`, { cause: error });
  }
}

/**
 * Asks for JSON matching a zod schema (sent to the model as JSON Schema) and validates the answer with
 * zod: the result is typed, or an `LlmError` lists what did not match.
 */
export async function generateObject<S extends z.ZodType>(
  provider: LlmProvider,
  request: Omit<LlmRequest, 'responseFormat'>,
  schema: S,
  options: LlmCallOptions & { name?: string } = {},
): Promise<{ object: z.output<S>; usage: TokenUsage }> {
  const jsonSchema = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  const response = await provider.generate(
    { ...request, responseFormat: { type: 'json', schema: jsonSchema, name: options.name ?? 'output' } },
    options.signal ? { signal: options.signal } : {},
  );
  const parsed = schema.safeParse(parseJsonAnswer(provider.provider, response.text));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new LlmError(provider.provider, `the answer does not match the schema: ${issues}`);
  }
  return { object: parsed.data, usage: response.usage };
}
