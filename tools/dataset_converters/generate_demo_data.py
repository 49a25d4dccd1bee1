"""Writes the synthetic demo data sets in the real PASCAL VOC aug and Cityscapes layouts.

Example, from the repository root::

    python tools/dataset_converters/generate_demo_data.py            # both, in data/demo
    python tools/dataset_converters/generate_demo_data.py --dataset voc --voc-train 200
    python tools/dataset_converters/generate_demo_data.py --dataset context  # data/context

The VOC data lands in ``<out>/VOCdevkit/VOC2012`` and the Cityscapes data in
``<out>/cityscapes``; the same arguments always give the same files. See
:mod:`mmseg_gcn.datasets.synthetic` for what the images look like.

``--dataset context`` writes the *context set* instead (VOC layout, in
``data/context`` by default): four shapes with identical interiors, told apart
only by their outlines, so that a pixel's class depends on a large region
(:mod:`mmseg_gcn.datasets.synthetic.context`). The VOC set above is its control:
there every class has its own local appearance.
"""
import argparse
import sys
import time
from typing import List, Optional

from mmseg_gcn.datasets.synthetic import (generate_cityscapes, generate_voc_aug,
                                          generate_voc_context)
from mmseg_gcn.engine.errors import ToolError, run_reporting_errors

#: Default output folder of each --dataset choice.
DEFAULT_OUT = {'context': 'data/context'}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parses the command line (``argv``: without the program name)."""
    parser = argparse.ArgumentParser(
        description='Generate small synthetic datasets in the on-disk layouts of '
        'PASCAL VOC 2012 + SBD aug and Cityscapes.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--dataset', choices=('voc', 'cityscapes', 'all', 'context'),
                        default='all',
                        help="which dataset(s) to write; 'all' is voc and cityscapes, "
                        "'context' the context set")
    parser.add_argument('--out',
                        help='output folder (holds VOCdevkit/ and cityscapes/); default '
                        'data/demo, or data/context for --dataset context')
    parser.add_argument('--seed', type=int, default=0, help='random seed (>= 0)')
    voc = parser.add_argument_group('PASCAL VOC aug')
    voc.add_argument('--voc-train', type=int, default=48, help='images in train.txt')
    voc.add_argument('--voc-aug', type=int, default=16, help='aug-only images in aug.txt')
    voc.add_argument('--voc-val', type=int, default=16, help='images in val.txt')
    voc.add_argument('--voc-min-side', type=int, default=96, help='smallest image side')
    voc.add_argument('--voc-max-side', type=int, default=128, help='largest image side')
    cs = parser.add_argument_group('Cityscapes')
    cs.add_argument('--cs-train', type=int, default=12, help='fine train images')
    cs.add_argument('--cs-val', type=int, default=6, help='fine val images')
    cs.add_argument('--cs-extra', type=int, default=12,
                    help='coarse train_extra images')
    cs.add_argument('--cs-width', type=int, default=256,
                    help='image width (height is half of it)')
    context = parser.add_argument_group('context set')
    context.add_argument('--context-train', type=int, default=400,
                         help='images in train.txt')
    context.add_argument('--context-val', type=int, default=100, help='images in val.txt')
    context.add_argument('--context-size', type=int, default=128,
                         help='image height and width')
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = DEFAULT_OUT.get(args.dataset, 'data/demo')
    return args


def main(argv: Optional[List[str]] = None) -> int:
    """Generates the requested datasets and prints where they are.

    Args:
        argv: Arguments without the program name; default ``sys.argv[1:]``.

    Returns:
        Exit status: 0 on success, 2 on bad arguments or a foreign output folder.
    """
    args = parse_args(argv)
    jobs = []
    if args.dataset in ('voc', 'all'):
        jobs.append(('PASCAL VOC aug', lambda: generate_voc_aug(
            args.out, num_train=args.voc_train, num_aug=args.voc_aug, num_val=args.voc_val,
            min_side=args.voc_min_side, max_side=args.voc_max_side, seed=args.seed)))
    if args.dataset in ('cityscapes', 'all'):
        jobs.append(('Cityscapes', lambda: generate_cityscapes(
            args.out, num_train=args.cs_train, num_val=args.cs_val,
            num_extra=args.cs_extra, width=args.cs_width, seed=args.seed)))
    if args.dataset == 'context':
        jobs.append(('Context set (VOC layout)', lambda: generate_voc_context(
            args.out, num_train=args.context_train, num_val=args.context_val,
            size=args.context_size, seed=args.seed)))
    for name, job in jobs:
        start = time.perf_counter()
        try:
            summary = job()
        except (ValueError, FileExistsError) as error:
            raise ToolError(f'{name}: {error}') from error
        splits = ', '.join(f'{split} {n}' for split, n in summary.splits.items())
        print(f'{name}: wrote {summary.num_files} files to {summary.root} '
              f'({splits} images) in {time.perf_counter() - start:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(run_reporting_errors(main))
