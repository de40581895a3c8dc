import { readdirSync, existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// One project per workspace package; every project resolves @fsm/* to src/ through the @fsm/source condition.
const roots = ['packages', 'apps', 'bench', 'examples'].flatMap((dir) =>
  dir === 'bench' || dir === 'examples'
    ? [dir]
    : readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => `${dir}/${d.name}`),
);

export default defineConfig({
  resolve: { conditions: ['@fsm/source', 'node'] },
  ssr: { resolve: { conditions: ['@fsm/source', 'node'] } },
  test: {
    projects: roots
      .filter((root) => existsSync(`${root}/package.json`))
      .map((root) => ({
        extends: true,
        test: {
          name: root.split('/').pop() ?? root,
          root,
          include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'patterns/**/*.test.ts'],
          testTimeout: 30_000,
          // Memory-bound tests measure live heap after a full GC.
          execArgv: ['--expose-gc'],
          hookTimeout: 60_000,
        },
      })),
  },
});
