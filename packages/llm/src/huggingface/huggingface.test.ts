import { describeLlmProvider } from '@fsm/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeLlmServer, fakeEmbedding, startFakeLlmServer } from '../testing/fake-llm-server.js';
import { huggingface } from './huggingface-provider.js';

let server: FakeLlmServer;
beforeAll(async () => {
  server = await startFakeLlmServer({ reply: (text) => ({ text: `Bonjour, ${text}` }) });
});
afterAll(() => server.close());

const make = () =>
  huggingface({
    model: 'tgi-test',
    endpointUrl: server.url,
    embeddingEndpointUrl: `${server.url}/embed`,
    accessToken: 'hf_secret_token_1',
    maxRetries: 0,
  });

describeLlmProvider('huggingface', make, { expectEmbeddings: true, expectTools: false });

describe('huggingface provider', () => {
  it('sends the token as a bearer token and embeds through feature extraction', async () => {
    const provider = await make();
    const { vectors } = await provider.embed(['alpha', 'beta']);
    expect(vectors).toEqual([fakeEmbedding('alpha'), fakeEmbedding('beta')]);
    expect(server.requests.at(-1)?.headers.authorization).toBe('Bearer hf_secret_token_1');
  });
});
