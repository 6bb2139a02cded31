// The one image type of the data pipeline: a float32 plane, H×W×C interleaved (row-major, channels last),
// values in [0, 1]. Decoders (src/io/image.ts in Node, web/ in the browser) produce it; everything between
// decoding and encoding works on it.

export interface Plane {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  /** width·height·channels values; pixel (x, y) channel c is at (y·width + x)·channels + c. */
  readonly data: Float32Array;
}

/** A plane of the given size, zero-filled or over `data` (which must hold exactly width·height·channels values). */
export function createPlane(width: number, height: number, channels: number, data?: Float32Array): Plane {
  for (const [name, v] of [['width', width], ['height', height], ['channels', channels]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`A plane's ${name} must be a positive integer, got ${v}.`);
  }
  const length = width * height * channels;
  if (data && data.length !== length) {
    throw new Error(`${data.length} values do not fill a ${width}×${height}×${channels} plane (${length} values).`);
  }
  return { width, height, channels, data: data ?? new Float32Array(length) };
}

/** Luma weights of the reference code's grey conversion (ITU-R BT.709, as skimage's rgb2gray), REFERENCE §2. */
export const LUMA = [0.2125, 0.7154, 0.0721] as const;

/** One channel: grey planes are returned as they are, RGB planes converted with LUMA. */
export function toGrey(plane: Plane): Plane {
  if (plane.channels === 1) return plane;
  if (plane.channels !== 3) throw new Error(`toGrey expects 1 or 3 channels, got ${plane.channels}.`);
  const n = plane.width * plane.height;
  const out = new Float32Array(n);
  const src = plane.data;
  for (let i = 0; i < n; i++) out[i] = LUMA[0] * src[3 * i] + LUMA[1] * src[3 * i + 1] + LUMA[2] * src[3 * i + 2];
  return createPlane(plane.width, plane.height, 1, out);
}

/** 8-bit samples (any channel count) as a plane in [0, 1]. */
export function planeFromBytes(bytes: Uint8Array | Uint8ClampedArray, width: number, height: number, channels: number): Plane {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255;
  return createPlane(width, height, channels, out);
}

/**
 * 8-bit samples of a plane, clamped to [0, 1] first. `round` is the usual quantisation; `floor` is what the
 * reference code does to the distance field when it saves it (floor(v·255)).
 */
export function planeToBytes(plane: Plane, mode: 'round' | 'floor' = 'round'): Uint8Array {
  const out = new Uint8Array(plane.data.length);
  const q = mode === 'round' ? Math.round : Math.floor;
  for (let i = 0; i < out.length; i++) {
    const v = plane.data[i];
    out[i] = v > 0 ? (v < 1 ? q(v * 255) : 255) : 0; // NaN → 0
  }
  return out;
}

/** The `channel`-th channel as a one-channel plane. */
export function channelOf(plane: Plane, channel: number): Plane {
  if (!(channel >= 0 && channel < plane.channels)) throw new Error(`channel ${channel} out of range for ${plane.channels} channels.`);
  if (plane.channels === 1) return plane;
  const n = plane.width * plane.height;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = plane.data[i * plane.channels + channel];
  return createPlane(plane.width, plane.height, 1, out);
}

/** A plane as a CHW Float32Array (one image of an NCHW batch). */
export function planeToChw(plane: Plane): Float32Array {
  const { width, height, channels, data } = plane;
  const n = width * height;
  const out = new Float32Array(channels * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) out[c * n + i] = data[i * channels + c];
  return out;
}

/** The inverse of planeToChw: a CHW Float32Array (one image of an NCHW batch) as a plane. */
export function planeFromChw(chw: Float32Array, width: number, height: number, channels: number): Plane {
  const n = width * height;
  if (chw.length !== channels * n) throw new Error(`${chw.length} values are not a ${channels}×${height}×${width} image.`);
  const out = new Float32Array(channels * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) out[i * channels + c] = chw[c * n + i];
  return createPlane(width, height, channels, out);
}
