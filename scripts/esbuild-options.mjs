// esbuild settings shared by `npm run build` and scripts/run.mjs: WGSL files load as text, native and heavy
// packages stay in node_modules.
export const nodeBundle = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  loader: { '.wgsl': 'text' },
  external: ['webgpu', 'sharp', '@tensorflow/*', 'benny'],
  logLevel: 'warning',
  sourcemap: 'linked',
};
