import { describeLlmProvider } from '@fsm/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeProviderResilience } from '../test-support/provider-resilience.js';
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
    accessToken: 'hf_secret_token_1',
    maxRetries: 0,
  });

describeLlmProvider('huggingface', make, { expectEmbeddings: true, expectTools: false });
describeProviderResilience('huggingface', ({ url, secret, ...rest }) =>
  huggingface({ model: 'tgi-test', endpointUrl: url, accessToken: secret, ...rest }),
);

describe('huggingface provider', () => {
  it('sends the token as a bearer token and embeds through feature extraction', async () => {
    const provider = await make();
    const { vectors } = await provider.embed(['alpha', 'beta']);
    expect(vectors).toEqual([fakeEmbedding('alpha'), fakeEmbedding('beta')]);
    expect(server.requests.at(-1)?.headers.authorization).toBe('Bearer hf_secret_token_1');
  });

  it('asks for JSON with the schema through response_format', async () => {
    const provider = await make();
    await provider.generate({
      messages: [{ role: 'user', content: 'json' }],
      responseFormat: { type: 'json', schema: { type: 'object' }, name: 'reply' },
    });
    expect(server.requests.at(-1)?.body.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'reply', schema: { type: 'object' } },
    });
  });

  it('a request with tools is refused with UNSUPPORTED (capabilities are checked, not ignored)', async () => {
    const provider = await make();
    const before = server.requests.length;
    const tools = [{ name: 'get_weather', parameters: {} }];
    await expect(
      provider.generate({ messages: [{ role: 'user', content: 'hi' }], tools }),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    const read = async () => {
      for await (const _ of provider.stream({ messages: [{ role: 'user', content: 'hi' }], tools })) {
        // Never reached: the stream is refused before any request.
      }
    };
    await expect(read()).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    expect(server.requests.length).toBe(before);
  });
});
