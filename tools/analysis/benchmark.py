"""Benchmarks, two modes:

Heads on one backbone (the default): GCNHead next to mmseg's FCN, PSP, ASPP
and UPerNet heads on the same ResNet: parameters, FLOPs, forward latency,
training-step time and peak memory, as a markdown table with ratios to
GCNHead.

    python tools/analysis/benchmark.py --backbone r50 --size 512 512 --batch 2

Whole models (``--whole-model``): complete segmentors as a user picks them,
GCN-R152/R101/R50-d32 next to mmseg's FCN, PSPNet, DeepLabV3, DeepLabV3+
(R101-d8) and UPerNet-R101, each built from its config with its own
backbone and auxiliary heads, at 512x512 and 512x1024; writes the table,
the raw numbers (JSON) and an accuracy-vs-cost plot (PNG) to ``--out-dir``.

    python tools/analysis/benchmark.py --whole-model --device cpu
    python tools/analysis/benchmark.py --whole-model --device cpu \
        --models gcn-r152-d32 pspnet-r101-d8 --precisions fp32 bf16 \
        --onnxruntime --sizes 512x512
    python tools/analysis/benchmark.py --whole-model --device cuda --amp \
        --channels-last --repeats 10 --warmup 3

Runs on the GPU when there is one, else on the CPU (``--device`` chooses).
See ``mmseg_gcn/analysis/benchmark.py`` and ``model_benchmark.py`` for what
each number is, and docs/benchmarks.md.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Optional, Sequence

# quiet the profiler's device probing on CPU-only machines (set before torch)
os.environ.setdefault('KINETO_LOG_LEVEL', '5')

import torch  # noqa: E402

from mmseg_gcn.analysis.benchmark import (  # noqa: E402
    BACKBONE_DEPTHS, HEADS, run_benchmark)
from mmseg_gcn.analysis.benchmark_report import (  # noqa: E402
    as_dict, format_markdown, format_whole_model_markdown,
    plot_accuracy_vs_cost, whole_model_as_dict)
from mmseg_gcn.analysis.model_benchmark import (  # noqa: E402
    DEFAULT_SIZES, PRECISIONS, QUICK_SIZES, parse_size, print_progress,
    run_whole_model_benchmark)
from mmseg_gcn.analysis.model_specs import (  # noqa: E402
    DEFAULT_MODELS, MODEL_SPECS)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark GCNHead against mmseg decode heads on the '
        'same ResNet backbone, or (--whole-model) GCN segmentors against '
        'mmseg\'s complete segmentors.')
    parser.add_argument(
        '--whole-model',
        action='store_true',
        help='compare complete segmentors built from their configs '
        '(default: compare heads on one backbone)')
    heads = parser.add_argument_group('heads on one backbone')
    heads.add_argument(
        '--backbone',
        default=None,
        choices=sorted(BACKBONE_DEPTHS),
        help='ResNet depth (default: r50)')
    heads.add_argument(
        '--size',
        nargs=2,
        type=int,
        default=None,
        metavar=('H', 'W'),
        help='input size (default: 512 512)')
    heads.add_argument(
        '--heads',
        nargs='+',
        default=None,
        choices=HEADS,
        help='heads to compare (GCNHead is always included)')
    whole = parser.add_argument_group('whole models (--whole-model)')
    whole.add_argument(
        '--models',
        nargs='+',
        default=None,
        metavar='MODEL',
        help=f'models to compare (default: {" ".join(DEFAULT_MODELS)}); '
        f'also: {" ".join(m for m in MODEL_SPECS if m not in DEFAULT_MODELS)}'
    )
    whole.add_argument(
        '--sizes',
        nargs='+',
        default=None,
        metavar='HxW',
        help='input sizes, height x width (default: 512x512 512x1024)')
    whole.add_argument(
        '--forward-batch',
        type=int,
        default=None,
        help='batch of the forward pass (default: 1)')
    whole.add_argument(
        '--precisions',
        nargs='+',
        default=None,
        choices=PRECISIONS,
        help='measure each model in each of these, interleaved in one run: '
        'fp32, and bf16 under torch.autocast (default: fp32)')
    whole.add_argument(
        '--amp',
        action='store_true',
        help='bf16 only (the same as --precisions bf16)')
    whole.add_argument(
        '--onnxruntime',
        action='store_true',
        help='also time each model\'s forward as its exported ONNX graph in '
        'onnxruntime (CPU; needs the deploy extra)')
    whole.add_argument(
        '--channels-last',
        action='store_true',
        help='models and inputs in channels_last memory format')
    whole.add_argument(
        '--peak-tflops',
        type=float,
        default=None,
        help='the device\'s peak TFLOP/s for the model-FLOPs utilisation '
        '(default: looked up for known GPUs; none on CPU)')
    whole.add_argument(
        '--quick',
        action='store_true',
        help=f'tiny sizes ({" ".join(f"{h}x{w}" for h, w in QUICK_SIZES)}) '
        'and one warm-up and one timed round, for a smoke test')
    whole.add_argument(
        '--out-dir',
        default=None,
        help='folder for table.md, results.json and accuracy_vs_cost.png '
        '(default: work_dirs/benchmark_whole_model)')
    whole.add_argument(
        '--no-plot', action='store_true', help='skip the PNG')
    parser.add_argument(
        '--batch',
        type=int,
        default=2,
        help='batch size (of the training step with --whole-model; '
        'default: 2)')
    parser.add_argument(
        '--warmup',
        type=int,
        default=None,
        help='untimed runs before timing (default: 2; 1 with --whole-model)')
    parser.add_argument(
        '--repeats',
        type=int,
        default=None,
        help='timed runs, the median is reported (default: 5; 3 with '
        '--whole-model)')
    parser.add_argument('--num-classes', type=int, default=21)
    parser.add_argument(
        '--no-flops', action='store_true', help='skip the FLOP count')
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
        '--markdown',
        metavar='FILE',
        help='also append the table to this markdown file')
    parser.add_argument(
        '--json', metavar='FILE', help='also write the raw numbers as JSON')
    args = parser.parse_args(argv)
    mode_only = (('whole-model',
                  ('models', 'sizes', 'forward_batch', 'precisions', 'amp',
                   'onnxruntime', 'channels_last', 'peak_tflops', 'quick',
                   'out_dir', 'no_plot')),
                 ('heads', ('backbone', 'size', 'heads')))
    for mode, names in mode_only:
        if (mode == 'whole-model') == args.whole_model:
            continue
        given = [n for n in names if getattr(args, n) not in (None, False)]
        if given:
            flags = ', '.join('--' + n.replace('_', '-') for n in given)
            wanted = 'with' if mode == 'whole-model' else 'without'
            parser.error(f'{flags}: only used {wanted} --whole-model.')
    if args.amp and args.precisions:
        parser.error('--amp is --precisions bf16; give one of them.')
    return args


def run_heads(args: argparse.Namespace) -> None:
    """The heads-on-one-backbone mode."""
    result = run_benchmark(
        backbone=args.backbone or 'r50',
        size=tuple(args.size or (512, 512)),
        batch=args.batch,
        heads=args.heads or list(HEADS),
        device=args.device,
        warmup=2 if args.warmup is None else args.warmup,
        repeats=5 if args.repeats is None else args.repeats,
        num_classes=args.num_classes,
        flops=not args.no_flops,
        progress=lambda head: print(
            f'measuring {head} ...', file=sys.stderr, flush=True))
    table = format_markdown(result)
    print(table)
    if args.markdown:
        with open(args.markdown, 'a') as f:
            f.write('\n' + table + '\n')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(as_dict(result), f, indent=2)


def run_whole_model(args: argparse.Namespace) -> None:
    """The whole-model mode."""
    sizes = [parse_size(s) for s in args.sizes] if args.sizes else \
        list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    warmup = args.warmup if args.warmup is not None else 1
    repeats = args.repeats if args.repeats is not None else \
        (1 if args.quick else 3)
    out_dir = args.out_dir or osp.join('work_dirs', 'benchmark_whole_model')

    def make_out_dir() -> None:
        # after the options are checked, before minutes of compute
        try:
            os.makedirs(out_dir, exist_ok=True)
        except OSError as e:
            raise ValueError(f'--out-dir {out_dir!r} cannot be created: {e}')

    json_path = args.json or osp.join(out_dir, 'results.json')
    result = run_whole_model_benchmark(
        models=args.models or DEFAULT_MODELS,
        sizes=sizes,
        batch=args.batch,
        forward_batch=1
        if args.forward_batch is None else args.forward_batch,
        device=args.device,
        warmup=warmup,
        repeats=repeats,
        precisions=['bf16'] if args.amp else (args.precisions or ['fp32']),
        onnxruntime=args.onnxruntime,
        channels_last=args.channels_last,
        num_classes=args.num_classes,
        flops=not args.no_flops,
        peak_tflops_per_s=args.peak_tflops,
        progress=print_progress,
        prepare=make_out_dir)
    table = format_whole_model_markdown(result)
    print(table)
    with open(osp.join(out_dir, 'table.md'), 'w') as f:
        f.write(table + '\n')
    if args.markdown:
        with open(args.markdown, 'a') as f:
            f.write('\n' + table + '\n')
    with open(json_path, 'w') as f:
        json.dump(whole_model_as_dict(result), f, indent=2)
    written = [osp.join(out_dir, 'table.md'), json_path]
    if not args.no_plot:
        plot = osp.join(out_dir, 'accuracy_vs_cost.png')
        plot_accuracy_vs_cost(result, plot)
        written.append(plot)
    print_progress('wrote ' + ', '.join(written))


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        if args.threads < 1:
            raise SystemExit('error: --threads must be >= 1')
        torch.set_num_threads(args.threads)
    try:
        if args.whole_model:
            run_whole_model(args)
        else:
            run_heads(args)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f'error: {e}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
