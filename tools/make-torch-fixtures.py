#!/usr/bin/env python3
"""Writes small PyTorch checkpoints the way torch.save does, without torch, for test/torch.test.ts.

The pickles are produced by Python's own pickler (as torch.save's are) from stand-ins for torch's objects:
fake modules `torch`, `torch._utils` and `torch._tensor` registered in sys.modules, so the pickler writes the
same GLOBAL opcodes ('torch._utils' '_rebuild_tensor_v2', 'torch' 'FloatStorage', ...), tensors that reduce
exactly as torch.Tensor.__reduce_ex__ does, and the persistent_id functions of torch/serialization.py (`_save`
for the zip format, `_legacy_save` for the legacy one), storage keys, locations and memo sharing included.
Zip archives follow torch's PyTorchStreamWriter: stored (uncompressed) records whose data start on a 64-byte
boundary, padded through an 'FB' extra field.

Expected values are decoded here from the raw storage bytes with `struct` and gathered through each tensor's
offset and strides in Python, independently of the TypeScript reader; they go to expected.json.

Usage: python3 tools/make-torch-fixtures.py [out_dir]   (default: test/fixtures/torch)
"""
import argparse
import collections
import io
import json
import os
import pickle
import struct
import sys
import types
import zipfile

# --- stand-ins for the parts of torch that torch.save pickles by name -------------------------------------

def fake_module(name):
    module = types.ModuleType(name)
    sys.modules[name] = module
    return module


torch = fake_module('torch')
torch_utils = fake_module('torch._utils')
torch_tensor = fake_module('torch._tensor')
torch._utils = torch_utils
torch._tensor = torch_tensor


def fake_function(module, name):
    def fn(*args):
        raise RuntimeError('stand-in, only pickled')
    fn.__module__ = module.__name__
    fn.__name__ = fn.__qualname__ = name
    setattr(module, name, fn)
    return fn


_rebuild_tensor_v2 = fake_function(torch_utils, '_rebuild_tensor_v2')
_rebuild_tensor_v3 = fake_function(torch_utils, '_rebuild_tensor_v3')
_rebuild_parameter = fake_function(torch_utils, '_rebuild_parameter')
_rebuild_from_type_v2 = fake_function(torch_tensor, '_rebuild_from_type_v2')
TorchTensorType = type('Tensor', (), {'__module__': 'torch'})
torch.Tensor = TorchTensorType


class DType:
    """torch.dtype: pickled by name (its __reduce__ returns the attribute name in module torch)."""
    __module__ = 'torch'

    def __init__(self, name, storage, fmt, size):
        self.name, self.storage_name, self.fmt, self.size = name, storage, fmt, size

    def __reduce__(self):
        return self.name


DTYPES = {}
for name, storage, fmt, size in [
    ('float32', 'FloatStorage', '<f', 4),
    ('float16', 'HalfStorage', '<e', 2),
    ('bfloat16', 'BFloat16Storage', None, 2),
    ('float64', 'DoubleStorage', '<d', 8),
    ('int64', 'LongStorage', '<q', 8),
]:
    DTYPES[name] = DType(name, storage, fmt, size)
    setattr(torch, name, DTYPES[name])
    setattr(torch, storage, type(storage, (), {'__module__': 'torch'}))
torch.UntypedStorage = type('UntypedStorage', (), {'__module__': 'torch'})


def encode(dtype, values):
    if dtype.name == 'bfloat16':  # the upper half of the float32 (values below are exact in bfloat16)
        return b''.join(struct.pack('<f', v)[2:] for v in values)
    return b''.join(struct.pack(dtype.fmt, v) for v in values)


def decode(dtype, raw):
    n = len(raw) // dtype.size
    if dtype.name == 'bfloat16':
        return [struct.unpack('<f', b'\0\0' + raw[2 * i:2 * i + 2])[0] for i in range(n)]
    return [struct.unpack_from(dtype.fmt, raw, dtype.size * i)[0] for i in range(n)]


_cdata = iter(range(94_000_000_000_000, 95_000_000_000_000, 4096))


class Storage:
    """A typed storage: its dtype, raw little-endian bytes and a fake C pointer (legacy files key by it)."""

    def __init__(self, dtype, values, untyped=False):
        self.dtype, self.raw, self.untyped = dtype, encode(dtype, values), untyped
        self.cdata = next(_cdata)

    def numel(self):
        return len(self.raw) // self.dtype.size


def contiguous_strides(size):
    strides, s = [], 1
    for d in reversed(size):
        strides.insert(0, s)
        s *= d
    return strides


