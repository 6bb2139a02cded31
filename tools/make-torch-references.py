#!/usr/bin/env python3
"""Writes PyTorch's own forwards of our networks at reduced sizes, for test/torch-parity.test.ts.

The networks of REFERENCE §3-5, §6 (VGG16 features) and §8 are rebuilt here from PyTorch's layers (nn.Conv2d with
groups and dilation, nn.ConvTranspose2d, nn.PixelShuffle, torch.nn.utils.spectral_norm, nn.BatchNorm2d in eval,
nn.DataParallel for FFDNet's `module.` prefix, ...), with the published state-dict names, so that PyTorch, not
our kernels or our float64 references, defines the expected numbers. Weights and inputs are seeded and random
(batch-norm statistics and biases non-trivial). For each network two files go to the output folder:
  <net>.weights.pt  the state dict, as torch.save writes it (what src/io/torch.ts must read);
  <net>.io.pt       a flat dict of tensors: the inputs, the float32 outputs, and for the discriminator the
                    spectral-norm u, v after its training forward.
The configurations must equal the ones in test/torch-parity.test.ts.

Needs PyTorch; CI does not (the fixtures are committed). On Debian: `apt-get install python3-torch`, then
    /usr/bin/python3 tools/make-torch-references.py [out_dir]    (default: test/fixtures/torch)
It also prints, per output, PyTorch's own float32 error against the same network run in float64: the float32
noise floor the test's tolerance is set against.
"""
import argparse
import copy
import os

import torch
import torch.nn.functional as F
from torch import nn

from torch_nets import FFDNet, DiscriminatorV1, GeneratorV1, SEResNeXt, Vgg16Features, contiguous, denoise, published, randomize

# Fixture sizes; they must equal the configurations in test/torch-parity.test.ts.
GENERATOR = dict(
    input_channels=6,
    encoder_widths=[8, 16, 24, 32, 32],
    feature_channels=16,
    # tunnel4, tunnel3, tunnel2, tunnel1: (width, cardinality, dilations)
    tunnels=[(32, 4, [1, 2]), (32, 2, [4]), (16, 2, [1, 2]), (16, 8, [2])],
)
DISCRIMINATOR = dict(width=16, cardinality=8)
EXTRACTOR = dict(input_channels=1, width=8, cardinality=8, stages=[2, 2])
VGG_WIDTH = 16
FFDNET = dict(width=16, layers=4)
SIGMA = 25 / 255


# --- weights, inputs and the files ----------------------------------------------------------------------------

def report(name, out32, out64):
    scale = out64.abs().max().item()
    err = (out32.double() - out64).abs().max().item()
    print(f'  {name:<28} {tuple(out32.shape)!s:<20} max|y| {scale:9.4g}  std {out32.std().item():9.4g}  '
          f'torch f32 vs f64: max err / max|y| = {err / scale:.2e}')


def run_in_both(model, *inputs):
    """The float32 forward (the fixture) and the same forward in float64 (printed only)."""
    model64 = copy.deepcopy(model).double()
    with torch.no_grad():
        out32 = model(*inputs)
        out64 = model64(*(x.double() for x in inputs))
    return out32, out64, model64


def save(out_dir, net, weights, io):
    for kind, tensors in (('weights', weights), ('io', io)):
        path = os.path.join(out_dir, f'{net}.{kind}.pt')
        torch.save(contiguous(tensors), path)
        print(f'  {path}: {os.path.getsize(path):,} bytes, {sum(t.numel() for t in tensors.values()):,} values')


