"""Export a segmentor to ONNX and check the graph against PyTorch with
onnxruntime.

    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT --out model.onnx \\
        --shape 512 512 --dynamic

The graph takes an RGB image batch, ``N x 3 x H x W`` float32 in 0-255, and
normalises it itself (the mean, std and channel order of the config's
``data_preprocessor``). It returns the logits, ``N x C x H x W`` float32, or
with ``--output labels`` the label map, ``N x H x W`` int64, at exactly the
input size. With ``--dynamic`` the batch, height and width are free;
otherwise the graph takes only ``--shape``.

After exporting, it runs the graph with onnxruntime at the export size and
(with ``--dynamic``) at each ``--verify-shape`` (two odd sizes by default),
compares with the PyTorch model and prints the largest absolute difference;
it exits with status 1 if one exceeds ``--atol + --rtol * max|logit|``, a
label differs, or a size comes out wrong.

Before any work it refuses, naming the argument and the fix: a missing or
unreadable checkpoint, a checkpoint whose weights (names or shapes) do not
fit the config's model, a size the model cannot take, and missing onnx /
onnxruntime packages (``pip install -e '.[deploy]'``).

Needs: ``pip install -e '.[deploy]'`` (onnx, onnxruntime).
"""
import argparse
import os.path as osp
import sys
from typing import Callable, List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from mmseg_gcn.apis import (CheckpointMismatchError, check_weights_fit,
                            checkpoint_weights)
from mmseg_gcn.deployment import (MAX_OPSET, MIN_OPSET, ExportableSegmentor,
                                  ExportError, channel_setup, export_onnx,
                                  require_onnx, to_labels)
from mmseg_gcn.engine.cfg_options import add_cfg_options_argument
from mmseg_gcn.engine.checkpoint import load_local_checkpoint
from mmseg_gcn.engine.errors import run_reporting_errors
from mmseg_gcn.engine.head_channels import check_head_channels
from mmseg_gcn.engine.launch import load_config

Size = Tuple[int, int]

#: Sizes checked besides the export size when the graph is dynamic: odd, and
#: not multiples of any stride, so every crop in the head is exercised.
DEFAULT_VERIFY_SHAPES = ((97, 131), (75, 61))