class Tensor:
    """Reduces as torch.Tensor.__reduce_ex__ does for a plain tensor (torch/_tensor.py, _reduce_ex_internal)."""

    def __init__(self, storage, offset, size, stride=None):
        self.storage, self.offset, self.size = storage, offset, tuple(size)
        self.stride = tuple(contiguous_strides(size) if stride is None else stride)

    def __reduce_ex__(self, proto):
        hooks = collections.OrderedDict()
        if self.storage.untyped:
            return (_rebuild_tensor_v3, (self.storage, self.offset, self.size, self.stride, False, hooks, self.storage.dtype))
        return (_rebuild_tensor_v2, (self.storage, self.offset, self.size, self.stride, False, hooks))

    def expected(self):
        """Row-major values, gathered through offset and strides; int64 as strings (JSON loses > 2**53)."""
        values = decode(self.storage.dtype, self.storage.raw)
        out = []

        def walk(dim, at):
            if dim == len(self.size):
                out.append(values[at])
                return
            for i in range(self.size[dim]):
                walk(dim + 1, at + i * self.stride[dim])

        walk(0, self.offset)
        if self.storage.dtype.name == 'int64':
            out = [str(v) for v in out]
        elif self.storage.dtype.name == 'float64':  # the reader converts to float32
            out = [struct.unpack('<f', struct.pack('<f', v))[0] for v in out]
        dtype = {'float32': 'F32', 'float16': 'F16', 'bfloat16': 'BF16', 'float64': 'F64', 'int64': 'I64'}[self.storage.dtype.name]
        return {'dtype': dtype, 'shape': list(self.size), 'values': out}


class Parameter(Tensor):
    """nn.Parameter.__reduce_ex__ without Python state: _rebuild_parameter(data, requires_grad, hooks)."""

    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (Tensor(self.storage, self.offset, self.size, self.stride), True, collections.OrderedDict()))


class TensorWithState(Tensor):
    """A tensor carrying Python attributes: _rebuild_from_type_v2(func, type, args, state)."""

    def __reduce_ex__(self, proto):
        func, args = Tensor.__reduce_ex__(self, proto)
        return (_rebuild_from_type_v2, (func, TorchTensorType, args, {'note': 'kept by PyTorch, dropped by the reader'}))


def location_tag(storage):
    return 'cpu'  # one constant object, as torch's _cpu_tag returns, so the pickler memoizes it


# --- torch/serialization.py: _save (zip) and _legacy_save ----------------------------------------------

def pickle_zip(obj):
    """data.pkl and the storages as torch's _save produces them."""
    serialized_storages, id_map = {}, {}

    def persistent_id(obj):
        if isinstance(obj, Storage):
            storage_type = torch.UntypedStorage if obj.untyped else getattr(torch, obj.dtype.storage_name)
            numel = len(obj.raw) if obj.untyped else obj.numel()
            key = id_map.setdefault(obj.cdata, str(len(id_map)))
            serialized_storages[key] = obj
            return ('storage', storage_type, key, location_tag(obj), numel)
        return None

    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=2)
    pickler.persistent_id = persistent_id
    pickler.dump(obj)
    return buf.getvalue(), serialized_storages


def write_torch_zip(path, obj, archive, layout):
    """PyTorchStreamWriter: records in torch's order, stored, data aligned to 64 bytes."""
    data_pkl, storages = pickle_zip(obj)
    records = [('data.pkl', data_pkl)]
    if layout == 'torch2':
        records += [('.format_version', b'1'), ('.storage_alignment', b'64'), ('byteorder', b'little')]
    records += [(f'data/{key}', storages[key].raw) for key in sorted(storages)]
    records.append(('version', b'3\n'))
    if layout == 'torch2':
        records.append(('.data/serialization_id', b'1234567890123456789012345678901234567890'))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_STORED) as zf:
        for name, data in records:
            full = f'{archive}/{name}'
            start = buf.tell() + 30 + len(full.encode()) + 4  # local header, name, 'FB' + length
            padding = -start % 64
            info = zipfile.ZipInfo(full, date_time=(1980, 1, 1, 0, 0, 0))
            info.extra = b'FB' + struct.pack('<H', padding) + b'Z' * padding
            zf.writestr(info, data)
    with open(path, 'wb') as f:
        f.write(buf.getvalue())


LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
LEGACY_PROTOCOL = 1001


