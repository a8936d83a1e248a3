// Bundles the renderer (src/render.ts, with elkjs and its CSS) into one script for the benchmark
// page: window.kfpNbsecrets = { renderPipeline, layoutPayload, normalize, buildView }.
// Usage: node bench/bundle.mjs OUT.js
import { build } from 'esbuild';
import { fileURLToPath } from 'url';
import { dirname, join } from 'path';

const here = dirname(fileURLToPath(import.meta.url));
await build({
  entryPoints: [join(here, 'entry.ts')],
  bundle: true,
  format: 'iife',
  globalName: 'kfpNbsecrets',
  minify: true,
  target: 'es2020',
  outfile: process.argv[2],
  logLevel: 'warning'
});
