import { LlmError, type LlmCallOptions, type LlmProvider, type LlmRequest, type TokenUsage } from '@fsm/core';
import { z } from 'zod';

/**
 * Asks for JSON matching a zod schema (sent to the model as JSON Schema) and validates the answer with
 * zod: the result is typed, or an `LlmError` lists what did not match. Fenced ```json blocks are accepted.
 */
export async function generateObject<S extends z.ZodType>(
  provider: LlmProvider,
  request: Omit<LlmRequest, 'responseFormat'>,
  schema: S,
  options: LlmCallOptions & { name?: string } = {},
): Promise<{ object: z.output<S>; usage: TokenUsage }> {
  const jsonSchema = z.toJSONSchema(schema) as Record<string, unknown>;
  const response = await provider.generate(
    { ...request, responseFormat: { type: 'json', schema: jsonSchema, name: options.name ?? 'output' } },
    options.signal ? { signal: options.signal } : {},
  );
  const text = response.text.trim().replace(/^```(?:json)?\s*|\s*```$/g, '');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new LlmError(provider.provider, `expected JSON, got: ${text.slice(0, 120)}`, { cause: error });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new LlmError(provider.provider, `the answer does not match the schema: ${issues}`);
  }
  return { object: parsed.data, usage: response.usage };
}
