"""FLOPs and parameters of a segmentor: mmseg's
``tools/analysis_tools/get_flops.py`` with the same options and output, made
to work on this stack.

    python tools/analysis/get_flops.py configs/gcn/gcn_r152_voc.py --shape 512

mmseg 1.2.2's script passes both ``input_shape`` and ``inputs`` to mmengine's
``get_model_complexity_info``, which mmengine 0.10 refuses on every config
(``"input_shape" and "inputs" cannot be both set``, mmseg issue #3241). Here
only the preprocessed ``inputs`` are passed, as upstream mmseg does since.
The counts are mmengine's (one multiply-add counts as one FLOP); the
auxiliary head, which inference does not run, is left out, as in mmseg.
"""
import argparse
import sys
from typing import List, Optional, Sequence, Tuple

import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.analysis.print_helper import _format_size
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_gcn.engine.cfg_options import add_cfg_options_argument
from mmseg_gcn.engine.errors import run_reporting_errors
from mmseg_gcn.engine.launch import load_config

#: Heads whose FLOPs mmseg's script does not count either.
UNSUPPORTED_HEADS = ('MaskFormerHead', 'Mask2FormerHead')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parses mmseg's options of ``get_flops.py``
    (``argv``, or ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(
        description='Get the FLOPs of a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        default=[2048, 1024],
        help='input image size: one number for a square, or H W')
    add_cfg_options_argument(parser)
    args = parser.parse_args(argv)
    if len(args.shape) not in (1, 2) or min(args.shape) < 1:
        parser.error(f'--shape takes one size (a square) or two (H W), each '
                     f'>= 1; got {" ".join(map(str, args.shape))}')
    return args


def input_shape(shape: List[int]) -> Tuple[int, int, int]:
    """``[S]`` -> ``(3, S, S)``; ``[H, W]`` -> ``(3, H, W)``."""
    return (3, shape[0], shape[-1])


def count_flops(cfg: Config, shape: Tuple[int, int, int]) -> dict:
    """Counts the FLOPs and parameters of ``cfg.model`` on one random image.

    Args:
        cfg (Config): The config (its ``model`` is built, no weights loaded).
        shape (tuple[int, int, int]): ``(3, H, W)`` of the image before the
            data preprocessor (which may pad it to ``size``).

    Returns:
        dict: ``ori_shape`` and ``pad_shape`` (H, W), ``flops`` and
        ``params`` (formatted as mmengine does, e.g. ``'68.6G'``), the raw
        counts ``flops_count`` and ``params_count``, and ``compute_type``.
    """
    decode_type = str(cfg.model.decode_head.get('type', ''))
    if decode_type.rsplit('.', 1)[-1] in UNSUPPORTED_HEADS:
        raise NotImplementedError(
            f'{decode_type} is not supported (nor by mmseg\'s get_flops.py).')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    if hasattr(model, 'auxiliary_head'):
        model.auxiliary_head = None
    model = revert_sync_batchnorm(model)
    if torch.cuda.is_available():
        model.cuda()
    model.eval()
    meta = dict(ori_shape=shape[-2:], pad_shape=shape[-2:])
    data = model.data_preprocessor({
        'inputs': [torch.rand(shape)],
        'data_samples': [SegDataSample(metainfo=meta)]
    })
    # Only `inputs`: mmengine refuses `input_shape` and `inputs` together.
    with torch.no_grad():
        outputs = get_model_complexity_info(
            model,
            inputs=data['inputs'],
            show_table=False,
            show_arch=False)
    return dict(
        ori_shape=tuple(shape[-2:]),
        pad_shape=tuple(data['inputs'].shape[-2:]),
        flops=_format_size(outputs['flops']),
        params=_format_size(outputs['params']),
        flops_count=outputs['flops'],
        params_count=outputs['params'],
        compute_type='direct: randomly generate a picture')


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Prints the FLOPs and parameters in mmseg's format; returns the exit status
    (``argv``: the arguments without the program name)."""
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    cfg.log_level = 'WARN'
    result = count_flops(cfg, input_shape(args.shape))

    split_line = '=' * 30
    if result['pad_shape'] != result['ori_shape']:
        print(f'{split_line}\nUse size divisor set input shape '
              f'from {result["ori_shape"]} to {result["pad_shape"]}')
    print(f'{split_line}\nCompute type: {result["compute_type"]}\n'
          f'Input shape: {result["pad_shape"]}\nFlops: {result["flops"]}\n'
          f'Params: {result["params"]}\n{split_line}')
    print('!!!Please be cautious if you use the results in papers. '
          'You may need to check if all ops are supported and verify '
          'that the flops computation is correct.')
    return 0


if __name__ == '__main__':
    sys.exit(run_reporting_errors(main))
