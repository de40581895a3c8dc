export {
  HttpClient,
  type HttpClientOptions,
  type HttpRequest,
  type HttpResponse,
} from './http-client.js';
export { httpProvider, httpResource } from './http-provider.js';
