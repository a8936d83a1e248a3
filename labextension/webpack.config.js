// Extra rspack configuration merged by @jupyter/builder (package.json "jupyterlab.webpackConfig"):
// `import('...?raw')` gives a module's source text (src/elk.ts starts ELK's web worker from it).
module.exports = {
  module: {
    rules: [{ resourceQuery: /raw/, type: 'asset/source' }]
  }
};
