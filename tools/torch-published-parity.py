#!/usr/bin/env python3
"""PyTorch's side of the published-size parity check (`npm run torch-parity`, part of tools/gpu-check.sh): the
published v1 generator at full size, where the committed fixtures of tools/make-torch-references.py are reduced.

Writes to OUT (torch.save files, read by src/io/torch.ts):
  generator.weights.pt  the generator's random weights (seeded; Xavier-uniform convolutions, biases in ±0.1)
  forward.io.pt         eval mode on one page of --size W×H: input, features, image
  train.io.pt           train mode on --batch × --crop²: input, features, target, image, guide, the loss
                        10·(L1(image, target) + 0.9·L1(guide, target)) (REFERENCE §6's L1 and guide terms), and per
                        parameter the norm of its gradient, as `grad_norm.<parameter name>`
Strict fp32 (no TF32), as our kernels compute. Also prints PyTorch's own fp32 error against the same network in
float64 on the same device: the noise floor the check's tolerances are set against.

    python3 tools/torch-published-parity.py OUT --device cuda                       (published: 512×768, 512² × 2)
    python3 tools/torch-published-parity.py OUT --device cpu --size 64x96 --crop 64 --batch 1 --width 32   (quick)
"""
import argparse
import copy
import os

import torch
import torch.nn.functional as F

from torch_nets import contiguous, published_generator, randomize, set_precision


def inputs(n, h, w, feature_channels, device):
    """A generator input as the trainer builds it: line art, distance field, hint colours in ±1 under a sparse mask."""
    line, distance = torch.rand(n, 1, h, w, device=device), torch.rand(n, 1, h, w, device=device)
    mask = (torch.rand(n, 1, h, w, device=device) > 0.99).float()
    x = torch.cat([line, distance, (2 * torch.rand(n, 3, h, w, device=device) - 1) * mask, mask], 1)
    features = F.relu(torch.randn(n, feature_channels, h // 8, w // 8, device=device))  # the extractor ends in ReLU
    return x, features


def loss_of(image, guide, target):
    return 10 * (F.l1_loss(image, target) + 0.9 * F.l1_loss(guide, target))


def noise_floor(name, out32, out64):
    scale = out64.abs().max().item()
    err = (out32.double() - out64).abs().max().item()
    print(f'  {name:<8} {tuple(out32.shape)!s:<22} max|y| {scale:8.4g}  std {out32.std().item():8.4g}  '
          f'torch fp32 vs fp64: max err / max|y| = {err / scale:.2e}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--size', default='512x768', help='the forward\'s page W×H (multiples of 16)')
    parser.add_argument('--crop', type=int, default=512, help='the training step\'s square crop')
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--width', type=int, default=64, help='network width (64: published; the cardinalities need ≥ 32)')
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    device = torch.device(args.device)
    set_precision(tf32=False)
    torch.manual_seed(7)
    model = published_generator(args.width)
    randomize(model, xavier_gain=1.0)
    model = model.to(device)
    model64 = copy.deepcopy(model).double()
    torch.save(contiguous(model.state_dict()), os.path.join(args.out, 'generator.weights.pt'))
    channels = 8 * args.width

    w, h = (int(v) for v in args.size.lower().split('x'))
    x, features = inputs(1, h, w, channels, device)
    with torch.no_grad():
        image, _ = model.eval()(x, features)
        image64, _ = model64.eval()(x.double(), features.double())
    print(f'forward {w}x{h} (eval), torch {torch.__version__} on {args.device}')
    noise_floor('image', image, image64)
    torch.save(contiguous({'input': x, 'features': features, 'image': image}), os.path.join(args.out, 'forward.io.pt'))

    n, s = args.batch, args.crop
    x, features = inputs(n, s, s, channels, device)
    target = 2 * torch.rand(n, 3, s, s, device=device) - 1
    image, guide = model.train()(x, features)
    loss = loss_of(image, guide, target)
    loss.backward()
    image64, guide64 = model64.train()(x.double(), features.double())
    loss_of(image64, guide64, target.double()).backward()
    print(f'training step {s}² × {n}: loss {loss.item():.6f}')
    noise_floor('image', image, image64)
    noise_floor('guide', guide, guide64)
    worst = max(abs(p.grad.norm().item() / q.grad.norm().item() - 1) for p, q in zip(model.parameters(), model64.parameters()) if q.grad.norm() > 0)
    print(f'  gradient norms of {sum(1 for _ in model.parameters())} parameters: torch fp32 vs fp64 worst relative error {worst:.2e}')
    io = {'input': x, 'features': features, 'target': target, 'image': image, 'guide': guide, 'loss': loss.reshape(1)}
    io.update({f'grad_norm.{name}': p.grad.norm().reshape(1) for name, p in model.named_parameters()})
    torch.save(contiguous(io), os.path.join(args.out, 'train.io.pt'))
    print(f'wrote {args.out}/generator.weights.pt, forward.io.pt, train.io.pt')


if __name__ == '__main__':
    main()