class Check(NamedTuple):
    """onnxruntime against PyTorch at one input size.

    Attributes:
        size (tuple[int, int]): Input height and width.
        out_shape (tuple): Shape of the graph's output.
        max_abs_diff (float): Largest absolute difference of the logits
            (0 for labels).
        label_mismatches (int): Pixels whose labels differ (-1 when the
            label maps differ in shape).
        logit_scale (float): Largest absolute logit of torch (0 for
            labels).
        error (str): onnxruntime's error when the graph failed to run at
            this size; empty otherwise.
    """

    size: Size
    out_shape: tuple
    max_abs_diff: float
    label_mismatches: int
    logit_scale: float = 0.0
    error: str = ''

    def within(self, atol: float, rtol: float) -> bool:
        """Whether the graph ran, at the input size, with equal labels and
        logits at most ``atol + rtol * logit_scale`` from torch's."""
        return (not self.error and self.out_shape[-2:] == self.size
                and self.label_mismatches == 0
                and self.max_abs_diff <= atol + rtol * self.logit_scale)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parses the command line: ``argv``, or ``sys.argv[1:]``."""
    parser = argparse.ArgumentParser(
        description='Export a segmentor to ONNX (normalisation inside the '
        'graph, output at the input size) and verify it with onnxruntime.')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint trained with it')
    parser.add_argument('--out', required=True, help='ONNX file to write')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        default=[512, 512],
        metavar=('H', 'W'),
        help='input size to export (and trace) at (default: 512 512)')
    parser.add_argument(
        '--dynamic',
        action='store_true',
        help='free batch size, height and width (default: fixed --shape, '
        'batch 1)')
    parser.add_argument(
        '--opset', type=int, default=17, help='ONNX opset (default: 17)')
    parser.add_argument(
        '--output',
        choices=('logits', 'labels'),
        default='logits',
        help='graph output: the logits (N x C x H x W) or the label map '
        '(N x H x W, int64) (default: logits)')
    parser.add_argument(
        '--verify-shape',
        type=int,
        nargs=2,
        action='append',
        metavar=('H', 'W'),
        help='another size to check with onnxruntime (repeatable; needs '
        '--dynamic); default with --dynamic: 97 131 and 75 61')
    parser.add_argument(
        '--atol',
        type=float,
        default=1e-4,
        help='allowed |onnxruntime - torch| of the logits: atol + rtol * '
        'the largest |logit| (default: 1e-4)')
    parser.add_argument(
        '--rtol',
        type=float,
        default=1e-5,
        help='see --atol; float32 rounding grows with the logits and the '
        'depth of the network (default: 1e-5)')
    add_cfg_options_argument(parser)
    args = parser.parse_args(argv)
    if min(args.shape) < 1:
        parser.error(f'--shape must be two sizes >= 1 (H W), got '
                     f'{args.shape[0]} {args.shape[1]}')
    if args.verify_shape and not args.dynamic:
        parser.error('--verify-shape needs --dynamic: a static graph takes '
                     'only --shape')
    if any(min(s) < 1 for s in args.verify_shape or ()):
        parser.error('--verify-shape sizes must be >= 1')
    if not MIN_OPSET <= args.opset <= MAX_OPSET:
        parser.error(f'--opset must lie in {MIN_OPSET}..{MAX_OPSET}, got '
                     f'{args.opset}; 17 is a safe choice')
    return args


def verify_sizes(args: argparse.Namespace) -> List[Size]:
    """The export size, then (with ``--dynamic``) the other sizes."""
    sizes = [tuple(args.shape)]
    if args.dynamic:
        for size in args.verify_shape or DEFAULT_VERIFY_SHAPES:
            if tuple(size) not in sizes:
                sizes.append(tuple(size))
    return sizes


def load_segmentor(config: str, checkpoint: str,
                   cfg_options: Optional[dict]) -> Tuple[nn.Module, Config]:
    """Builds the config's model and loads the checkpoint into it, after
    checking that the weights fit exactly.

    Raises:
        FileNotFoundError: naming the config or checkpoint that is missing.
        UntrustedCheckpointError: for a file that is not a safe checkpoint.
        CheckpointMismatchError: if names or shapes of the weights differ.
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'CHECKPOINT {checkpoint!r} does not exist; give a .pth file '
            f'written by training (e.g. work_dirs/<config>/iter_*.pth).')
    cfg = load_config(config, cfg_options)
    check_head_channels(cfg)
    state = load_local_checkpoint(checkpoint, map_location='cpu')
    if not isinstance(state, dict):
        raise CheckpointMismatchError(
            f'CHECKPOINT {checkpoint!r} holds a {type(state).__name__}, not '
            f'a dict of weights; give a checkpoint written by training.')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    try:
        check_weights_fit(model, state)
    except CheckpointMismatchError as error:
        raise CheckpointMismatchError(
            f'CHECKPOINT {checkpoint!r} does not fit CONFIG {config!r}: '
            f'{error}') from None
    model.load_state_dict(checkpoint_weights(state))
    return model.eval(), cfg


def check_sizes(model: nn.Module, sizes: Sequence[Size]) -> None:
    """Raises :class:`ExportError` for a size the model cannot take (a
    forward pass fails or gives another output size), naming the option."""
    for i, (height, width) in enumerate(sizes):
        option = '--shape' if i == 0 else '--verify-shape'
        try:
            with torch.no_grad():
                out = model(torch.zeros(1, 3, height, width))
        except RuntimeError as error:
            first_line = str(error).strip().splitlines()[0]
            raise ExportError(
                f'{option} {height} {width}: the model cannot take a '
                f'{height}x{width} input ({first_line}); give a larger '
                f'size.') from None
        if tuple(out.shape[-2:]) != (height, width):
            raise ExportError(
                f'{option} {height} {width}: the model gives a '
                f'{tuple(out.shape[-2:])} output for a {height}x{width} '
                f'input; give a size the backbone divides evenly.')


