import type { VectorItem, VectorMatch, VectorStore } from '@fsm/core';
import { checkTopK, matchesFilter, score } from './cosine.js';

/** Vectors in memory, exact cosine search: for tests and small collections. */
export class InMemoryVectorStore implements VectorStore {
  readonly specificationVersion = 'v1' as const;
  private readonly items = new Map<string, VectorItem>();

  async upsert(items: VectorItem[]): Promise<void> {
    for (const item of items) this.items.set(item.id, { ...item, vector: [...item.vector] });
  }

  async query(
    vector: number[],
    options: { topK: number; filter?: Record<string, unknown> },
  ): Promise<VectorMatch[]> {
    checkTopK(options.topK);
    const matches: VectorMatch[] = [];
    for (const item of this.items.values()) {
      if (!matchesFilter(item.metadata, options.filter)) continue;
      matches.push({
        id: item.id,
        score: score(item.id, vector, item.vector),
        ...(item.metadata ? { metadata: item.metadata } : {}),
      });
    }
    return matches.sort((a, b) => b.score - a.score).slice(0, options.topK);
  }

  async delete(ids: string[]): Promise<void> {
    for (const id of ids) this.items.delete(id);
  }

  async close(): Promise<void> {
    this.items.clear();
  }
}
