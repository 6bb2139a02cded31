// npm run build:web: bundles the browser app (web/) into a static folder, dist/web by default, that any static
// host can serve. `--out DIR` writes elsewhere. The project's default model (models/default.safetensors), when
// it exists, is copied to <out>/models/ and named in <out>/app-config.json, so the app loads it without asking;
// its eval scores (models/default.eval.json) go with it, and the example page (examples/page.png) for the empty
// screen's "Try the example page".
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { browserBundle } from './esbuild-options.mjs';

const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const outdir = outIndex >= 0 ? args[outIndex + 1] : 'dist/web';
if (!outdir) {
  console.error('usage: node scripts/build-web.mjs [--out DIR]');
  process.exit(2);
}

await build({
  ...browserBundle,
  entryPoints: { app: 'web/main.ts', worker: 'web/worker.ts', 'kernel-tests': 'web/kernel-tests.ts' },
  outdir,
  minify: true,
});
for (const file of ['index.html', 'app.css', 'kernel-tests.html']) copyFileSync(join('web', file), join(outdir, file));

const model = 'models/default.safetensors';
const shipped = join(outdir, model);
if (existsSync(model)) {
  mkdirSync(join(outdir, 'models'), { recursive: true });
  // A model is tens of MB: copy only when it changed.
  const [src, dst] = [statSync(model), existsSync(shipped) ? statSync(shipped) : null];
  if (!dst || dst.size !== src.size || dst.mtimeMs < src.mtimeMs) copyFileSync(model, shipped);
} else {
  rmSync(shipped, { force: true });
}
// Its scores from `npm run eval` travel with it: the app shows them in one line while the shipped model is in use.
const scores = 'models/default.eval.json';
const withScores = existsSync(model) && existsSync(scores);
if (withScores) copyFileSync(scores, join(outdir, scores));
else rmSync(join(outdir, scores), { force: true });
const example = 'examples/page.png';
if (existsSync(example)) {
  mkdirSync(join(outdir, 'examples'), { recursive: true });
  copyFileSync(example, join(outdir, example));
}
// The app reads this instead of probing for the model, so a build without one makes no failing request.
writeFileSync(
  join(outdir, 'app-config.json'),
  JSON.stringify({ defaultModel: existsSync(model) ? model : null, defaultModelEval: withScores ? scores : null, examplePage: existsSync(example) ? example : null }),
);
console.log(`built the browser app into ${outdir}/${existsSync(model) ? ' (with the default model)' : ''}`);
