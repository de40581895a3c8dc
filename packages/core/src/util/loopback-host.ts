const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Whether `host` (a bind address) is a loopback one. */
export function isLoopbackName(host: string): boolean {
  return LOOPBACK_NAMES.has(host.toLowerCase());
}

/**
 * Whether a request's `Host` header (`name:port`, `[::1]:port`) names this machine's loopback. A local
 * server (inspector, metrics) bound to loopback answers only such requests: a web page that points its
 * own name at 127.0.0.1 (DNS rebinding) then reads nothing.
 */
export function isLoopbackHostHeader(header: string | undefined): boolean {
  if (!header) return false;
  const name = header.startsWith('[')
    ? header.slice(0, header.indexOf(']') + 1)
    : (header.split(':')[0] ?? '');
  return isLoopbackName(name);
}
