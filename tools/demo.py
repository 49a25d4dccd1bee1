"""The demo: GCN against the 1x1 baseline on a CPU, where large kernels matter
(``make demo``).

On the *context set* (:mod:`mmseg_gcn.datasets.synthetic.context`: four shapes
with identical interiors, told apart only by their outlines) it trains two
models that differ only in their classifier, with the mmengine Runner as
``tools/train.py`` does:

- **GCN + BR**: ``configs/context/gcn_r18-s8_1xb8-1.2k_context-128x128.py``
  (a k = 15 GCN);
- **1x1 + BR**, the baseline: the same with a 1x1 conv classifier.

It evaluates both on the held-out val split and writes into the work dir
(``work_dirs/demo``):

- ``predictions.png``: val images | ground truth | baseline | GCN;
- ``vrf.png``: the valid receptive field of both models at the centre of a
  large object (the paper's Fig. 3), with the share of the object each one
  covers;
- ``gcn/``, ``1x1/``: each model's final checkpoint, log and training curves;

and ends with one summary line naming both models' mIoU.

``--dataset control`` runs the same two models on the control set, the
local-appearance demo data (:mod:`mmseg_gcn.datasets.synthetic`), where a small
window suffices. Examples::

    python tools/demo.py                       # context set, work_dirs/demo
    python tools/demo.py --dataset control     # work_dirs/demo-control
    python tools/demo.py --iters 4 --num-train 8 --num-val 4
"""
import argparse
import os.path as osp
import sys
import time
import warnings
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence

# Warnings from inside mmengine / mmseg that say nothing about the demo: the
# pkg_resources deprecation, mmseg's own use of build_loss, and the unused
# visualization hook (the demo draws its figures itself).
for _message in ('pkg_resources is deprecated', '``build_loss`` would be',
                 'The draw is False'):
    warnings.filterwarnings('ignore', message=_message)

from mmseg_gcn.engine.errors import ToolError, run_reporting_errors  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO / 'configs' / 'context'


class DemoDataset(NamedTuple):
    """One data set the demo can run on.

    Attributes:
        config (Path): The GCN + BR config; the baseline swaps its classifier.
        data_root (str): Default folder holding ``VOCdevkit/VOC2012``.
        work_dir (str): Default work dir.
        data (dict): Generator arguments (``num_train``, ``num_val``, ...).
    """

    config: Path
    data_root: str
    work_dir: str
    data: Dict[str, int]


DATASETS = {
    'context': DemoDataset(
        CONFIG_DIR / 'gcn_r18-s8_1xb8-1.2k_context-128x128.py',
        'data/context', 'work_dirs/demo',
        dict(num_train=400, num_aug=0, num_val=100, size=128, seed=0)),
    'control': DemoDataset(
        CONFIG_DIR / 'gcn_r18-s8_1xb8-1.2k_control-voc12aug-96x96.py',
        'data/demo', 'work_dirs/demo-control',
        dict(num_train=240, num_aug=80, num_val=60, min_side=96,
             max_side=128, seed=0)),
}