def write_torch_legacy(path, obj, views=()):
    """_legacy_save: magic, protocol, sys info, the object, the sorted storage keys, then each storage.

    `views` lists (tensor, root, offset, size): tensors over a storage view, as PyTorch < 0.4 could save."""
    serialized_storages = {}
    view_of = {id(t.storage): (root, offset, size) for t, root, offset, size in views}

    def persistent_id(obj):
        if isinstance(obj, Storage):
            view = view_of.get(id(obj))
            root = view[0] if view else obj
            key = str(root.cdata)
            serialized_storages.setdefault(key, root)
            view_metadata = (str(obj.cdata), view[1], view[2]) if view else None
            return ('storage', getattr(torch, root.dtype.storage_name), key, location_tag(root), root.numel(), view_metadata)
        return None

    f = io.BytesIO()
    sys_info = dict(protocol_version=LEGACY_PROTOCOL, little_endian=True, type_sizes=dict(short=2, int=4, long=4))
    pickle.dump(LEGACY_MAGIC, f, protocol=2)
    pickle.dump(LEGACY_PROTOCOL, f, protocol=2)
    pickle.dump(sys_info, f, protocol=2)
    pickler = pickle.Pickler(f, protocol=2)
    pickler.persistent_id = persistent_id
    pickler.dump(obj)
    keys = sorted(serialized_storages.keys())
    pickle.dump(keys, f, protocol=2)
    for key in keys:
        storage = serialized_storages[key]
        f.write(struct.pack('<q', storage.numel()))  # element count, then the raw bytes
        f.write(storage.raw)
    with open(path, 'wb') as out:
        out.write(f.getvalue())


# --- the state dicts --------------------------------------------------------------------------------

F32, F16, BF16, F64, I64 = (DTYPES[n] for n in ('float32', 'float16', 'bfloat16', 'float64', 'int64'))


def ramp(n, scale, shift):
    """Distinct, non-trivial float32 values."""
    return [struct.unpack('<f', struct.pack('<f', (i * scale + shift) * (-1) ** i))[0] for i in range(n)]


def state_dict(entries, versions):
    """An OrderedDict with `_metadata`, as nn.Module.state_dict() returns it."""
    sd = collections.OrderedDict(entries)
    sd._metadata = collections.OrderedDict((prefix, {'version': v}) for prefix, v in versions)
    return sd


def full_state_dict():
    shared = Storage(F32, ramp(10, 0.37, -1.1))
    transposed = Storage(F32, ramp(6, 1.25, 0.5))
    tied = Tensor(Storage(F32, ramp(4, 0.5, 2.0)), 0, (2, 2))
    entries = [
        ('conv.weight', Tensor(Storage(F32, ramp(24, 0.11, 0.3)), 0, (2, 3, 2, 2))),
        ('conv.bias', Tensor(Storage(F32, [0.25, -7.5]), 0, (2,))),
        # two views of one storage at different offsets, the second one strided
        ('shared.a', Tensor(shared, 1, (2, 3))),
        ('shared.b', Tensor(shared, 7, (2,), (2,))),
        # a transposed (non-contiguous) weight: size (3, 2), strides (1, 3)
        ('linear.weight', Tensor(transposed, 0, (3, 2), (1, 3))),
        # an expanded tensor (stride 0)
        ('expanded', Tensor(Storage(F32, [1.5, -2.5, 3.5]), 0, (2, 3), (0, 1))),
        ('scale', Tensor(Storage(F32, [2.5]), 0, ())),
        ('half.weight', Tensor(Storage(F16, [1.0, -2.5, 65504.0, 2.0 ** -24, 0.333251953125, -0.0]), 0, (2, 3))),
        ('bf16.weight', Tensor(Storage(BF16, [1.5, -3.140625, 256.0, 2.0 ** -100]), 0, (4,))),
        ('double.weight', Tensor(Storage(F64, [0.1, -1.0 / 3.0, 1e30]), 0, (3,))),
        ('bn.num_batches_tracked', Tensor(Storage(I64, [12345678901]), 0, ())),
        ('index', Tensor(Storage(I64, [-1, 0, 2 ** 62 + 3]), 0, (3,))),
        ('empty', Tensor(Storage(F32, []), 0, (0, 4))),
        # one tensor object under two names (tied weights): the second is a memo reference
        ('encoder.weight', tied),
        ('decoder.weight', tied),
    ]
    versions = [('', 1), ('conv', 1), ('shared', 1), ('linear', 1), ('half', 1), ('bf16', 1), ('double', 1), ('bn', 2), ('encoder', 1), ('decoder', 1)]
    return state_dict(entries, versions)


