export {
  type FakeLlmServer,
  type FakeLlmServerOptions,
  type FakeReply,
  fakeEmbedding,
  startFakeLlmServer,
} from './fake-llm-server.js';
