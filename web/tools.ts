// The hint tools on the page view: the pointer (a dot per click, a stroke per drag, the region fill, the eraser's
// click and rectangle, the eyedropper, panning), the wheel (dot size, or zoom with Ctrl/⌘) and the keyboard
// shortcuts. What a tool does to the dots is DOM-free (web/hint-document.ts, web/fill-region.ts); this file turns
// pointer and key events into those edits.
import { fillRegion } from './fill-region.js';
import { dotAt, dotInRect, MAX_DOT_SIZE, MIN_DOT_SIZE, strokeDots } from './hint-document.js';
import { $, contentSize, page, state, view, type Page, type Tool } from './app-state.js';
import { showInfo } from './status.js';
import { hintsChanged } from './pages.js';
import { pickFrom, useColour } from './palette.js';

let drag: { startX: number; startY: number; lastX: number; lastY: number; pan: boolean; page0: { x: number; y: number }; path: { x: number; y: number }[] } | null = null;
/** Space held down turns any tool into panning while it is. */
let spaceHeld = false;

function setTool(tool: Tool): void {
  state.tool = tool;
  $<HTMLInputElement>(`tool-${tool}`)?.click();
  $('viewport').className = `tool-${tool}`;
}

export function setDotSize(size: number): void {
  const s = Math.min(MAX_DOT_SIZE, Math.max(MIN_DOT_SIZE, size));
  $<HTMLInputElement>('dot-size').value = String(s);
  $('dot-size-value').textContent = String(s);
}

const dotSize = () => Number($<HTMLInputElement>('dot-size').value);

function eraseAt(p: Page, x: number, y: number): void {
  // The nearest dot under the pointer (its drawn radius, at least 6 screen pixels).
  const hit = dotAt(p.history.dots, x, y, (d) => Math.max((d.size * view.modelScale) / 2, 6 / view.zoom));
  if (hit && p.history.removeWhere((d) => d === hit)) hintsChanged();
}

/** The fill tool: dots over the enclosed region under (x, y) (web/fill-region.ts), one undo step. */
function fillAt(p: Page, x: number, y: number, size: number): void {
  const closeGaps = Number($<HTMLSelectElement>('close-gaps').value);
  const { dots } = fillRegion(p.image!, x, y, (size * p.image!.width) / contentSize(p).width, { closeGaps });
  if (!dots.length) {
    showInfo('That is a line of the page: the fill tool colours the region a click lands in, between the lines.');
    return;
  }
  p.history.set([...p.history.dots, ...dots.map((d) => ({ ...d, color: state.colour, size }))]);
  useColour(state.colour);
  hintsChanged();
}

