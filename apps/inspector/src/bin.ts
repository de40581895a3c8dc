#!/usr/bin/env node
import { startInspector } from './server.js';

// fsm-inspector <config> <storage-url> [port]
const [config, storage, port] = process.argv.slice(2);
if (!config || !storage) {
  process.stderr.write('usage: fsm-inspector <config.yaml> <storage-url> [port]\n');
  process.exit(2);
}
const inspector = await startInspector({ config, storage, port: port ? Number(port) : 4173 });
process.stdout.write(`inspector on ${inspector.url}\n`);