#: The two models: folder name, display name and decode_head overrides.
MODELS = (('1x1', '1x1 + BR baseline', dict(classifier='1x1')),
          ('gcn', 'GCN + BR', dict()))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parses the command line: ``argv``, or ``sys.argv[1:]``."""
    parser = argparse.ArgumentParser(
        description='Train GCN + BR and the 1x1 baseline on synthetic data on '
        'a CPU, compare them and draw what they learned.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument(
        '--dataset', choices=sorted(DATASETS), default='context',
        help='context: shapes told apart only by their outlines; control: '
        'classes told apart by local colour and texture')
    parser.add_argument(
        '--work-dir',
        help='where logs, checkpoints and figures go (default: '
        + ', '.join(f'{d.work_dir} for {n}' for n, d in DATASETS.items())
        + ')')
    parser.add_argument(
        '--iters',
        type=int,
        help="training iterations of each model (default: the config's); "
        'fewer for a quick check')
    parser.add_argument(
        '--seed', type=int, default=0, help='random seed of the training runs')
    parser.add_argument(
        '--amp', action='store_true',
        help='train and evaluate under automatic mixed precision (bf16 on '
        'CPU, fp16 on a GPU)')
    parser.add_argument(
        '--num-vis', type=int, default=6,
        help='val images in predictions.png')
    data = parser.add_argument_group(
        'demo data (generated when missing or made with other arguments)')
    data.add_argument(
        '--data-root',
        help='folder holding VOCdevkit/VOC2012 (default: '
        + ', '.join(f'{d.data_root} for {n}' for n, d in DATASETS.items())
        + ')')
    data.add_argument('--num-train', type=int, help='images in train.txt')
    data.add_argument('--num-val', type=int,
                      help='held-out images in val.txt')
    data.add_argument('--data-seed', type=int, default=0,
                      help='seed of the data generator')
    args = parser.parse_args(argv)
    for name in ('iters', 'num_train', 'num_val'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.num_vis < 1:
        parser.error(f'--num-vis must be >= 1, got {args.num_vis}')
    dataset = DATASETS[args.dataset]
    args.work_dir = args.work_dir or dataset.work_dir
    args.data_root = args.data_root or dataset.data_root
    return args


def prepare_data(args: argparse.Namespace) -> str:
    """Generates the demo data unless the data root already holds exactly it.

    Args:
        args (argparse.Namespace): Parsed command line.

    Returns:
        str: The data set root, ``<data_root>/VOCdevkit/VOC2012``.
    """
    from mmseg_gcn.datasets.synthetic import (generate_voc_aug,
                                              generate_voc_context,
                                              generation_params)

    generate = {'context': generate_voc_context,
                'control': generate_voc_aug}[args.dataset]
    wanted = dict(DATASETS[args.dataset].data, seed=args.data_seed)
    for name in ('num_train', 'num_val'):
        if getattr(args, name) is not None:
            wanted[name] = getattr(args, name)
    root = osp.join(args.data_root, 'VOCdevkit', 'VOC2012')
    found = generation_params(root)
    splits = f"{wanted['num_train']} train, {wanted['num_val']} val images"
    if found is not None:
        if all(found.get(k) == v for k, v in wanted.items()):
            print(f'Demo data: using {root} ({splits})', flush=True)
            return root
        print(f'Demo data: {root} was generated with other arguments; '
              'regenerating it.', flush=True)
    start = time.perf_counter()
    # A folder holding data not written by the generator is refused
    # (FileExistsError), never overwritten.
    generate(args.data_root, **wanted)
    print(f'Demo data: wrote {root} ({splits}) in '
          f'{time.perf_counter() - start:.1f} s', flush=True)
    return root


def build_config(args: argparse.Namespace, data_root: str, folder: str,
                 head: dict):
    """The run config of one of the demo's models, reading ``data_root``.

    Args:
        args (argparse.Namespace): Parsed command line.
        data_root (str): The data set root (``.../VOCdevkit/VOC2012``).
        folder (str): The model's folder in the work dir.
        head (dict): ``decode_head`` overrides of the model.

    Returns:
        mmengine.Config: The config to build the Runner from, keeping only
        the final checkpoint (the one the demo hands over); a short run
        (``--iters``) still validates half-way and at the end.

    Raises:
        FileNotFoundError: If the data is missing.
    """
    from mmseg_gcn.engine import prepare_run

    return prepare_run(
        str(DATASETS[args.dataset].config),
        osp.join(args.work_dir, folder),
        data_root=data_root,
        iters=args.iters,
        validations=2,
        seed=args.seed,
        head=head,
        run_name=f'demo_{folder}',
        checkpoints='final',
        amp=args.amp)


class TrainedModel(NamedTuple):
    """A model the demo trained.

    Attributes:
        name (str): Display name.
        config (str): The config file it was built from (written to its
            folder, as trained).
        checkpoint (str): Its final checkpoint.
        metrics (dict): Its final val metrics.
        runner: The Runner, holding the trained model.
        train_time (float): Training time in seconds.
    """

    name: str
    config: str
    checkpoint: str
    metrics: Dict[str, float]
    runner: object
    train_time: float


def train_model(args: argparse.Namespace, cfg, name: str) -> TrainedModel:
    """Trains and validates one of the demo's models.

    Args:
        args (argparse.Namespace): Parsed command line.
        cfg (mmengine.Config): The model's run config (:func:`build_config`).
        name (str): The model's display name.

    Returns:
        TrainedModel: What the run produced.
    """
    from mmseg_gcn.engine import train_run
    from mmseg_gcn.visualization import find_scalars_file, save_training_curves

    trained = train_run(cfg, keep_runner=True)
    if not trained.metrics or 'mIoU' not in trained.metrics:
        raise RuntimeError(f'{trained.work_dir}: no validation result')
    save_training_curves(find_scalars_file(trained.work_dir),
                         osp.join(trained.work_dir, 'training_curves.png'),
                         title=f'{name} ({args.dataset} set)')
    config = osp.join(trained.work_dir, 'config.py')
    cfg.dump(config)
    return TrainedModel(name, config, trained.checkpoint, trained.metrics,
                        trained.runner, trained.train_time_s)


def predict_val_images(models: Sequence[TrainedModel], num: int) -> List:
    """Runs every model on the first ``num`` val images.

    Args:
        models (Sequence[TrainedModel]): The trained models.
        num (int): Number of images.

    Returns:
        list[GridRow]: Image, ground truth and each model's prediction, at
        the image's original size.
    """
    import mmcv
    import torch

    from mmseg_gcn.visualization import GridRow

    predictions: Dict[str, list] = {}
    samples = []
    for model in models:
        network = model.runner.model
        network.eval()
        predictions[model.name] = []
        with torch.no_grad():
            for data in model.runner.val_loop.dataloader:
                for sample in network.test_step(data):
                    predictions[model.name].append(
                        sample.pred_sem_seg.data[0].cpu().numpy())
                    if len(samples) < num:
                        samples.append(sample)
                if len(predictions[model.name]) >= num:
                    break
    rows = []
    for i, sample in enumerate(samples[:num]):
        rows.append(GridRow(
            image=mmcv.imread(sample.img_path, channel_order='rgb'),
            gt=sample.gt_sem_seg.data[0].cpu().numpy(),
            pred={name: preds[i] for name, preds in predictions.items()},
            name=osp.splitext(osp.basename(sample.img_path))[0]))
    return rows


def vrf_image(data_root: str) -> tuple:
    """The val image (and its label) whose largest object is the largest of
    the split: the unit at its centre is the farthest from any outline."""
    import numpy as np
    from PIL import Image

    from mmseg_gcn.analysis.valid_receptive_field import largest_object

    with open(osp.join(data_root, 'ImageSets', 'Segmentation',
                       'val.txt')) as f:
        stems = f.read().split()
    best, best_area = None, -1
    for stem in stems:
        label = osp.join(data_root, 'SegmentationClass', f'{stem}.png')
        area = int(largest_object(np.array(Image.open(label))).sum())
        if area > best_area:
            best, best_area = stem, area
    return (osp.join(data_root, 'JPEGImages', f'{best}.jpg'),
            osp.join(data_root, 'SegmentationClass', f'{best}.png'))


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the demo; returns the exit status
    (``argv``: the arguments without the program name)."""
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        data_root = prepare_data(args)
        # Both configs are built, and so checked, before either model trains.
        configs = [build_config(args, data_root, folder, head)
                   for folder, _, head in MODELS]
    except (FileNotFoundError, FileExistsError, ValueError) as error:
        # a wrong path or a folder holding other data: say so, no traceback
        raise ToolError(str(error)) from error

    from mmseg_gcn.analysis.valid_receptive_field import \
        compare_valid_receptive_fields
    from mmseg_gcn.engine import inference_autocast
    from mmseg_gcn.visualization import save_prediction_grid

    models = [train_model(args, cfg, name)
              for cfg, (_, name, _) in zip(configs, MODELS)]
    baseline, gcn = models
    meta = gcn.runner.val_loop.dataloader.dataset.metainfo
    with inference_autocast(args.amp):
        rows = predict_val_images(models, args.num_vis)
    grid = save_prediction_grid(
        rows,
        classes=meta['classes'],
        palette=meta['palette'],
        out_file=osp.join(args.work_dir, 'predictions.png'),
        title=f"{args.dataset} set: {baseline.name} "
        f"{baseline.metrics['mIoU']:.1f} mIoU, {gcn.name} "
        f"{gcn.metrics['mIoU']:.1f} mIoU")
    image, label = vrf_image(data_root)
    vrf = compare_valid_receptive_fields(
        [(m.config, m.checkpoint) for m in models], image,
        osp.join(args.work_dir, 'vrf.png'), object_label=label,
        names=[m.name for m in models], progress=False)
    coverage = [r['object_coverage'] for r in vrf['results']]
    total = time.perf_counter() - start
    num_val = len(gcn.runner.val_loop.dataloader.dataset)
    gain = gcn.metrics['mIoU'] - baseline.metrics['mIoU']
    print(f"{gcn.name} {gcn.metrics['mIoU']:.1f} mIoU | {baseline.name} "
          f"{baseline.metrics['mIoU']:.1f} mIoU | gain {gain:+.1f} on "
          f'{num_val} held-out {args.dataset}-set images | valid receptive '
          f'field covers {100 * coverage[1]:.0f}% vs {100 * coverage[0]:.0f}% '
          f'of the object | training {gcn.train_time / 60:.1f} + '
          f'{baseline.train_time / 60:.1f} min, total {total / 60:.1f} min | '
          f'predictions {grid} | vrf {vrf["out_file"]} | checkpoints '
          f'{gcn.checkpoint}, {baseline.checkpoint}', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(run_reporting_errors(main))