def small_state_dict(prefix=''):
    entries = [
        (prefix + 'conv.weight', Tensor(Storage(F32, ramp(8, 0.75, -0.2)), 0, (2, 1, 2, 2))),
        (prefix + 'conv.bias', Tensor(Storage(F32, [0.5, -0.125]), 0, (2,))),
        (prefix + 'bn.running_mean', Tensor(Storage(F32, [0.0625, 4.0]), 0, (2,))),
        (prefix + 'bn.num_batches_tracked', Tensor(Storage(I64, [42]), 0, ())),
    ]
    return state_dict(entries, [('', 1), (prefix + 'conv', 1), (prefix + 'bn', 2)])


def rebuild_forms():
    """The other ways torch pickles tensors: Parameters, tensors with Python state, UntypedStorage + dtype."""
    return collections.OrderedDict([
        ('param', Parameter(Storage(F32, ramp(6, 0.2, 1.0)), 0, (2, 3))),
        ('with_state', TensorWithState(Storage(F32, [9.0, -8.5]), 0, (2,))),
        ('untyped.half', Tensor(Storage(F16, [0.5, -1.5, 3.0, 1024.0], untyped=True), 1, (3,))),
    ])


def expected_of(sd, strip=''):
    out = collections.OrderedDict()
    for name, t in sd.items():
        out[name[len(strip):] if strip and name.startswith(strip) else name] = t.expected()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', nargs='?', default=os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'torch'))
    out_dir = parser.parse_args().out_dir
    os.makedirs(out_dir, exist_ok=True)
    expected = collections.OrderedDict()

    def record(file, key, stripped, sd, key_option=None):
        expected[file] = {'key': key, 'strippedPrefix': stripped, 'tensors': expected_of(sd, stripped or '')}
        if key_option is not None:
            expected[file]['keyOption'] = key_option  # the reader must be told which state dict to take

    full = full_state_dict()
    write_torch_zip(os.path.join(out_dir, 'zip.pt'), full, 'archive', 'torch2')
    record('zip.pt', '', None, full)

    nested = small_state_dict('module.')
    checkpoint = {
        'epoch': 7,
        'state_dict': nested,
        'optimizer': {'state': {}, 'param_groups': [{'lr': 0.0002, 'betas': (0.5, 0.999), 'params': [0, 1, 2, 3]}]},
        'best_loss': 0.25,
    }
    # Older torch named the archive after the file (checkpoint.pth → 'checkpoint/') and wrote no byteorder.
    write_torch_zip(os.path.join(out_dir, 'zip-nested.pt'), checkpoint, 'checkpoint', 'torch1.6')
    record('zip-nested.pt', 'state_dict', 'module.', nested)

    forms = rebuild_forms()
    write_torch_zip(os.path.join(out_dir, 'zip-forms.pt'), forms, 'archive', 'torch2')
    record('zip-forms.pt', '', None, forms)

    legacy = full_state_dict()
    root = Storage(F32, ramp(8, 0.6, -0.9))
    view = Storage(F32, decode(F32, root.raw)[2:6])
    legacy['legacy.view'] = Tensor(view, 1, (2,))
    write_torch_legacy(os.path.join(out_dir, 'legacy.pt'), legacy, views=[(legacy['legacy.view'], root, 2, 4)])
    record('legacy.pt', '', None, legacy)

    model = small_state_dict('module.')
    write_torch_legacy(os.path.join(out_dir, 'legacy-nested.pt'), {'model': model, 'iteration': 1000})
    record('legacy-nested.pt', 'model', 'module.', model)

    # Two state dicts (a GAN's generator and discriminator) and optimizer state holding tensors: ambiguous
    # without a key; the optimizer's dicts of tensors are never candidates.
    generator, discriminator = small_state_dict(), small_state_dict()
    moments = {'exp_avg': Tensor(Storage(F32, [0.5]), 0, (1,)), 'step': Tensor(Storage(F32, [3.0]), 0, ())}
    write_torch_zip(os.path.join(out_dir, 'zip-two.pt'), {'G': generator, 'D': discriminator, 'optimizer_G': {'state': {0: moments}}}, 'archive', 'torch2')
    record('zip-two.pt', 'D', None, discriminator, key_option='D')

    # Not a plain state dict: the training arguments are pickled as an argparse.Namespace object.
    write_torch_zip(os.path.join(out_dir, 'zip-namespace.pt'), {'args': argparse.Namespace(lr=0.1), 'state_dict': small_state_dict()}, 'archive', 'torch2')

    with open(os.path.join(out_dir, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
