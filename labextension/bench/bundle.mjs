// Bundles the renderer (src/render.ts, with elkjs and its worker's source) into one script for the benchmark
// page: window.kfpNbsecrets = { renderPipeline, layoutPayload, normalize }.
// Usage: node bench/bundle.mjs OUT.js
import { build } from 'esbuild';
import { fileURLToPath } from 'url';
import { dirname, join } from 'path';
import { readFile } from 'fs/promises';
import { createRequire } from 'module';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

// `import('...?raw')`: the module's source text, as rspack's asset/source gives it (webpack.config.js).
const rawSource = {
  name: 'raw-source',
  setup(build) {
    build.onResolve({ filter: /\?raw$/ }, args => ({
      path: require.resolve(args.path.replace(/\?raw$/, ''), { paths: [args.resolveDir] }),
      namespace: 'raw-source'
    }));
    build.onLoad({ filter: /.*/, namespace: 'raw-source' }, async args => ({
      contents: await readFile(args.path, 'utf8'),
      loader: 'text'
    }));
  }
};
await build({
  entryPoints: [join(here, 'entry.ts')],
  bundle: true,
  format: 'iife',
  globalName: 'kfpNbsecrets',
  minify: true,
  target: 'es2020',
  outfile: process.argv[2],
  logLevel: 'warning',
  plugins: [rawSource]
});
