import {
  type FunctionContext,
  type LlmProvider,
  type ResourceProvider,
  type VectorStore,
  getField,
} from '@fsm/core';
import { InMemoryVectorStore, llmFunctions, llmResourceTypes, promptTemplate } from '@fsm/llm';
import { type PatternFsm, pattern } from '../pattern.js';

/** The `llm` resource entry of a config: `{ provider, model, base_url?, ... }`. */
export type LlmResourceConfig = Record<string, unknown>;

const llmResourceEntry = (config: LlmResourceConfig) => ({ name: 'model', type: 'llm', config });
const withLlm = (p: PatternFsm): PatternFsm => ({
  ...p,
  create: (options = {}) =>
    p.create({
      resourceTypes: { ...llmResourceTypes, ...options.resourceTypes },
      ...options,
      builtins: [...llmFunctions, ...(options.builtins ?? [])],
    }),
});

/** A prompt chain: each step's prompt can use the answers of the steps before it (`{{step_target}}`). */
export function promptChainPattern(options: {
  llm: LlmResourceConfig;
  steps: { name: string; prompt: string; target: string; system?: string }[];
}): PatternFsm {
  const states = options.steps.map((step, i) => ({
    name: step.name,
    ...(i === 0 ? { is_start: true } : {}),
    resources: ['model'],
    transforms: [
      {
        type: 'builtin',
        name: 'llm_complete',
        params: {
          resource: 'model',
          prompt: step.prompt,
          target: step.target,
          usage_target: 'usage',
          ...(step.system ? { system: step.system } : {}),
        },
      },
    ],
    arcs: [{ target: options.steps[i + 1]?.name ?? 'done' }],
  }));
  return withLlm(
    pattern(
      {
        name: 'prompt_chain',
        resources: [llmResourceEntry(options.llm)],
        states: [...states, { name: 'done', is_end: true }],
      },
      {},
    ),
  );
}

/** Classify with the model, then route: each label goes to the state of the same name (others to `unrouted`). */
export function classifyAndRoutePattern(options: {
  llm: LlmResourceConfig;
  prompt: string;
  labels: string[];
}): PatternFsm {
  const config = {
    name: 'classify_and_route',
    resources: [llmResourceEntry(options.llm)],
    states: [
      {
        name: 'classify',
        is_start: true,
        resources: ['model'],
        transforms: [
          {
            type: 'builtin',
            name: 'llm_classify',
            params: { resource: 'model', prompt: options.prompt, labels: options.labels, target: 'label' },
          },
        ],
        arcs: options.labels.map((label) => ({
          target: label,
          condition: { type: 'expression', code: `label = ${JSON.stringify(label)}` },
        })),
      },
      ...options.labels.map((label) => ({ name: label, is_end: true })),
    ],
  };
  return withLlm(pattern(config, {}));
}

/** Extract structured data with the model, then validate it against the JSON Schema (a record that fails says why). */
export function extractAndValidatePattern(options: {
  llm: LlmResourceConfig;
  prompt: string;
  schema: Record<string, unknown>;
}): PatternFsm {
  const config = {
    name: 'extract_and_validate',
    resources: [llmResourceEntry(options.llm)],
    states: [
      {
        name: 'extract',
        is_start: true,
        resources: ['model'],
        transforms: [
          {
            type: 'builtin',
            name: 'llm_extract',
            params: {
              resource: 'model',
              prompt: options.prompt,
              schema: options.schema,
              target: 'extracted',
            },
          },
        ],
        arcs: [{ target: 'validate' }],
      },
      {
        name: 'validate',
        validators: [
          {
            type: 'builtin',
            name: 'schema',
            params: {
              schema: { type: 'object', required: ['extracted'], properties: { extracted: options.schema } },
            },
          },
        ],
        arcs: [{ target: 'done' }],
      },
      { name: 'done', is_end: true },
    ],
  };
  return withLlm(pattern(config, {}));
}

/** Splits text into chunks of about `size` characters with `overlap`, on whitespace where possible. */
export function chunkText(text: string, size: number, overlap: number): string[] {
  const chunks: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + size);
    if (end < text.length) {
      const space = text.lastIndexOf(' ', end);
      if (space > start + size / 2) end = space;
    }
    chunks.push(text.slice(start, end).trim());
    if (end >= text.length) break;
    start = Math.max(end - overlap, start + 1);
  }
  return chunks.filter((c) => c.length > 0);
}

export interface RagOptions {
  llm: LlmResourceConfig;
  /** Where chunks live (default: a new in-memory store shared by ingest and answer). */
  store?: VectorStore;
  chunkSize?: number;
  overlap?: number;
  topK?: number;
  /** The answer prompt; `{{context}}` and `{{question}}` are filled in. */
  prompt?: string;
}

