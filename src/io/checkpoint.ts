// One entry point for weight files: recognises safetensors, PyTorch zip and legacy checkpoints by their bytes
// (not their extension) and returns their tensors by name, with a DataParallel `module.` prefix removed.
import { readSafetensors } from './safetensors.js';
import { identify } from './sniff.js';
import { stripPrefix, type StoredTensors } from './stored-tensors.js';
import { readTorchCheckpoint } from './torch.js';

export type CheckpointFormat = 'safetensors' | 'torch-zip' | 'torch-legacy';

export const FORMAT_NAMES: Readonly<Record<CheckpointFormat, string>> = {
  safetensors: 'safetensors',
  'torch-zip': 'PyTorch zip checkpoint (torch.save ≥ 1.6)',
  'torch-legacy': 'PyTorch legacy checkpoint (torch.save < 1.6)',
};

export interface Checkpoint {
  format: CheckpointFormat;
  tensors: StoredTensors;
  /** Key path of the state dict inside a PyTorch checkpoint dict ("" when the file is the state dict). */
  key: string;
  /** The prefix removed from every name (`module.`), or null. */
  strippedPrefix: string | null;
  /** safetensors `__metadata__` (empty for PyTorch files). */
  metadata: Record<string, string>;
}

export interface CheckpointReadOptions {
  /** Always return owned data; by default float32 tensors may be views of `bytes` (aligned, contiguous ones). */
  copy?: boolean;
  /** PyTorch only: "/"-separated key path of the state dict inside a checkpoint dict. */
  key?: string;
  /** Remove a `module.` prefix that every name carries. Default true. */
  stripModulePrefix?: boolean;
}

export function readCheckpoint(bytes: Uint8Array, { copy = false, key, stripModulePrefix = true }: CheckpointReadOptions = {}): Checkpoint {
  const kind = identify(bytes);
  if (kind.container === 'safetensors') {
    if (key) throw new Error(`A safetensors file holds one flat state dict; there is no key "${key}" to choose.`);
    const read = readSafetensors(bytes, { copy });
    const { tensors, stripped } = stripModulePrefix ? stripPrefix(read.tensors) : { tensors: read.tensors, stripped: null };
    return { format: 'safetensors', tensors, key: '', strippedPrefix: stripped, metadata: read.metadata };
  }
  if (kind.container === 'zip' || kind.container === 'pickle') {
    const read = readTorchCheckpoint(bytes, { copy, key, stripModulePrefix });
    return { format: read.container === 'zip' ? 'torch-zip' : 'torch-legacy', tensors: read.tensors, key: read.key, strippedPrefix: read.strippedPrefix, metadata: {} };
  }
  throw new Error(`Not a weights file: this is ${kind.description}. Expected safetensors or a PyTorch checkpoint (.pth/.pt/.bin from torch.save).`);
}
