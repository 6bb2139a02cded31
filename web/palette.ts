// Colours: the colour the dots are placed in, the fixed swatches, the recently used colours and the document's own
// palette (both remembered by the browser), and picking a colour from an image: the page, the result, or a
// reference image shown beside the tools.
import { normaliseHex, rgbToHex } from './hint-document.js';
import { decodeRgba } from './files.js';
import { writeSetting } from './storage.js';
import { $, state } from './app-state.js';

const SWATCHES = ['#f2d3c0', '#e8b796', '#c68863', '#1b1b1b', '#5a3a22', '#d9a13b', '#f0e08a', '#e03c3c', '#f08aa8', '#9b59b6', '#2e5fa8', '#5fa8e0', '#2f8f4e', '#9ccc65', '#ffffff', '#8a8f99'];
const RECENT_LIMIT = 12;

export function setColour(hex: string): void {
  state.colour = hex;
  $<HTMLInputElement>('colour').value = hex;
  $<HTMLInputElement>('hex').value = hex;
  for (const b of document.querySelectorAll<HTMLButtonElement>('.swatches button')) b.classList.toggle('selected', b.dataset.colour === hex);
}

/** The colour typed in the hex field, when it is one; otherwise the field shows the current colour again. */
export function setColourFromText(input: HTMLInputElement): void {
  const hex = normaliseHex(input.value);
  if (hex) setColour(hex);
  else input.value = state.colour;
}

function swatch(hex: string, onRemove?: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.dataset.colour = hex;
  b.title = onRemove ? `${hex} (right-click to remove)` : hex;
  b.style.background = hex;
  b.onclick = () => setColour(hex);
  if (onRemove) {
    b.oncontextmenu = (e) => {
      e.preventDefault();
      onRemove();
    };
  }
  return b;
}

export function renderSwatches(): void {
  $('swatches').replaceChildren(...SWATCHES.map((c) => swatch(c)));
  $('recent').replaceChildren(...state.recent.map((c) => swatch(c)));
  $('document-palette').replaceChildren(
    ...state.documentPalette.map((c) =>
      swatch(c, () => {
        state.documentPalette = state.documentPalette.filter((x) => x !== c);
        writeSetting('document-palette', state.documentPalette);
        renderSwatches();
      }),
    ),
  );
  setColour(state.colour);
}

/** Puts the current colour in the document's palette. */
export function addToPalette(): void {
  if (!state.documentPalette.includes(state.colour)) state.documentPalette.push(state.colour);
  writeSetting('document-palette', state.documentPalette);
  renderSwatches();
}

/** A colour was placed: it goes to the front of the recent colours. */
export function useColour(hex: string): void {
  state.recent = [hex, ...state.recent.filter((c) => c !== hex)].slice(0, RECENT_LIMIT);
  writeSetting('recent-colours', state.recent);
  renderSwatches();
}

/** The eyedropper: the colour of the pixel at (x, y) of `image`, when it is inside. */
export function pickFrom(image: ImageData, x: number, y: number): void {
  const [px, py] = [Math.floor(x), Math.floor(y)];
  if (px < 0 || py < 0 || px >= image.width || py >= image.height) return;
  const i = 4 * (py * image.width + px);
  setColour(rgbToHex([0, 1, 2].map((c) => image.data[i + c] / 255)));
}

/** Shows a reference image (at most 400 px wide) to pick colours from. */
export async function showReference(file: File): Promise<void> {
  const image = await decodeRgba(file, file.name);
  const canvas = $<HTMLCanvasElement>('reference');
  canvas.width = Math.min(400, image.width);
  canvas.height = Math.round((image.height * canvas.width) / image.width);
  canvas.getContext('2d', { willReadFrequently: true })!.drawImage(await createImageBitmap(image), 0, 0, canvas.width, canvas.height);
}

/** A click on the reference image picks the colour under it. */
export function pickFromReference(e: MouseEvent): void {
  const canvas = $<HTMLCanvasElement>('reference');
  if (!canvas.height) return;
  const r = canvas.getBoundingClientRect();
  const [x, y] = [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
  pickFrom(canvas.getContext('2d', { willReadFrequently: true })!.getImageData(0, 0, canvas.width, canvas.height), x, y);
}