def generator_fixture(out_dir):
    torch.manual_seed(1)
    model = GeneratorV1(**GENERATOR)
    # Gain 1.5: with gain 1 the random network attenuates each decoder stage so much that a 1% error in tunnel4
    # moved the image by 1e-4 of its scale; at 1.5 a 1% change of any stage moves it by ~1% (and nothing saturates).
    randomize(model, xavier_gain=1.5)
    n, h, w = 2, 64, 64
    line, distance = torch.rand(n, 1, h, w), torch.rand(n, 1, h, w)
    mask = (torch.rand(n, 1, h, w) > 0.9).float()
    x = torch.cat([line, distance, (2 * torch.rand(n, 3, h, w) - 1) * mask, mask], 1)
    features = F.relu(torch.randn(n, GENERATOR['feature_channels'], h // 8, w // 8))  # the extractor ends in ReLU
    weights = model.state_dict()
    (image, guide), (image64, guide64), _ = run_in_both(model.train(), x, features)
    report('image', image, image64)
    report('guide', guide, guide64)
    save(out_dir, 'generator-v1', weights, {'input': x, 'features': features, 'image': image, 'guide': guide})


def discriminator_fixture(out_dir):
    torch.manual_seed(2)
    model = DiscriminatorV1(**DISCRIMINATOR)
    randomize(model, xavier_gain=1.0)
    with torch.no_grad():  # the pooled features are ~1e-2: a larger `out` makes the logits depend on them, not just the bias
        model.out.weight.mul_(50)
    color = 2 * torch.rand(3, 3, 40, 40) - 1  # 40 → 19 → 9 → 4 → 2, padded to 4 → 2: odd sizes and the padded 1×1 conv
    weights = published(copy.deepcopy(model.state_dict()))  # u, v before the forward
    features = []  # the hook is copied with the model: the float32 forward's output, then the float64 one's
    model.feed.register_forward_hook(lambda module, inputs, output: features.append(output))
    logits, logits64, model64 = run_in_both(model.train(), color)  # train(): one power iteration per spectral norm
    feed, feed64 = features
    report('feed', feed, feed64)
    report('logits', logits, logits64)
    after = {k: v for k, v in published(model.state_dict()).items() if k.endswith(('.weight_u', '.weight_v'))}
    after64 = {k: v for k, v in published(model64.state_dict()).items() if k.endswith(('.weight_u', '.weight_v'))}
    moved = max((after[k] - weights[k]).abs().max().item() for k in after)
    err = max((after[k].double() - after64[k]).abs().max().item() for k in after)
    print(f'  u, v: {len(after)} vectors, moved by up to {moved:.3g}; torch f32 vs f64: max err {err:.2e}')
    save(out_dir, 'discriminator-v1', weights, {'input': color, 'feed': feed, 'logits': logits, **after})


def extractor_fixture(out_dir):
    torch.manual_seed(3)
    model = SEResNeXt(**EXTRACTOR)
    randomize(model)
    line = torch.rand(2, 1, 36, 28)  # odd sizes past the stride-2 stages: padding of the stem, pool and layer2
    weights = model.state_dict()
    outs, outs64, _ = run_in_both(model.eval(), line)
    for name, o, o64 in zip(['stem', 'layer1', 'layer2'], outs, outs64):
        report(name, o, o64)
    save(out_dir, 'extractor', weights, {'input': line, 'stem': outs[0], 'layer1': outs[1], 'layer2': outs[2]})


def vgg_fixture(out_dir):
    torch.manual_seed(4)
    model = Vgg16Features(VGG_WIDTH)
    randomize(model)
    image = 2 * torch.rand(2, 3, 17, 13) - 1  # odd: max pooling floors
    weights = model.state_dict()
    out, out64, _ = run_in_both(model.eval(), image)
    report('relu2_2', out, out64)
    save(out_dir, 'vgg16', weights, {'input': image, 'relu2_2': out})


def ffdnet_fixture(out_dir):
    torch.manual_seed(5)
    model = nn.DataParallel(FFDNet(**FFDNET))  # as published: every name starts with `module.`
    randomize(model)
    with torch.no_grad():  # a small predicted noise, so that the clamp leaves most pixels alone
        model.module.intermediate_dncnn.itermediate_dncnn[-1].weight.mul_(0.1)
    image = torch.rand(2, 3, 9, 7)  # odd both ways: the replicated row and column
    sigma = torch.tensor(SIGMA)
    weights = model.state_dict()
    model.eval()
    model64 = copy.deepcopy(model).double()
    with torch.no_grad():
        padded, noise, out = denoise(model, image, sigma)
        _, noise64, out64 = denoise(model64, image.double(), sigma.double())
    report('noise', noise, noise64)
    report('output', out, out64)
    clamped = ((out == 0) | (out == 1)).float().mean().item()
    print(f'  clamped: {clamped:.1%} of the output')
    save(out_dir, 'ffdnet', weights, {'input': image, 'sigma': sigma, 'padded': padded, 'noise': noise, 'output': out})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', nargs='?', default=os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'torch'))
    out_dir = parser.parse_args().out_dir
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)  # one accumulation order, the same on every machine
    for name, make in [('generator-v1', generator_fixture), ('discriminator-v1', discriminator_fixture), ('extractor', extractor_fixture),
                       ('vgg16', vgg_fixture), ('ffdnet', ffdnet_fixture)]:
        print(f'{name} (torch {torch.__version__})')
        make(out_dir)


if __name__ == '__main__':
    main()
