import { ValidationError } from '@fsm/core';

export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Cosine similarity of a query and a stored vector; vectors of another size are an error, not a 0. */
export function score(id: string, query: readonly number[], stored: readonly number[]): number {
  if (query.length !== stored.length)
    throw new ValidationError(
      `the query vector has ${query.length} dimensions, vector "${id}" has ${stored.length}`,
      [{ path: id, message: 'dimension mismatch (were they embedded by different models?)' }],
    );
  return cosine(query, stored);
}

export function checkTopK(topK: number): void {
  if (!Number.isInteger(topK) || topK < 1)
    throw new ValidationError(`topK must be a positive integer, got ${topK}`, [
      { path: 'topK', message: 'expected a positive integer' },
    ]);
}

export function matchesFilter(
  metadata: Record<string, unknown> | undefined,
  filter: Record<string, unknown> | undefined,
): boolean {
  if (!filter) return true;
  return Object.entries(filter).every(([key, value]) => metadata?.[key] === value);
}
