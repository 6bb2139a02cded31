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

// The browser app (web/): one ES module per entry (the UI, the engine worker, the in-browser kernel tests).
// Nothing is external: the static folder must work with no network and no node_modules.
export const browserBundle = {
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  loader: { '.wgsl': 'text' },
  logLevel: 'warning',
  sourcemap: 'linked',
};