/** Share of the answer's words found in the retrieved context: a cheap groundedness score in [0, 1]. */
export function groundedness(answer: string, context: string): number {
  const words = answer.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) ?? [];
  if (words.length === 0) return 0;
  const haystack = context.toLowerCase();
  return words.filter((w) => haystack.includes(w)).length / words.length;
}

/**
 * Retrieval-augmented generation as two FSMs over one vector store. `ingest`: a document `{ id, text }` is
 * chunked, every chunk embedded (one batched call) and stored. `answer`: a `{ question }` is embedded, the
 * nearest chunks retrieved, the model answers from them, and an evaluation step scores how grounded the
 * answer is in what was retrieved.
 */
export function ragPattern(options: RagOptions): {
  ingest: PatternFsm;
  answer: PatternFsm;
  store: VectorStore;
} {
  const store = options.store ?? new InMemoryVectorStore();
  const storeProvider: ResourceProvider<VectorStore> = {
    specificationVersion: 'v1',
    type: 'vector_store',
    name: 'kb',
    create: async () => store,
    destroy: async () => undefined,
    close: async () => undefined,
  };
  const resources = [llmResourceEntry(options.llm), { name: 'kb', type: 'vector_store', config: {} }];
  const shared = (p: PatternFsm): PatternFsm => {
    const llm = withLlm(p);
    return {
      ...llm,
      create: (o = {}) => llm.create({ ...o, resources: { kb: storeProvider, ...o.resources } }),
    };
  };
  const ingest = pattern(
    {
      name: 'rag_ingest',
      resources,
      states: [
        { name: 'chunk', is_start: true, transforms: ['chunk_document'], arcs: [{ target: 'embed' }] },
        {
          name: 'embed',
          resources: ['model', 'kb'],
          transforms: ['embed_and_store'],
          arcs: [{ target: 'stored' }],
        },
        { name: 'stored', is_end: true },
      ],
    },
    {
      chunk_document: (doc: { id: string; text: string }) => ({
        ...doc,
        chunks: chunkText(doc.text, options.chunkSize ?? 500, options.overlap ?? 50),
      }),
      // The embedding step the Python package left as a placeholder: real vectors, one batched call.
      embed_and_store: async (doc: { id: string; chunks: string[] }, ctx: FunctionContext) => {
        const { vectors } = await ctx.resources
          .get<LlmProvider>('model')
          .embed(doc.chunks, { signal: ctx.signal });
        await ctx.resources.get<VectorStore>('kb').upsert(
          doc.chunks.map((text, i) => ({
            id: `${doc.id}#${i}`,
            vector: vectors[i] as number[],
            metadata: { doc: doc.id, text },
          })),
        );
        return { id: doc.id, chunks: doc.chunks.length };
      },
    },
  );
  const template = promptTemplate(
    options.prompt ?? 'Answer from the context only.\n\nContext:\n{{context}}\n\nQuestion: {{question}}',
  );
  const answer = pattern(
    {
      name: 'rag_answer',
      resources,
      states: [
        {
          name: 'retrieve',
          is_start: true,
          resources: ['model', 'kb'],
          transforms: ['retrieve'],
          arcs: [{ target: 'generate' }],
        },
        { name: 'generate', resources: ['model'], transforms: ['generate'], arcs: [{ target: 'evaluate' }] },
        { name: 'evaluate', transforms: ['evaluate'], arcs: [{ target: 'answered' }] },
        { name: 'answered', is_end: true },
      ],
    },
    {
      retrieve: async (q: { question: string }, ctx: FunctionContext) => {
        const { vectors } = await ctx.resources
          .get<LlmProvider>('model')
          .embed([q.question], { signal: ctx.signal });
        const matches = await ctx.resources
          .get<VectorStore>('kb')
          .query(vectors[0] as number[], { topK: options.topK ?? 3 });
        return {
          ...q,
          sources: matches.map((m) => ({
            id: m.id,
            score: m.score,
            text: getField(m.metadata, 'text') as string,
          })),
        };
      },
      generate: async (q: { question: string; sources: { text: string }[] }, ctx: FunctionContext) => {
        const context = q.sources.map((s, i) => `[${i + 1}] ${s.text}`).join('\n');
        const r = await ctx.resources
          .get<LlmProvider>('model')
          .generate(
            { messages: [{ role: 'user', content: template.render({ ...q, context }) }] },
            { signal: ctx.signal },
          );
        return { ...q, answer: r.text, usage: r.usage };
      },
      evaluate: (q: { answer: string; sources: { text: string }[] }) => ({
        ...q,
        grounded: groundedness(q.answer, q.sources.map((s) => s.text).join(' ')),
      }),
    },
  );
  return { ingest: shared(ingest), answer: shared(answer), store };
}
