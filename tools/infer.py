"""Segment images of any size with a trained model (mmseg's
``MMSegInferencer``).

Example, after ``make demo``::

    python tools/infer.py work_dirs/demo/gcn/config.py \\
        work_dirs/demo/gcn/iter_1200.pth path/to/images --out work_dirs/infer

For each image it writes ``<out>/vis/<stem>.png`` (the prediction drawn over
the image) and ``<out>/pred/<stem>.png`` (the predicted class indices, the
size of the image, as a palette PNG: ``np.array(PIL.Image.open(path))`` gives
the indices).
"""
import argparse
import sys
import warnings
from typing import Optional, Sequence

# Warnings from inside mmengine / mmseg that say nothing about the inputs:
# the pkg_resources deprecation, mmseg's own use of build_loss, and the
# visualizer's log backend, which the inferencer does not use.
for _message in ('pkg_resources is deprecated', '``build_loss`` would be',
                 'Failed to add <class'):
    warnings.filterwarnings('ignore', message=_message)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parses the command line.

    Args:
        argv (Sequence[str], optional): Arguments without the program name;
            defaults to ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='Segment an image or a folder of images; write overlays '
        'and predicted masks.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint trained with it')
    parser.add_argument(
        'inputs', help='an image, or a folder of images (not recursive)')
    parser.add_argument(
        '--out', default='work_dirs/infer',
        help='output folder (gets vis/ and pred/)')
    parser.add_argument(
        '--device', default=None,
        help="'cpu', 'cuda', 'cuda:1', ... (default: a GPU if there is one)")
    parser.add_argument(
        '--opacity', type=float, default=0.6,
        help='opacity of the prediction in the overlays, in [0, 1]')
    parser.add_argument(
        '--no-labels', action='store_true',
        help='do not write class names on the overlays')
    parser.add_argument(
        '--amp', action='store_true',
        help='infer under automatic mixed precision: bf16 on CPU, fp16 on a '
        'GPU')
    args = parser.parse_args(argv)
    if not 0 <= args.opacity <= 1:
        parser.error(f'--opacity must lie in [0, 1], got {args.opacity}')
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the inference.

    Args:
        argv (Sequence[str], optional): Arguments without the program name.

    Returns:
        int: Exit status: 0 on success, 1 on bad inputs.
    """
    args = parse_args(argv)
    from mmseg_gcn.apis import (CheckpointMismatchError, UnreadableImageError,
                                infer_images)
    from mmseg_gcn.apis.inference import UnsupportedImageSizeError
    from mmseg_gcn.engine import UntrustedCheckpointError
    from mmseg_gcn.engine.head_channels import HeadChannelsError

    def report(result) -> None:
        height, width = result.shape
        print(f'{result.image} ({width}x{height}): overlay {result.overlay}, '
              f'mask {result.mask}', flush=True)

    try:
        results = infer_images(
            args.config, args.checkpoint, args.inputs, args.out,
            device=args.device, opacity=args.opacity,
            with_labels=not args.no_labels, on_result=report, amp=args.amp)
    except (FileNotFoundError, UnreadableImageError,
            UnsupportedImageSizeError, HeadChannelsError,
            CheckpointMismatchError, UntrustedCheckpointError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print(f'Segmented {len(results)} image(s) into {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
