"""Test (and evaluate) a segmentor: mmseg's ``tools/test.py`` with this
package loaded (see ``tools/train.py`` for what that adds)."""
import argparse
import os.path as osp

from mmseg_gcn.engine import (build_runner, load_run_config,
                              parse_args_with_launcher,
                              use_test_time_augmentation)
from mmseg_gcn.engine.cfg_options import add_cfg_options_argument
from mmseg_gcn.engine.distributed import exit_tool
from mmseg_gcn.engine.errors import ToolError, run_reporting_errors
from mmseg_gcn.engine.precision import enable_amp_testing
from mmseg_gcn.evaluation import use_submission_format
from mmseg_gcn.models.segmentors import add_crf_to_config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='MMSeg test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='if specified, the evaluation metric results will be dumped '
        'into the directory as json')
    parser.add_argument(
        '--out',
        type=str,
        help='the directory to save output prediction for offline evaluation')
    parser.add_argument(
        '--format-only',
        action='store_true',
        help='write the predictions in the benchmark server\'s format into '
        '--out instead of evaluating them, loading no labels: Cityscapes '
        'label-id PNGs, or PASCAL VOC palette PNGs in '
        'results/VOC2012/Segmentation/comp6_test_cls/')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved. If specified, it '
        'will be automatically saved to the work_dir/timestamp/show_dir')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    add_cfg_options_argument(parser)
    parser.add_argument(
        '--tta', action='store_true', help='Test time augmentation')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='test under automatic mixed precision: bf16 on CPU, fp16 on a '
        'GPU')
    parser.add_argument(
        '--crf',
        action='store_true',
        help='refine the predictions with a dense CRF, after --tta if given '
        '(needs the crf extra: pip install -e ".[crf]"); its parameters are '
        "the config's crf_cfg, e.g. --cfg-options crf_cfg.iterations=5")
    return parse_args_with_launcher(parser)


def enable_visualization(cfg, args: argparse.Namespace) -> None:
    """Turns on the VisualizationHook for --show / --show-dir."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise ValueError(
            '--show/--show-dir need a VisualizationHook in default_hooks: add '
            "visualization=dict(type='SegVisualizationHook') to the config.")
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        cfg.visualizer['save_dir'] = args.show_dir


def main() -> None:
    args = parse_args()
    if args.format_only and args.out is None:
        raise ToolError('--format-only needs --out DIR, the folder the '
                        'server files go to.')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'Checkpoint {args.checkpoint!r} does not exist.')
    cfg = load_run_config(
        args.config,
        launcher=args.launcher,
        work_dir=args.work_dir,
        cfg_options=args.cfg_options,
        dataloaders=('test_dataloader', ))
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.tta:
        use_test_time_augmentation(cfg)
    if args.crf:
        add_crf_to_config(cfg)
    if args.amp:
        enable_amp_testing(cfg)
    if args.format_only:
        try:
            use_submission_format(cfg, args.out)
        except ValueError as error:  # a data set without a server format
            raise ToolError(str(error)) from error
    elif args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True

    build_runner(cfg).test()


if __name__ == '__main__':
    exit_tool(run_reporting_errors(main))
