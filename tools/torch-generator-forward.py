#!/usr/bin/env python3
"""The published v1 generator's forward in PyTorch, timed: the peer of `npm run bench -- nets` (bench/suites/nets.ts)
on the same GPU.

The generator of tools/torch_nets.py at the published sizes (or a reduced --width), random weights, eval mode, one
page of --size W×H with the extractor's features at 1/8 of it. Timed in both of PyTorch's fp32 modes (strict IEEE
fp32, what our kernels compute, and its default with TF32 convolutions), cudnn.benchmark on, the median of --runs
after --warmup runs, each run waited for with torch.cuda.synchronize().

    python3 tools/torch-generator-forward.py --device cuda [--size 512x768] [--json out.json]
    python3 tools/torch-generator-forward.py --device cpu --size 64x64 --width 32 --runs 2   (a check on a CPU)
    python3 tools/torch-generator-forward.py --device cpu --serve   (bench/peers/torch.ts: "ready <torch version>",
        then one strict fp32 forward per "run" line on stdin, answered "done", so the bench harness times it like any peer)
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

from torch_nets import device_name, median_seconds, published_generator, set_precision


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--size', default='512x768', help='page W×H (multiples of 16)')
    parser.add_argument('--width', type=int, default=64, help='network width (64: published; the cardinalities need ≥ 32)')
    parser.add_argument('--runs', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--json', help='write the result here')
    parser.add_argument('--serve', action='store_true', help='answer "run" lines on stdin with one forward each')
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.lower().split('x'))
    device = torch.device(args.device)
    if device.type == 'cpu':
        # Every core this process may run on, as llvmpipe uses them: some builds start with one OpenMP thread.
        torch.set_num_threads(len(os.sched_getaffinity(0)))
    torch.manual_seed(0)
    generator = published_generator(args.width).to(device).eval().requires_grad_(False)
    x = torch.rand(1, 6, h, w, device=device)
    features = F.relu(torch.randn(1, 8 * args.width, h // 8, w // 8, device=device))

    def forward():
        with torch.no_grad():
            return generator(x, features)

    if args.serve:
        set_precision(False)
        print('ready', torch.__version__, flush=True)
        for line in sys.stdin:
            if line.strip() != 'run':
                break
            forward()
            if device.type == 'cuda':
                torch.cuda.synchronize()
            print('done', flush=True)
        return

    result = dict(peer=f'PyTorch {torch.__version__}', size=f'{w}x{h}', width=args.width, runs=args.runs, device=device_name(device))
    for name, tf32 in (('fp32_ms', False), ('tf32_ms', True)):
        set_precision(tf32)
        result[name] = 1000 * median_seconds(forward, device, args.runs, args.warmup)[0]
    print(f"{result['device']}: generator-v1 {w}x{h} fwd {result['fp32_ms']:.2f} ms fp32, {result['tf32_ms']:.2f} ms TF32 convolutions (median of {args.runs})")
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)


if __name__ == '__main__':
    main()
