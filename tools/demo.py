"""The demo: train a GCN on synthetic PASCAL VOC data on a CPU and show what
it learned (``make demo``).

It generates the demo data if it is missing, trains the model of
``configs/demo/`` with the mmengine Runner (as ``tools/train.py`` does),
evaluates it on the held-out val split with mmseg's ``IoUMetric`` (which
prints the per-class IoU table), and writes into the work dir:

- ``predictions.png``: val images | ground truth | prediction (VOC palette);
- ``training_curves.png``: training loss and val mIoU over the iterations;
- ``iter_<N>.pth``: the final checkpoint (``tools/infer.py`` takes it);

then prints a one-line summary of where they are. Examples::

    python tools/demo.py                  # GCN + BR, work_dirs/demo
    python tools/demo.py --baseline       # 1x1 classifiers, work_dirs/demo-1x1
    python tools/demo.py --iters 4 --num-train 8 --num-aug 4 --num-val 4
"""
import argparse
import os.path as osp
import sys
import time
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence

# Warnings from inside mmengine / mmseg that say nothing about the demo: the
# pkg_resources deprecation, mmseg's own use of build_loss, and the unused
# visualization hook (the demo draws its figures itself).
for _message in ('pkg_resources is deprecated', '``build_loss`` would be',
                 'The draw is False'):
    warnings.filterwarnings('ignore', message=_message)

REPO = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO / 'configs' / 'demo'
GCN_CONFIG = CONFIG_DIR / 'gcn_r18-d32_1xb8-1k_demo-voc12aug-96x96.py'
BASELINE_CONFIG = (
    CONFIG_DIR / 'gcn-1x1-baseline_r18-d32_1xb8-1k_demo-voc12aug-96x96.py')
DEFAULT_WORK_DIRS = {False: 'work_dirs/demo', True: 'work_dirs/demo-1x1'}

#: The demo data set (arguments of ``generate_voc_aug``); the same arguments
#: always give the same files.
DEMO_DATA = dict(num_train=240, num_aug=80, num_val=60, min_side=96,
                 max_side=128, seed=0)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parses the command line.

    Args:
        argv (Sequence[str], optional): Arguments without the program name;
            defaults to ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='Train and evaluate a GCN on the synthetic demo data on a '
        'CPU, and draw what it learned.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument(
        '--baseline',
        action='store_true',
        help='train the 1x1-classifier baseline instead of the GCN '
        f'({BASELINE_CONFIG.name})')
    parser.add_argument(
        '--config',
        help='train this config instead (default: the GCN config '
        f'{GCN_CONFIG.name}, or the baseline one with --baseline)')
    parser.add_argument(
        '--work-dir',
        help=f'where logs, checkpoint and figures go (default: '
        f'{DEFAULT_WORK_DIRS[False]}, or {DEFAULT_WORK_DIRS[True]} with '
        '--baseline)')
    parser.add_argument(
        '--iters',
        type=int,
        help="training iterations (default: the config's); fewer for a "
        'quick check')
    parser.add_argument(
        '--seed', type=int, default=0, help='random seed of the training run')
    parser.add_argument(
        '--num-vis', type=int, default=6,
        help='val images in predictions.png')
    data = parser.add_argument_group(
        'demo data (generated when missing or made with other arguments)')
    data.add_argument(
        '--data-root',
        default='data/demo',
        help='folder holding VOCdevkit/VOC2012 (the --out of '
        'tools/dataset_converters/generate_demo_data.py)')
    data.add_argument('--num-train', type=int, default=DEMO_DATA['num_train'],
                      help='images in train.txt')
    data.add_argument('--num-aug', type=int, default=DEMO_DATA['num_aug'],
                      help='aug-only images in aug.txt')
    data.add_argument('--num-val', type=int, default=DEMO_DATA['num_val'],
                      help='held-out images in val.txt')
    data.add_argument('--data-seed', type=int, default=DEMO_DATA['seed'],
                      help='seed of the data generator')
    args = parser.parse_args(argv)
    if args.iters is not None and args.iters < 1:
        parser.error(f'--iters must be >= 1, got {args.iters}')
    if args.num_vis < 1:
        parser.error(f'--num-vis must be >= 1, got {args.num_vis}')
    if args.config is None:
        args.config = str(BASELINE_CONFIG if args.baseline else GCN_CONFIG)
    elif args.baseline:
        parser.error('give either --baseline or --config, not both')
    if args.work_dir is None:
        args.work_dir = DEFAULT_WORK_DIRS[args.baseline]
    return args


