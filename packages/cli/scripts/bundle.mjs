/**
 * Bundles the `fsm` binary (dist/bin.js) with esbuild after tsc built dist/. Unbundled, `fsm run` loaded
 * ~750 ES modules (kysely alone is 255 files) and spent ~0.25 s of its ~0.55 s start resolving, reading and
 * linking them: ~7 % of a 100 k-record run (bench W9). Bundled, it loads a few dozen chunks.
 *
 * - Our own packages and the pure-JS libraries they use are bundled; lazy `import()`s stay lazy (code
 *   splitting: each command, store backend and LLM provider is a chunk of its own under dist/bundle/).
 * - Native addons, SDKs that are optional or large, and companion packages stay external: they load from
 *   node_modules as before, only when used (EXTERNAL below).
 * - dist/index.js and the rest of tsc's output are unchanged: `@fsm/cli` as a library is not bundled.
 *
 * Errors keep working across copies of @fsm/core (a `--functions` module importing its own copy):
 * FsmError.is checks a registered symbol, not the class.
 */
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

/** Packages loaded from node_modules at run time, never bundled (a prefix matches its subpaths). */
const EXTERNAL = [
  // native addons
  'better-sqlite3',
  'pg-native',
  // drivers and SDKs: large, optional peers, or both — each loads only when a config or flag uses it
  'pg',
  'mysql2',
  '@aws-sdk/',
  'openai',
  '@anthropic-ai/sdk',
  '@huggingface/inference',
  'bullmq',
  'ioredis',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/sdk-trace-base',
  'prom-client',
  // `fsm inspect`'s companion app serves files next to its own modules
  '@fsm/inspector',
];

const isExternal = (specifier) =>
  specifier.startsWith('node:') ||
  EXTERNAL.some((name) =>
    name.endsWith('/') ? specifier.startsWith(name) : specifier === name || specifier.startsWith(`${name}/`),
  );

// Chunk names carry a content hash: drop the last build's so none is left over.
rmSync('dist/bundle', { recursive: true, force: true });

await build({
  entryPoints: { bin: 'src/bin.ts' },
  outdir: 'dist',
  entryNames: '[name]',
  chunkNames: 'bundle/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22.12',
  sourcemap: 'linked',
  logLevel: 'warning',
  // CommonJS libraries inside an ES module bundle call `require` for Node's builtins.
  banner: {
    js: "import { createRequire as __fsmCreateRequire } from 'node:module'; const require = __fsmCreateRequire(import.meta.url);",
  },
  plugins: [
    {
      name: 'fsm-externals',
      setup(esbuild) {
        esbuild.onResolve({ filter: /^[^./]/ }, (args) =>
          isExternal(args.path) ? { path: args.path, external: true } : undefined,
        );
      },
    },
  ],
});
