#!/usr/bin/env python3
"""One training step of the colorization GAN in PyTorch, timed: the peer of `npm run bench -- train`
(bench/suites/train.ts, src/train/trainer.ts) on the same GPU.

The networks of tools/torch_nets.py at the published sizes (or a reduced --width), random weights (a step's time
does not depend on them), batches of N random S² crops. The step is the trainer's (REFERENCE §6):
  D: BCE(D(y), 0.9) + BCE(D(G(x).detach()), 0)
  G: 10·(L1(G(x), y) + 0.9·L1(guide(x), y)) + BCE(D(G(x)), 1) + MSE(VGG(G(x)), VGG(y)) + white penalty
with Adam (0.5, 0.9), lr G 1e-4 / D 4e-4, the frozen extractor on the line art, D's parameters frozen during the
G update, and like the trainer one readback of the loss terms per update.

Needs PyTorch (GPU machines here have it; on Debian `apt-get install python3-torch` for a CPU check):
    python3 tools/torch-train-step.py --device cuda --crop 512 --batch 4 [--steps 10] [--no-tf32] [--json out.json]
    python3 tools/torch-train-step.py --device cpu --crop 32 --batch 1 --steps 1     (a quick check on a CPU)
Prints the median seconds per step; --json writes it with the settings and the device's name.
"""
import argparse
import json

import torch
import torch.nn.functional as F

from torch_nets import DiscriminatorV1, SEResNeXt, Vgg16Features, device_name, median_seconds, published_generator, set_precision

WHITE_THRESHOLD = 0.85

def white_penalty(output, target):
    """src/train/losses.ts whitePenalty: per image Σ(m·Σ_c (G + 1)/2)² / (3·Σm + 1), m = 1 off white pixels."""
    not_white = ((target > WHITE_THRESHOLD).sum(1, keepdim=True) < 3).float()
    brightness = (output.sum(1, keepdim=True) * 0.5 + 1.5) * not_white
    return ((brightness ** 2).sum((1, 2, 3)) / (not_white.sum((1, 2, 3)) * 3 + 1)).mean()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--crop', type=int, default=512)
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--width', type=int, default=64, help='network width (64: published; the cardinalities need ≥ 32)')
    parser.add_argument('--steps', type=int, default=10, help='timed steps after two warm-up steps')
    parser.add_argument('--no-tf32', action='store_true', help='strict fp32: cuDNN convolutions without TF32 (PyTorch default: TF32 convolutions)')
    parser.add_argument('--json', help='write the result here')
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    set_precision(tf32=not args.no_tf32)

    generator = published_generator(args.width).to(device).train()
    discriminator = DiscriminatorV1(args.width, 8).to(device).train()
    extractor = SEResNeXt(1, args.width, 32, [3, 4]).to(device).eval().requires_grad_(False)
    vgg = Vgg16Features(args.width).to(device).eval().requires_grad_(False)
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=1e-4, betas=(0.5, 0.9))
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=4e-4, betas=(0.5, 0.9))
    n, s = args.batch, args.crop

    def batch():
        x = torch.rand(n, 6, s, s, device=device) * 2 - 1
        y = torch.rand(n, 3, s, s, device=device) * 2 - 1
        return x, y

    def generate(x):
        with torch.no_grad():
            features = extractor(x[:, :1])[-1]
        return generator(x, features)

    def step():
        x, y = batch()
        # D on real colour vs the generator's output without its graph.
        with torch.no_grad():
            fake, _ = generate(x)
        real_logits, fake_logits = discriminator(y), discriminator(fake)
        loss_d = (F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, 0.9))
                  + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
        optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        optimizer_d.step()
        d_terms = loss_d.item()
        # G with every term; D's parameters record no gradient.
        x, y = batch()
        discriminator.requires_grad_(False)
        image, guide = generate(x)
        logits = discriminator(image)
        loss_g = (10 * (F.l1_loss(image, y) + 0.9 * F.l1_loss(guide, y))
                  + F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
                  + F.mse_loss(vgg(image), vgg(y).detach()) + white_penalty(image, y))
        optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        optimizer_g.step()
        discriminator.requires_grad_(True)
        return d_terms, loss_g.item()

    median, losses = median_seconds(step, device, args.steps, warmup=2)
    name = device_name(device)
    result = dict(peer=f'PyTorch {torch.__version__}', precision='fp32' if args.no_tf32 else 'tf32 convolutions (default)', device=name, crop=s, batch=n, width=args.width, steps=args.steps,
                  seconds_per_step=median, steps_per_second=1 / median, last_losses=dict(d=losses[0], g=losses[1]))
    print(f'{name}: {median:.3f} s per step ({s}² × {n}, width {args.width}; median of {args.steps}), losses D {losses[0]:.3f} G {losses[1]:.3f}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)


if __name__ == '__main__':
    main()
