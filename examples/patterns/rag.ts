// RAG: ingest documents (chunk, embed, store), then answer questions from the nearest chunks.
import { ragPattern } from '@fsm/patterns';

export async function askDocs(
  llm: Record<string, unknown>,
  docs: { id: string; text: string }[],
  question: string,
) {
  const rag = ragPattern({ llm, chunkSize: 80, overlap: 10, topK: 2 });
  const ingest = await rag.ingest.create();
  const answer = await rag.answer.create();
  try {
    await ingest.processBatch(docs);
    return await answer.process({ question });
  } finally {
    await ingest.close();
    await answer.close();
  }
}
