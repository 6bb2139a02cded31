// WGSL files are bundled as text with their `#include "path"` lines expanded (path relative to the including
// file), by the esbuild plugin below (npm run build, scripts/run.mjs, the browser app) and by the vitest plugin in
// vitest.config.ts. Each include line becomes a comment and the included text is appended at the end, once per
// file however often it is included (WGSL declarations may come in any order): line numbers in compiler messages
// stay those of the file. The kernel's TypeScript appends what it generates (uniform structs, op switches) too.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const INCLUDE = /^#include "([^"]+)"[ \t]*$/gm;

/** The expanded source of the WGSL file at `path`, and every file it read (for watchers). */
export function expandWgsl(path) {
  const done = new Set();
  const appended = [];
  const expand = (file, from) => {
    const absolute = resolve(file);
    if (done.has(absolute)) return null;
    done.add(absolute);
    let text;
    try {
      text = readFileSync(absolute, 'utf8');
    } catch (e) {
      throw new Error(`${from ? `${from}: ` : ''}cannot read the WGSL file ${absolute}: ${e.message}`);
    }
    return text.replace(INCLUDE, (_line, name) => {
      const included = resolve(dirname(absolute), name);
      const body = expand(included, relative(process.cwd(), absolute));
      if (body !== null) appended.push(`// ---- ${relative(dirname(resolve(path)), included)} (#include) ----\n${body}`);
      return `// #include "${name}": appended at the end`;
    });
  };
  const main = expand(path, null);
  return { code: [main, ...appended].join('\n'), files: [...done] };
}

/** esbuild: `import source from './x.wgsl'` gives the expanded text. */
export const wgslPlugin = {
  name: 'wgsl-include',
  setup(build) {
    build.onLoad({ filter: /\.wgsl$/ }, (args) => {
      const { code, files } = expandWgsl(args.path);
      return { contents: code, loader: 'text', watchFiles: files };
    });
  },
};
