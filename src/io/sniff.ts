// What a weights file is, from its first bytes: picks the reader, and names the usual wrong files (an image
// renamed .pth, a Git LFS pointer, a failed download) in errors instead of a parse failure deep inside.

export type WeightsContainer = 'safetensors' | 'zip' | 'pickle';

export interface FileKind {
  container: WeightsContainer | null;
  /** A phrase for messages: "a PNG image", "a zip archive", ... */
  description: string;
}

const startsWith = (bytes: Uint8Array, prefix: string, at = 0) =>
  bytes.length >= at + prefix.length && [...prefix].every((c, i) => bytes[at + i] === c.charCodeAt(0));

const SIGNATURES: [string, string][] = [
  ['\x89PNG', 'a PNG image'],
  ['\xff\xd8\xff', 'a JPEG image'],
  ['GIF8', 'a GIF image'],
  ['\x1f\x8b', 'a gzip file'],
  ['\x89HDF', 'an HDF5 file (Keras .h5 weights?)'],
  ['version https://git-lfs', 'a Git LFS pointer, not the weights themselves (run `git lfs pull`)'],
  ['<', 'an HTML or XML page (a failed download?)'],
];

export function identify(bytes: Uint8Array): FileKind {
  if (!bytes.length) return { container: null, description: 'an empty file' };
  if (startsWith(bytes, 'PK\x03\x04') || startsWith(bytes, 'PK\x05\x06')) return { container: 'zip', description: 'a zip archive' };
  if (bytes[0] === 0x80 && bytes.length > 1 && bytes[1] <= 5) return { container: 'pickle', description: 'a Python pickle' };
  if (bytes.length > 8 && bytes[8] === 0x7b) {
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
    if (headerLength <= BigInt(bytes.length - 8)) return { container: 'safetensors', description: 'a safetensors file' };
  }
  if (startsWith(bytes, 'RIFF') && startsWith(bytes, 'WEBP', 8)) return { container: null, description: 'a WebP image' };
  if (startsWith(bytes, 'ustar', 257)) return { container: null, description: 'a tar archive (PyTorch before 0.4 saved tar files, which are not supported)' };
  for (const [signature, description] of SIGNATURES) if (startsWith(bytes, signature)) return { container: null, description };
  const head = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return { container: null, description: `an unrecognised file (first bytes ${head})` };
}
