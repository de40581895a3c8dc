import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/**
 * The config the tracing tests run: main: start -> (push into `inner`: a -> (push into `deep`: x -> y) -> b)
 * -> check -> ok, failing in `check` when n >= 100. `checkTransforms` run in `check` (e.g. a gate the test opens).
 */
export function tracedConfig(checkTransforms: string[] = []) {
  return {
    name: 'traced',
    main_network: 'main',
    networks: [
      {
        name: 'main',
        states: [
          {
            name: 'start',
            is_start: true,
            arcs: [{ name: 'go_inner', target: 'check', target_network: 'inner', return_state: 'check' }],
          },
          {
            name: 'check',
            ...(checkTransforms.length > 0 ? { transforms: checkTransforms } : {}),
            validators: [{ type: 'expression', code: 'n < 100' }],
            arcs: [{ target: 'ok' }],
          },
          { name: 'ok', is_end: true },
        ],
      },
      {
        name: 'inner',
        states: [
          {
            name: 'a',
            is_start: true,
            arcs: [{ name: 'go_deep', target: 'b', target_network: 'deep', return_state: 'b' }],
          },
          { name: 'b', is_end: true },
        ],
      },
      {
        name: 'deep',
        states: [
          { name: 'x', is_start: true, arcs: [{ target: 'y' }] },
          { name: 'y', is_end: true },
        ],
      },
    ],
  };
}

export const byName = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
