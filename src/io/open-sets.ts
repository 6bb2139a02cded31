// The open-licence colour image collections `prepare-data --source` builds training sets from, as installed here
// (npm packages and a Debian package; nothing is downloaded at run time). Each set lists its images and says
// under which licence they come, so that the licence travels with the data built from them (ATTRIBUTION.md and
// LICENSE-<set>.txt beside the manifest).
//
//   openmoji   the openmoji package's colour SVGs, with its black SVGs as real line art      CC BY-SA 4.0
//   twemoji    @twemoji/svg (jdecked/twemoji's graphics)                                      CC BY 4.0
//   noto       @iconify-json/noto (Google's Noto Color Emoji)                                 Apache-2.0
//   fluent     @iconify-json/fluent-emoji-flat (Microsoft's Fluent Emoji, flat style)         MIT
//   fxemoji    @iconify-json/fxemoji (Mozilla's Firefox OS emoji)                             Apache-2.0
//
// Openclipart is kept out on purpose: the project's independent evaluation uses it. That is why Debian's
// tuxpaint-stamps-default is not a source either: its upstream changelog credits many stamps to the Open Clipart
// Library (clothes/sunglasses_01, seasonal/clover, household/vacuum_cleaner, …) while its copyright file and the
// stamps' descriptions do not, so its stamps cannot be told apart from Openclipart's.
//
// API
//   OPEN_SETS, isOpenSetName(text), openSetItems(name) → { items, licence }
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const OPEN_SETS = ['openmoji', 'twemoji', 'noto', 'fluent', 'fxemoji'] as const;
export type OpenSetName = (typeof OPEN_SETS)[number];
export const isOpenSetName = (text: string): text is OpenSetName => (OPEN_SETS as readonly string[]).includes(text);

/** One colour image of a set: an SVG file, or an SVG made from an icon set's JSON. */
export interface OpenSetItem {
  /** "<set>/<name>": unique across sets, and the item's name in the data set. */
  source: string;
  kind: 'svg' | 'svg-text';
  path?: string;
  svg?: string;
  /** Real line art shipped with the image (OpenMoji's black SVGs). */
  lineart?: string;
}

export interface OpenSetLicence {
  /** One paragraph for ATTRIBUTION.md and the manifest's notice. */
  notice: string;
  /** The licence or copyright text shipped with the set, copied beside the data as LICENSE-<set>.txt. */
  file?: string;
}

export interface OpenSet {
  items: OpenSetItem[];
  licence: OpenSetLicence;
}

/** The folder of an installed npm package, or an error that says how to install it. */
function packageFolder(name: string): string {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
  } catch {
    throw new Error(`The ${name} package is not installed; run \`npm install\` (it is a devDependency).`);
  }
}

export async function openSetItems(name: OpenSetName): Promise<OpenSet> {
  switch (name) {
    case 'openmoji':
      return openmoji();
    case 'twemoji':
      return twemoji();
    case 'noto':
      return iconify('noto', '@iconify-json/noto', 'Noto Color Emoji by Google Inc. (https://github.com/googlefonts/noto-emoji)');
    case 'fluent':
      return iconify('fluent', '@iconify-json/fluent-emoji-flat', 'Fluent Emoji (flat) by Microsoft Corporation (https://github.com/microsoft/fluentui-emoji)');
    case 'fxemoji':
      return iconify('fxemoji', '@iconify-json/fxemoji', 'Firefox OS Emoji by Mozilla (https://github.com/mozilla/fxemoji)');
  }
}

async function openmoji(): Promise<OpenSet> {
  const root = packageFolder('openmoji');
  const colour = (await readdir(join(root, 'color', 'svg'))).filter((f) => f.endsWith('.svg'));
  const black = new Set(await readdir(join(root, 'black', 'svg')));
  return {
    items: colour.map((f) => ({ source: `openmoji/${f}`, kind: 'svg', path: join(root, 'color', 'svg', f), lineart: black.has(f) ? join(root, 'black', 'svg', f) : undefined })),
    licence: {
      notice:
        'All emojis designed by OpenMoji (https://openmoji.org/) – the open-source emoji and icon project. License: CC BY-SA 4.0 ' +
        '(https://creativecommons.org/licenses/by-sa/4.0/). The colour images, sketches and distance fields built from them are ' +
        'adaptations shared under the same licence; see LICENSE-openmoji.txt.',
      file: join(root, 'LICENSE.txt'),
    },
  };
}

async function twemoji(): Promise<OpenSet> {
  const root = packageFolder('@twemoji/svg');
  const files = (await readdir(root)).filter((f) => f.endsWith('.svg'));
  return {
    items: files.map((f) => ({ source: `twemoji/${f}`, kind: 'svg', path: join(root, f) })),
    licence: {
      // The package's own licence file (MIT) covers its packaging; the graphics are Twemoji's, CC BY 4.0.
      notice:
        'Twemoji graphics, Copyright Twitter, Inc and other contributors (https://github.com/jdecked/twemoji), licensed under ' +
        'CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/); packaged by @twemoji/svg. The images built from them are adaptations.',
    },
  };
}

/** An Iconify icon set (https://iconify.design/docs/types/iconify-json.html): one SVG per icon, aliases skipped. */
interface IconifyJson {
  prefix: string;
  icons: Record<string, { body: string; width?: number; height?: number; left?: number; top?: number }>;
  width?: number;
  height?: number;
  left?: number;
  top?: number;
}

async function iconify(set: OpenSetName, pkg: string, credit: string): Promise<OpenSet> {
  const root = packageFolder(pkg);
  const json = JSON.parse(await readFile(join(root, 'icons.json'), 'utf8')) as IconifyJson;
  const info = JSON.parse(await readFile(join(root, 'info.json'), 'utf8')) as { license?: { title?: string; spdx?: string; url?: string } };
  const licence = info.license ?? {};
  const items = Object.entries(json.icons).map(([name, icon]): OpenSetItem => {
    const [w, h] = [icon.width ?? json.width ?? 16, icon.height ?? json.height ?? 16];
    const [left, top] = [icon.left ?? json.left ?? 0, icon.top ?? json.top ?? 0];
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${w}" height="${h}" viewBox="${left} ${top} ${w} ${h}">${icon.body}</svg>`;
    return { source: `${set}/${name}.svg`, kind: 'svg-text', svg };
  });
  return {
    items,
    licence: {
      notice: `${credit}, licensed under ${licence.title ?? licence.spdx ?? 'its licence'}${licence.url ? ` (${licence.url})` : ''}; packaged by ${pkg} (Iconify). The images built from them are adaptations.`,
    },
  };
}