function setupPointer(): void {
  const canvas = view.canvas;
  canvas.addEventListener('pointerdown', (e) => {
    const p = page();
    // The right button opens the context menu; it neither places, erases nor picks.
    if (!p?.image || e.button > 1) return;
    canvas.setPointerCapture(e.pointerId);
    const at = view.toPage(e.clientX, e.clientY);
    const pan = state.tool === 'pan' || spaceHeld || e.button === 1;
    drag = { startX: e.clientX, startY: e.clientY, lastX: e.clientX, lastY: e.clientY, pan, page0: at, path: [at] };
    if (pan) $('viewport').classList.add('panning');
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drag) return;
    if (drag.pan) view.panBy(e.clientX - drag.lastX, e.clientY - drag.lastY);
    else if (state.tool === 'dot') drag.path.push(view.toPage(e.clientX, e.clientY));
    else if (state.tool === 'eraser') {
      const at = view.toPage(e.clientX, e.clientY);
      view.selection = { x0: drag.page0.x, y0: drag.page0.y, x1: at.x, y1: at.y };
      view.redraw();
    }
    [drag.lastX, drag.lastY] = [e.clientX, e.clientY];
  });
  canvas.addEventListener('pointerup', (e) => {
    const d = drag;
    drag = null;
    $('viewport').classList.remove('panning');
    const p = page();
    if (!d || d.pan || !p?.image) return;
    const at = view.toPage(e.clientX, e.clientY);
    const inside = at.x >= 0 && at.y >= 0 && at.x < p.image.width && at.y < p.image.height;
    const moved = Math.hypot(e.clientX - d.startX, e.clientY - d.startY) > 4;
    const size = dotSize();
    if (state.tool === 'dot' && moved) {
      // A drag paints a stroke: dots one dot-width apart along the path, one undo step.
      const spacing = Math.max(1, (size * p.image.width) / contentSize(p).width);
      const on = (d: { x: number; y: number }) => d.x >= 0 && d.y >= 0 && d.x < p.image!.width && d.y < p.image!.height;
      const stroke = strokeDots([...d.path, at], spacing).filter(on);
      if (stroke.length) {
        p.history.set([...p.history.dots, ...stroke.map((s) => ({ ...s, color: state.colour, size }))]);
        useColour(state.colour);
        hintsChanged();
      }
    } else if (state.tool === 'dot' && inside) {
      p.history.add({ x: Math.floor(at.x), y: Math.floor(at.y), color: state.colour, size });
      useColour(state.colour);
      hintsChanged();
    } else if (state.tool === 'fill' && inside && !moved) {
      fillAt(p, at.x, at.y, size);
    } else if (state.tool === 'eraser') {
      view.selection = null;
      if (moved) {
        if (p.history.removeWhere((dot) => dotInRect(dot, d.page0, at))) hintsChanged();
        else view.redraw();
      } else eraseAt(p, at.x, at.y);
    } else if (state.tool === 'eyedropper' && inside) {
      const fromResult = p.result && at.x < view.split * p.image.width;
      pickFrom(fromResult ? p.result!.image : p.image, at.x, at.y);
    }
  });
  canvas.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      if ((state.tool === 'dot' || state.tool === 'fill') && !e.ctrlKey && !e.metaKey) setDotSize(dotSize() + (e.deltaY < 0 ? 1 : -1));
      else view.zoomAt(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX, e.clientY);
    },
    { passive: false },
  );
}

/** Ctrl/⌘+Z and Y undo and redo, D F E I H pick a tool, [ and ] size the dot, R recolours, Space pans. */
function setupKeys(): void {
  window.addEventListener('keydown', (e) => {
    if ((e.target as HTMLElement).matches('input[type=text], select')) return;
    const key = e.key.toLowerCase();
    if ((e.ctrlKey || e.metaKey) && key === 'z') {
      e.preventDefault();
      $(e.shiftKey ? 'redo' : 'undo').click();
    } else if ((e.ctrlKey || e.metaKey) && key === 'y') {
      e.preventDefault();
      $('redo').click();
    } else if (e.key === ' ') {
      spaceHeld = true;
    } else if (!e.ctrlKey && !e.metaKey) {
      const tools: Record<string, Tool> = { d: 'dot', f: 'fill', e: 'eraser', i: 'eyedropper', h: 'pan' };
      if (tools[key]) setTool(tools[key]);
      else if (key === '[' || key === ']') setDotSize(dotSize() + (key === ']' ? 1 : -1));
      else if (key === 'r') $('recolour').click();
    }
  });
  window.addEventListener('keyup', (e) => {
    if (e.key === ' ') spaceHeld = false;
  });
}

/** Wires the tool buttons, the pointer on the page view and the keyboard. */
export function setupTools(): void {
  for (const input of document.querySelectorAll<HTMLInputElement>('input[name=tool]')) {
    input.id = `tool-${input.value}`;
    input.onchange = () => {
      state.tool = input.value as Tool;
      $('viewport').className = `tool-${state.tool}`;
    };
  }
  $('viewport').className = 'tool-dot';
  setupPointer();
  setupKeys();
}
