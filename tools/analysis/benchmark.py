"""Cost of GCNHead next to mmseg's FCN, PSP, ASPP and UPerNet heads on the
same backbone: parameters, FLOPs, forward latency, training-step time and
peak memory, as a markdown table with ratios to GCNHead.

    python tools/analysis/benchmark.py --backbone r50 --size 512 512 --batch 2

Runs on the GPU when there is one, else on the CPU (``--device`` chooses).
See ``mmseg_gcn/analysis/benchmark.py`` for what each number is.
"""
import argparse
import json
import os
import sys

# quiet the profiler's device probing on CPU-only machines (set before torch)
os.environ.setdefault('KINETO_LOG_LEVEL', '5')

import torch  # noqa: E402

from mmseg_gcn.analysis.benchmark import (  # noqa: E402
    BACKBONE_DEPTHS, HEADS, as_dict, format_markdown, run_benchmark)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark GCNHead against mmseg decode heads on the '
        'same ResNet backbone.')
    parser.add_argument(
        '--backbone',
        default='r50',
        choices=sorted(BACKBONE_DEPTHS),
        help='ResNet depth (default: r50)')
    parser.add_argument(
        '--size',
        nargs=2,
        type=int,
        default=[512, 512],
        metavar=('H', 'W'),
        help='input size (default: 512)')
    parser.add_argument(
        '--batch', type=int, default=2, help='batch size (default: 2)')
    parser.add_argument(
        '--heads',
        nargs='+',
        default=list(HEADS),
        choices=HEADS,
        help='heads to compare (GCNHead is always included)')
    parser.add_argument(
        '--warmup',
        type=int,
        default=2,
        help='untimed runs before timing (default: 2)')
    parser.add_argument(
        '--repeats',
        type=int,
        default=5,
        help='timed runs, the median is reported (default: 5)')
    parser.add_argument('--num-classes', type=int, default=21)
    parser.add_argument(
        '--device',
        default=None,
        help='cpu, cuda, cuda:1 ... (default: cuda when '
        'available, else cpu)')
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch CPU threads (default: torch\'s)')
    parser.add_argument(
        '--no-flops', action='store_true', help='skip the FLOP count')
    parser.add_argument(
        '--markdown',
        metavar='FILE',
        help='also append the table to this markdown file')
    parser.add_argument(
        '--json', metavar='FILE', help='also write the raw numbers as JSON')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if args.threads is not None:
        if args.threads < 1:
            raise SystemExit('error: --threads must be >= 1')
        torch.set_num_threads(args.threads)
    try:
        result = run_benchmark(
            backbone=args.backbone,
            size=tuple(args.size),
            batch=args.batch,
            heads=args.heads,
            device=args.device,
            warmup=args.warmup,
            repeats=args.repeats,
            num_classes=args.num_classes,
            flops=not args.no_flops,
            progress=lambda head: print(
                f'measuring {head} ...', file=sys.stderr, flush=True))
    except ValueError as e:
        raise SystemExit(f'error: {e}')
    table = format_markdown(result)
    print(table)
    if args.markdown:
        with open(args.markdown, 'a') as f:
            f.write('\n' + table + '\n')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(as_dict(result), f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
