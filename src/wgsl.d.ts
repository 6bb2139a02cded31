// WGSL files are bundled as text, #include lines expanded (scripts/wgsl-include.mjs: an esbuild and a vitest plugin).
declare module '*.wgsl' {
  const source: string;
  export default source;
}