def compare(model: ExportableSegmentor, out: str, sizes: Sequence[Size],
            on_check: Optional[Callable[[Check], None]] = None,
            seed: int = 0) -> List[Check]:
    """Runs the ONNX graph with onnxruntime and the model with torch on the
    same random RGB images, one per size.

    Args:
        model (ExportableSegmentor): The exported module.
        out (str): The ONNX file.
        sizes (Sequence[tuple[int, int]]): Input sizes ``(H, W)``.
        on_check (callable, optional): Called with each :class:`Check`.
        seed (int): Seed of the images.

    Returns:
        list[Check]: One per size.
    """
    import onnxruntime as ort
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    generator = torch.Generator().manual_seed(seed)
    checks = []
    for height, width in sizes:
        image = torch.randint(
            0, 256, (1, 3, height, width), generator=generator).float()
        with torch.no_grad():
            expected = model(image)
        try:
            got = torch.from_numpy(
                session.run(None, {'image': image.numpy()})[0])
        except Exception as error:  # noqa: B902 -- onnxruntime's own types
            check = Check((height, width), (), float('inf'), -1,
                          error=str(error).strip().splitlines()[0])
            checks.append(check)
            if on_check is not None:
                on_check(check)
            continue
        if model.output == 'logits':
            diff = (float((got - expected).abs().max())
                    if got.shape == expected.shape else float('inf'))
            head = model.segmentor.decode_head
            got_labels = to_labels(got, head) if diff < float('inf') else got
            expected_labels = to_labels(expected, head)
        else:
            diff, got_labels, expected_labels = 0.0, got, expected
        mismatches = (int((got_labels != expected_labels).sum())
                      if got_labels.shape == expected_labels.shape else -1)
        scale = (float(expected.abs().max())
                 if model.output == 'logits' else 0.0)
        check = Check((height, width), tuple(got.shape), diff, mismatches,
                      scale)
        checks.append(check)
        if on_check is not None:
            on_check(check)
    return checks


def report(check: Check, output: str) -> None:
    """Prints one line per checked size."""
    height, width = check.size
    if check.error:
        print(f'{height}x{width}: onnxruntime failed: {check.error}',
              flush=True)
        return
    line = f'{height}x{width}: onnxruntime output {check.out_shape}'
    if output == 'logits':
        line += (f', max abs difference to torch {check.max_abs_diff:.3g} '
                 f'(largest |logit| {check.logit_scale:.3g})')
    line += (f', {check.label_mismatches} label(s) differ'
             if check.label_mismatches >= 0 else ', labels of another shape')
    print(line, flush=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Exports and verifies; returns the exit status
    (``argv``: the arguments without the program name)."""
    args = parse_args(argv)
    require_onnx()
    out_dir = osp.dirname(osp.abspath(args.out))
    if osp.isdir(args.out):
        raise ExportError(f'--out {args.out!r} is a folder; give a file '
                          f'name, e.g. {osp.join(args.out, "model.onnx")}.')
    if not osp.isdir(out_dir):
        raise ExportError(f'--out {args.out!r}: folder {out_dir!r} does not '
                          f'exist; create it first.')
    segmentor, cfg = load_segmentor(args.config, args.checkpoint,
                                    args.cfg_options)
    mean, std, to_bgr = channel_setup(cfg)
    model = ExportableSegmentor(segmentor, mean, std, to_bgr,
                                args.output).eval()
    sizes = verify_sizes(args)
    check_sizes(model, sizes)

    export_onnx(model, args.out, tuple(args.shape), args.dynamic, args.opset)
    print(f'Wrote {args.out} (input "image": RGB N x 3 x H x W, 0-255; '
          f'output "{args.output}" at the input size; '
          f'{"dynamic" if args.dynamic else "static"} shape, '
          f'opset {args.opset})', flush=True)
    checks = compare(model, args.out, sizes,
                     on_check=lambda c: report(c, args.output))
    failed = [c for c in checks if not c.within(args.atol, args.rtol)]
    if failed:
        sizes_text = ', '.join(f'{h}x{w}' for h, w in (c.size for c in failed))
        print(f'error: the ONNX graph does not match torch at {sizes_text} '
              f'(--atol {args.atol:g}, --rtol {args.rtol:g}); the usual '
              f'cause is Python code in the model that branches on a tensor '
              f'size, which the trace freezes at the export size.',
              file=sys.stderr)
        return 1
    print(f'onnxruntime matches torch at {len(checks)} size(s).')
    return 0


if __name__ == '__main__':
    sys.exit(
        run_reporting_errors(main,
                             expected=(ExportError, CheckpointMismatchError)))
