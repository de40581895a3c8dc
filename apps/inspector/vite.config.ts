import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The web app lives in web/ and is built into dist/web, which the inspector server serves.
export default defineConfig({
  root: fileURLToPath(new URL('./web', import.meta.url)),
  base: './',
  build: { outDir: fileURLToPath(new URL('./dist/web', import.meta.url)), emptyOutDir: true },
  logLevel: 'warn',
});