def prepare_data(out: str, num_train: int, num_aug: int, num_val: int,
                 seed: int) -> str:
    """Generates the demo data unless ``out`` already holds exactly it.

    Args:
        out (str): Folder to hold ``VOCdevkit/VOC2012``.
        num_train (int): Images in ``train.txt``.
        num_aug (int): Aug-only images in ``aug.txt``.
        num_val (int): Images in ``val.txt``.
        seed (int): Generator seed.

    Returns:
        str: The data set root, ``<out>/VOCdevkit/VOC2012``.
    """
    from mmseg_gcn.datasets import generate_voc_aug
    from mmseg_gcn.datasets.synthetic import generation_params

    root = osp.join(out, 'VOCdevkit', 'VOC2012')
    wanted = dict(DEMO_DATA, num_train=num_train, num_aug=num_aug,
                  num_val=num_val, seed=seed)
    found = generation_params(root)
    if found is not None:
        if all(found.get(k) == v for k, v in wanted.items()):
            print(f'Demo data: using {root} ({num_train} train + {num_aug} '
                  f'aug, {num_val} val images)', flush=True)
            return root
        print(f'Demo data: {root} was generated with other arguments; '
              'regenerating it.', flush=True)
    start = time.perf_counter()
    # A folder holding data not written by the generator is refused
    # (FileExistsError), never overwritten.
    summary = generate_voc_aug(out, **wanted)
    splits = ', '.join(f'{n} {split}' for split, n in summary.splits.items())
    print(f'Demo data: wrote {root} ({splits} images) in '
          f'{time.perf_counter() - start:.1f} s', flush=True)
    return root


def _set_data_root(node, data_root: str) -> None:
    """Replaces every ``data_root`` in a (nested) dataset config."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'data_root':
                node[key] = data_root
            else:
                _set_data_root(value, data_root)
    elif isinstance(node, (list, tuple)):
        for item in node:
            _set_data_root(item, data_root)


def _set_iterations(cfg, iters: int) -> None:
    """Makes the run ``iters`` iterations long; a short run still logs a
    few times and validates twice (half-way and at the end)."""
    old = cfg.train_cfg.max_iters
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = min(cfg.train_cfg.val_interval,
                                     max(1, iters // 2))
    for scheduler in cfg.get('param_scheduler') or []:
        if scheduler.get('end') == old:
            scheduler['end'] = iters
    logger = cfg.default_hooks.logger
    logger['interval'] = min(logger.get('interval', 50), max(1, iters // 8))
    cfg.default_hooks.checkpoint['interval'] = iters


def build_config(args: argparse.Namespace, data_root: str):
    """Loads the demo config as ``tools/train.py`` does and adapts it to the
    command line.

    Args:
        args (argparse.Namespace): Parsed command line.
        data_root (str): The data set root (``.../VOCdevkit/VOC2012``).

    Returns:
        mmengine.Config: The config to build the Runner from.
    """
    from mmseg_gcn.datasets import check_dataset_paths
    from mmseg_gcn.engine import load_run_config

    cfg = load_run_config(args.config, work_dir=args.work_dir)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        _set_data_root(cfg.get(key), data_root)
    check_dataset_paths(cfg, 'train_dataloader', 'val_dataloader')
    if args.iters is not None:
        _set_iterations(cfg, args.iters)
    cfg.randomness = dict(cfg.get('randomness') or {}, seed=args.seed)
    # Keep only the final checkpoint: that is the one the demo hands over.
    cfg.default_hooks.checkpoint.update(
        interval=cfg.train_cfg.max_iters, max_keep_ckpts=1,
        save_last=True)
    return cfg


def predict_val_images(runner, num: int) -> List:
    """Runs the trained model on the first ``num`` val images.

    Args:
        runner (mmengine.runner.Runner): The runner after training.
        num (int): Number of images.

    Returns:
        list[GridRow]: Image, ground truth and prediction of each, at the
        image's original size.
    """
    import mmcv
    import torch

    from mmseg_gcn.visualization import GridRow

    rows = []
    model = runner.model
    model.eval()
    with torch.no_grad():
        for data in runner.val_loop.dataloader:
            for sample in model.test_step(data):
                image = mmcv.imread(sample.img_path, channel_order='rgb')
                rows.append(GridRow(
                    image=image,
                    gt=sample.gt_sem_seg.data[0].cpu().numpy(),
                    pred=sample.pred_sem_seg.data[0].cpu().numpy(),
                    name=osp.splitext(osp.basename(sample.img_path))[0]))
            if len(rows) >= num:
                break
    return rows[:num]


def final_metrics(scalars_file: str) -> Dict[str, float]:
    """The val metrics of the last validation in a run's scalars file."""
    from mmseg_gcn.visualization import load_scalars

    _, val = load_scalars(scalars_file)
    if not val.get('mIoU'):
        raise RuntimeError(f'no validation result in {scalars_file}')
    return {key: series[-1][1] for key, series in val.items()}


