"""Valid receptive field of segmentors by occlusion (Fig. 3 of "Large Kernel
Matters"): the same output unit in several models, side by side.

Example (GCN against the 1x1 baseline, at the centre of the largest object
of the label)::

    python tools/analysis/valid_receptive_field.py \\
        --model configs/gcn/gcn.py work_dirs/gcn/iter_40000.pth \\
        --model configs/gcn/base.py work_dirs/base/iter_40000.pth \\
        --image demo.jpg --object-centre demo.png --out vrf.png
"""
import argparse
import sys

from mmseg_gcn.analysis.valid_receptive_field import \
    compare_valid_receptive_fields
from mmseg_gcn.engine.errors import ToolError, run_reporting_errors


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Valid receptive field of segmentors by occlusion: how '
        'much one output unit changes when small patches of the image are '
        'hidden, as a heat map over the image (one panel per model).')
    parser.add_argument(
        '--model',
        nargs=2,
        action='append',
        required=True,
        metavar=('CONFIG', 'CHECKPOINT'),
        help='a config and its checkpoint; repeat for each model')
    parser.add_argument('--image', required=True, help='image file')
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        '--pixel',
        nargs=2,
        type=int,
        metavar=('Y', 'X'),
        help='the output unit: row and column')
    where.add_argument(
        '--object-centre',
        nargs='?',
        const='',
        metavar='LABEL',
        help='the centre of the largest object of the label PNG LABEL, or '
        'of the first model\'s prediction when LABEL is not given')
    parser.add_argument(
        '--class',
        dest='class_name',
        default=None,
        help='class of the unit, index or name (default: the class each '
        'model predicts there)')
    parser.add_argument('--names', nargs='+', help='panel titles')
    parser.add_argument(
        '--patch',
        type=int,
        default=16,
        help='occluder side in pixels (default: 16)')
    grid = parser.add_mutually_exclusive_group()
    grid.add_argument(
        '--stride',
        type=int,
        default=None,
        help='occluders on a grid with this step (default: 8)')
    grid.add_argument(
        '--num',
        type=int,
        default=None,
        help='this many random occluders instead of a grid')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the random occluders')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=8,
        help='occluded images per forward pass')
    parser.add_argument(
        '--background',
        type=int,
        default=0,
        help='background label, not an object (default: 0)')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--out', default='vrf.png', help='PNG file to write')
    parser.add_argument(
        '--no-progress', action='store_true', help='hide the progress bars')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    try:
        result = run(args)
    except (FileNotFoundError, ValueError) as error:
        raise ToolError(str(error)) from error
    y, x = result['pixel']
    print(f'valid receptive field of the unit at (y={y}, x={x}) saved to '
          f"{result['out_file']}")


def run(args: argparse.Namespace) -> dict:
    return compare_valid_receptive_fields(
        [tuple(m) for m in args.model],
        args.image,
        args.out,
        pixel=args.pixel,
        object_label=args.object_centre or None,
        object_from_prediction=args.object_centre == '',
        class_name=args.class_name,
        names=args.names,
        patch=args.patch,
        stride=None if args.num is not None else (args.stride or 8),
        num=args.num,
        seed=args.seed,
        batch_size=args.batch_size,
        background=args.background,
        device=args.device,
        progress=not args.no_progress)


if __name__ == '__main__':
    sys.exit(run_reporting_errors(main))
