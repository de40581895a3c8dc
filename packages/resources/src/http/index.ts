export {
  HttpClient,
  type HttpClientOptions,
  type HttpRequest,
  type HttpResponse,
  retryAfterMs,
} from './http-client.js';
export { httpProvider, httpResource } from './http-provider.js';