def model_name(cfg) -> str:
    """A short name of the decoder, e.g. ``'GCN + BR'`` or ``'1x1 + BR'``."""
    head = cfg.model.decode_head
    if head.get('type') != 'GCNHead':
        return str(head.get('type'))
    name = {'gcn': 'GCN'}.get(head.get('classifier', 'gcn'),
                              head.get('classifier'))
    return name + (' + BR' if head.get('use_br', True) else '')


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the demo.

    Args:
        argv (Sequence[str], optional): Arguments without the program name.

    Returns:
        int: Exit status.
    """
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        data_root = prepare_data(args.data_root, args.num_train,
                                 args.num_aug, args.num_val, args.data_seed)
        cfg = build_config(args, data_root)
    except (FileNotFoundError, FileExistsError, ValueError) as error:
        # a wrong path or a folder holding other data: say so, no traceback
        print(f'error: {error}', file=sys.stderr)
        return 1

    from mmengine.runner import Runner

    from mmseg_gcn.visualization import (find_scalars_file,
                                         save_prediction_grid,
                                         save_training_curves)

    runner = Runner.from_cfg(cfg)
    train_start = time.perf_counter()
    runner.train()
    train_time = time.perf_counter() - train_start

    work_dir = runner.work_dir
    scalars = find_scalars_file(work_dir)
    metrics = final_metrics(scalars)
    name = model_name(cfg)
    curves = save_training_curves(
        scalars, osp.join(work_dir, 'training_curves.png'),
        title=f'{osp.basename(args.config)} ({name})')
    meta = runner.val_loop.dataloader.dataset.metainfo
    grid = save_prediction_grid(
        predict_val_images(runner, args.num_vis),
        classes=meta['classes'],
        palette=meta['palette'],
        out_file=osp.join(work_dir, 'predictions.png'),
        title=f"{name}: val mIoU {metrics['mIoU']:.1f}")
    checkpoint = osp.join(work_dir, f'iter_{runner.iter}.pth')
    num_val = len(runner.val_loop.dataloader.dataset)
    total = time.perf_counter() - start
    print(f"Demo done ({name}): val mIoU {metrics['mIoU']:.2f} on {num_val} "
          f'held-out images after {runner.iter} iterations; training '
          f'{train_time / 60:.1f} min, total {total / 60:.1f} min | '
          f'checkpoint {checkpoint} | predictions {grid} | curves {curves} '
          f'| log {runner.log_dir}', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
