"""Draw the training samples of a config (after its training pipeline) with
their ground truth: mmseg's ``tools/analysis_tools/browse_dataset.py`` with the
same options, made to work on this stack.

    python tools/analysis/browse_dataset.py \\
        configs/demo/gcn_r18-d32_1xb8-1k_demo-voc12aug-96x96.py \\
        --not-show --output-dir work_dirs/browse

mmseg 1.2.2's script hands the visualizer a non-contiguous view of the image
(a channel-last permute and a BGR -> RGB reorder); ``SegLocalVisualizer``
makes its label mask with ``np.zeros_like``, which keeps that layout, and
OpenCV 5 refuses it (``Layout of the output array img is incompatible with
cv::Mat``, mmseg issue #3405). Here the image is made contiguous first.
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

import numpy as np
from mmengine.utils import ProgressBar
from mmseg.registry import DATASETS, VISUALIZERS
from mmseg.utils import register_all_modules

from mmseg_gcn.engine.cfg_options import add_cfg_options_argument
from mmseg_gcn.engine.errors import run_reporting_errors
from mmseg_gcn.engine.launch import load_config


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parses mmseg's options of ``browse_dataset.py``
    (``argv``, or ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(description='Browse a dataset')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--output-dir',
        default=None,
        type=str,
        help='If there is no display interface, you can save it')
    parser.add_argument('--not-show', default=False, action='store_true')
    parser.add_argument(
        '--show-interval',
        type=float,
        default=2,
        help='the interval of show (s)')
    add_cfg_options_argument(parser)
    return parser.parse_args(argv)


def to_drawable(inputs) -> np.ndarray:
    """A packed ``inputs`` tensor (3 x H x W, BGR) as the RGB H x W x 3 array
    the visualizer draws on, C-contiguous (OpenCV 5 needs that layout)."""
    image = inputs.permute(1, 2, 0).numpy()[..., ::-1]
    return np.ascontiguousarray(image)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Draws (and shows and/or saves) every training sample; returns the exit status
    (``argv``: the arguments without the program name)."""
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)

    # register all modules in mmseg into the registries
    register_all_modules()

    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    visualizer = VISUALIZERS.build(cfg.visualizer)
    visualizer.dataset_meta = dataset.metainfo

    progress_bar = ProgressBar(len(dataset))
    for item in dataset:
        data_sample = item['data_samples'].numpy()
        name = osp.basename(item['data_samples'].img_path)
        out_file = (osp.join(args.output_dir, name)
                    if args.output_dir is not None else None)
        visualizer.add_datasample(
            name=name,
            image=to_drawable(item['inputs']),
            data_sample=data_sample,
            draw_gt=True,
            draw_pred=False,
            wait_time=args.show_interval,
            out_file=out_file,
            show=not args.not_show)
        progress_bar.update()
    return 0


if __name__ == '__main__':
    sys.exit(run_reporting_errors(main))
