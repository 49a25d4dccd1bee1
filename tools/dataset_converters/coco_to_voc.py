"""Label the COCO images that contain PASCAL VOC classes with VOC's classes.

Example, from the repository root (COCO 2017 in ``data/coco``)::

    python tools/dataset_converters/coco_to_voc.py data/coco --nproc 8

writes ``data/coco/voc_labels/{train2017,val2017}/*.png`` and
``data/coco/voc_labels/{train2017,val2017}.txt``, which the first stage of
``configs/gcn/gcn_r152-d32_voc12-3stage.py`` reads. Interrupted runs resume
where they stopped. See :mod:`mmseg_gcn.datasets.coco_to_voc` for the rules.
"""
import argparse
import sys
from typing import List, Optional

from mmseg_gcn.datasets.coco_to_voc import convert_split
from mmseg_gcn.engine.errors import ToolError, run_reporting_errors


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parses the command line (``argv``: without the program name)."""
    parser = argparse.ArgumentParser(
        description='Convert COCO instance annotations to PASCAL VOC '
        'semantic labels, keeping the images with VOC classes.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument(
        'coco_root', help='COCO folder (holds annotations/ and the images)')
    parser.add_argument(
        '--splits',
        nargs='+',
        default=['train2017', 'val2017'],
        help='splits to convert (annotations/instances_<split>.json)')
    parser.add_argument(
        '--out-dir', help='output folder (default: <coco_root>/voc_labels)')
    parser.add_argument(
        '--nproc', type=int, default=1, help='worker processes')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Converts the requested splits and prints a summary of each.

    Args:
        argv: Arguments without the program name; default ``sys.argv[1:]``.

    Returns:
        Exit status: 0 on success, 1 on a missing or wrong annotation file.
    """
    args = parse_args(argv)
    for split in args.splits:
        try:
            summary = convert_split(
                args.coco_root, split, out_dir=args.out_dir,
                nproc=args.nproc)
        except (FileNotFoundError, ValueError) as error:
            raise ToolError(str(error)) from error
        print(f'{split}: {summary.num_kept} of {summary.num_images} images '
              f'have VOC classes ({summary.num_written} labels written, '
              f'{summary.num_existing} already there); list: '
              f'{summary.list_file}')
    return 0


if __name__ == '__main__':
    sys.exit(run_reporting_errors(main))
