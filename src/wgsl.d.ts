// WGSL files are bundled as text (esbuild's text loader; a vitest plugin in vitest.config.ts).
declare module '*.wgsl' {
  const source: string;
  export default source;
}
