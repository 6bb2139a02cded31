// esbuild settings shared by `npm run build`, scripts/run.mjs and the browser app's build: one ES module per
// entry, WGSL files loaded as text with their #include lines expanded (scripts/wgsl-include.mjs).
import { wgslPlugin } from './wgsl-include.mjs';

const common = {
  bundle: true,
  format: 'esm',
  plugins: [wgslPlugin],
  logLevel: 'warning',
  sourcemap: 'linked',
};

// The command-line entry points: native and heavy packages stay in node_modules.
export const nodeBundle = {
  ...common,
  platform: 'node',
  target: 'node20',
  external: ['webgpu', 'sharp', '@tensorflow/*', 'benny'],
};

// The browser app (web/): one ES module per entry (the UI, the engine worker, the in-browser kernel tests).
// Nothing is external: the static folder must work with no network and no node_modules.
export const browserBundle = {
  ...common,
  platform: 'browser',
  target: 'es2022',
};
