/** A module's source text (``?raw``: rspack asset/source, see webpack.config.js; esbuild and vite alike). */
declare module '*?raw' {
  const source: string;
  export default source;
}
