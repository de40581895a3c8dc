import { type FakeLlmServer, startFakeLlmServer } from '@fsm/llm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chunkText,
  classifyAndRoutePattern,
  extractAndValidatePattern,
  promptChainPattern,
  ragPattern,
} from './llm-workflows.js';

const VOCAB = ['paris', 'tokyo', 'lima', 'tower', 'river', 'mountain'];
/** Topic vectors: one dimension per keyword, so retrieval is decided by content, not chance. */
const embed = (text: string) => {
  const t = text.toLowerCase();
  const v = VOCAB.map((w) => (t.includes(w) ? 1 : 0));
  return v.some(Boolean) ? v : VOCAB.map(() => 0.01);
};

let server: FakeLlmServer;
beforeAll(async () => {
  server = await startFakeLlmServer({
    embed,
    reply: (prompt) => {
      if (prompt.startsWith('Answer from the context')) {
        // Answers with the first context line that shares a keyword with the question.
        const question = prompt.split('Question:')[1]?.toLowerCase() ?? '';
        const lines = prompt.split('\n').filter((l) => /^\[\d+\]/.test(l));
        const hit = lines.find((l) => VOCAB.some((w) => question.includes(w) && l.toLowerCase().includes(w)));
        return { text: hit ? hit.replace(/^\[\d+\]\s*/, '') : 'I do not know.' };
      }
      if (prompt.startsWith('Summarize')) return { text: 'A short summary.' };
      if (prompt.startsWith('Translate'))
        return { text: `FR: ${prompt.split(':').slice(1).join(':').trim()}` };
      if (prompt.startsWith('Ticket')) return { text: prompt.includes('refund') ? 'billing' : 'support' };
      if (prompt.startsWith('Extract'))
        return { text: prompt.includes('Bob') ? '{"name":"Bob"}' : '{"name":"Ann","age":41}' };
      return { text: 'ok' };
    },
  });
});
afterAll(() => server.close());

const llm = () => ({ provider: 'openai', model: 'test', base_url: `${server.url}/v1`, max_retries: 0 });

describe('LLM workflow patterns', () => {
  it('RAG: documents are chunked, embedded and stored; a question is answered from the right chunk and scored', async () => {
    const rag = ragPattern({ llm: llm(), chunkSize: 60, overlap: 10, topK: 2 });
    const ingest = await rag.ingest.create();
    const docs = [
      { id: 'fr', text: 'Paris has a famous iron tower built in 1889. Paris is on the Seine river.' },
      { id: 'jp', text: 'Tokyo is the capital of Japan. Tokyo has a tall broadcast tower.' },
      { id: 'pe', text: 'Lima is the capital of Peru, near the Andes mountain range.' },
    ];
    const stored = await ingest.processBatch(docs);
    expect(stored.succeeded).toBe(3);
    expect(stored.results.every((r) => (r.data as { chunks: number }).chunks >= 1)).toBe(true);
    const answer = await rag.answer.create();
    const r = await answer.process({ question: 'Which mountain range is near Lima?' });
    expect(r).toMatchObject({ success: true, finalState: 'answered' });
    const data = r.data as { answer: string; sources: { id: string }[]; grounded: number };
    expect(data.sources[0]?.id).toMatch(/^pe#/);
    expect(data.answer).toContain('Andes');
    expect(data.grounded).toBe(1);
    await ingest.close();
    await answer.close();
  });

  it('chunkText splits on whitespace with overlap and loses no text', () => {
    const text = Array.from({ length: 50 }, (_, i) => `word${i}`).join(' ');
    const chunks = chunkText(text, 40, 8);
    expect(chunks.every((c) => c.length <= 40)).toBe(true);
    for (const word of text.split(' ')) expect(chunks.some((c) => c.includes(word))).toBe(true);
  });

  it('a prompt chain feeds each answer to the next prompt', async () => {
    const fsm = await promptChainPattern({
      llm: llm(),
      steps: [
        { name: 'summarize', prompt: 'Summarize: {{text}}', target: 'summary' },
        { name: 'translate', prompt: 'Translate: {{summary}}', target: 'french' },
      ],
    }).create();
    const r = await fsm.process({ text: 'a long text' });
    expect(r.data).toMatchObject({
      summary: 'A short summary.',
      french: 'FR: A short summary.',
      usage: { totalTokens: 38 },
    });
    await fsm.close();
  });

  it('classify and route', async () => {
    const fsm = await classifyAndRoutePattern({
      llm: llm(),
      prompt: 'Ticket: {{text}}',
      labels: ['billing', 'support'],
    }).create();
    expect((await fsm.process({ text: 'I want a refund' })).finalState).toBe('billing');
    expect((await fsm.process({ text: 'login broken' })).finalState).toBe('support');
    await fsm.close();
  });

  it('extract and validate: a record whose extraction misses a field fails validation', async () => {
    const schema = {
      type: 'object',
      required: ['name', 'age'],
      properties: { name: { type: 'string' }, age: { type: 'integer' } },
    };
    const fsm = await extractAndValidatePattern({ llm: llm(), prompt: 'Extract: {{text}}', schema }).create();
    expect((await fsm.process({ text: 'Ann is 41' })).data).toMatchObject({
      extracted: { name: 'Ann', age: 41 },
    });
    const bad = await fsm.process({ text: 'Bob' });
    expect(bad.success).toBe(false);
    expect(bad.error?.code).toBe('LLM_FAILED');
    await fsm.close();
  });
});
