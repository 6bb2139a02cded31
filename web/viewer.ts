// The page view: one canvas showing the page, the coloured result over it up to the before/after split, the hint
// dots and the eraser's rectangle, with zoom and pan. Coordinates: "page" pixels of the original page; the view
// maps them to CSS pixels by zoom and pan.
import type { Dot } from './hint-document.js';

export interface ViewImages {
  page: ImageBitmap | null;
  result: ImageBitmap | null;
}

export class PageView {
  images: ViewImages = { page: null, result: null };
  dots: readonly Dot[] = [];
  /** Page pixels per model pixel (a dot of size s is s of these across). */
  modelScale = 1;
  /** Fraction of the page width, from the left, that shows the result (1: all result). */
  split = 1;
  /** The eraser's rectangle in page pixels while it is dragged. */
  selection: { x0: number; y0: number; x1: number; y1: number } | null = null;
  zoom = 1;
  panX = 0;
  panY = 0;
  private frame = 0;
  /** The canvas's exact size in device pixels, where the browser reports it (see the constructor). */
  private devicePixels: { width: number; height: number } | null = null;
  /** The view shows the whole page as fit() placed it (no zoom or pan since): a resize fits it again. */
  private fitted = false;

  constructor(readonly canvas: HTMLCanvasElement) {
    // A layout that puts the canvas at a fractional CSS size (the header's text sets its top) would have the
    // compositor stretch a backing store of rounded size, blurring every page pixel's edge; the device-pixel box
    // is the size that maps 1:1. Browsers without it (Safari) throw on the option and get the rounded size.
    const observer = new ResizeObserver(([entry]) => {
      const size = entry.devicePixelContentBoxSize?.[0];
      this.devicePixels = size ? { width: size.inlineSize, height: size.blockSize } : null;
      // A banner appearing or the window resizing changes the view's size: a fitted page stays fitted.
      if (this.fitted) this.fit();
      else this.redraw();
    });
    try {
      observer.observe(canvas, { box: 'device-pixel-content-box' });
    } catch {
      observer.observe(canvas);
    }
  }

  get pageSize(): { width: number; height: number } | null {
    const p = this.images.page;
    return p ? { width: p.width, height: p.height } : null;
  }

  /** Page pixel coordinates (fractional) of a pointer position. */
  toPage(clientX: number, clientY: number): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: (clientX - r.left - this.panX) / this.zoom, y: (clientY - r.top - this.panY) / this.zoom };
  }

  /** Whole page in view, centred. */
  fit(): void {
    const size = this.pageSize;
    if (!size) return;
    const { clientWidth: w, clientHeight: h } = this.canvas;
    this.zoom = Math.min(w / size.width, h / size.height) * 0.98;
    this.panX = (w - size.width * this.zoom) / 2;
    this.panY = (h - size.height * this.zoom) / 2;
    this.fitted = true;
    this.redraw();
  }

  /** Zooms by `factor` keeping the page point under (clientX, clientY) in place. */
  zoomAt(factor: number, clientX: number, clientY: number): void {
    const before = this.toPage(clientX, clientY);
    this.zoom = Math.min(32, Math.max(0.05, this.zoom * factor));
    const r = this.canvas.getBoundingClientRect();
    this.panX = clientX - r.left - before.x * this.zoom;
    this.panY = clientY - r.top - before.y * this.zoom;
    this.fitted = false;
    this.redraw();
  }

  panBy(dx: number, dy: number): void {
    this.panX += dx;
    this.panY += dy;
    this.fitted = false;
    this.redraw();
  }

  /** Redraws on the next animation frame (many changes in one frame cost one draw). */
  redraw(): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  private draw(): void {
    this.frame = 0;
    const { canvas } = this;
    const dpr = devicePixelRatio || 1;
    const [w, h] = this.devicePixels ? [this.devicePixels.width, this.devicePixels.height] : [Math.round(canvas.clientWidth * dpr), Math.round(canvas.clientHeight * dpr)];
    if (canvas.width !== w || canvas.height !== h) [canvas.width, canvas.height] = [w, h];
    const ctx = canvas.getContext('2d')!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const { page, result } = this.images;
    if (!page) return;
    const z = this.zoom * dpr;
    ctx.setTransform(z, 0, 0, z, this.panX * dpr, this.panY * dpr);
    // Pixels stay sharp when zoomed in, so a dot's placement can be judged pixel by pixel.
    ctx.imageSmoothingEnabled = this.zoom < 1;
    ctx.drawImage(page, 0, 0);
    if (result) {
      const split = this.split * page.width;
      ctx.save();
      ctx.beginPath();
      ctx.rect(0, 0, split, page.height);
      ctx.clip();
      ctx.drawImage(result, 0, 0, page.width, page.height);
      ctx.restore();
      if (this.split > 0 && this.split < 1) {
        ctx.fillStyle = '#ff2d55';
        ctx.fillRect(split - 1 / this.zoom, 0, 2 / this.zoom, page.height);
      }
    }
    for (const dot of this.dots) {
      // At least 4 screen pixels across, so a 1-pixel hint can be seen and clicked.
      const radius = Math.max((dot.size * this.modelScale) / 2, 4 / this.zoom);
      ctx.beginPath();
      ctx.arc(dot.x + 0.5, dot.y + 0.5, radius, 0, 2 * Math.PI);
      ctx.fillStyle = dot.color;
      ctx.fill();
      ctx.lineWidth = 1.5 / this.zoom;
      ctx.strokeStyle = '#000';
      ctx.stroke();
      ctx.beginPath();
      ctx.arc(dot.x + 0.5, dot.y + 0.5, radius + 1.5 / this.zoom, 0, 2 * Math.PI);
      ctx.strokeStyle = '#fff';
      ctx.stroke();
    }
    if (this.selection) {
      const s = this.selection;
      ctx.setLineDash([4 / this.zoom, 4 / this.zoom]);
      ctx.lineWidth = 1 / this.zoom;
      ctx.strokeStyle = '#ff2d55';
      ctx.strokeRect(Math.min(s.x0, s.x1), Math.min(s.y0, s.y1), Math.abs(s.x1 - s.x0), Math.abs(s.y1 - s.y0));
      ctx.setLineDash([]);
    }
  }
}
