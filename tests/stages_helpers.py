"""Helpers for the tests of the configs and of multi-stage training.

- :data:`TINY_OPTIONS`: ``--cfg-options`` that shrink the ResNet-152 configs
  to a ResNet-18 at 1/8 width with 2 iterations a stage, so a whole schedule
  trains in seconds on CPU.
- :func:`make_stage_data`: demo data in the official download layouts,
  converted by the official tools into what the real configs read, under
  ``<root>/data``: VOC + SBD aug, Cityscapes fine + coarse, and a small COCO
  (VOC demo images with COCO instance annotations).
- Hooks the tests add through ``custom_hooks``: :class:`RecordStartHook`
  saves the weights each stage starts from; :class:`KillAtIterHook` kills the
  process mid-stage, like a crash; :class:`StopAtIterHook` stops one process
  of a multi-process run (SIGSTOP), like a hung peer.
- ``python tests/stages_helpers.py SCHEDULE WORK_DIR OPTIONS_JSON`` runs
  :func:`mmseg_gcn.engine.stages.run_schedule` with those options (dicts
  included, which ``--cfg-options`` cannot express).
"""
import json
import os
import os.path as osp
import shutil
import signal
import sys
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmseg.registry import HOOKS
from PIL import Image

REPO = Path(__file__).resolve().parents[1]

#: Overrides making any ResNet-152 GCN config tiny and short.
TINY_OPTIONS: Dict[str, object] = {
    'model.backbone.depth': 18,
    'model.backbone.stem_channels': 8,
    'model.backbone.base_channels': 8,
    'model.backbone.init_cfg': None,
    'model.decode_head.in_channels': [8, 16, 32, 64],
    'train_cfg.max_iters': 2,
    'train_cfg.val_interval': 2,
    'default_hooks.checkpoint.interval': 1,
    'default_hooks.logger.interval': 1,
    'train_dataloader.num_workers': 0,
    'train_dataloader.persistent_workers': False,
    'val_dataloader.num_workers': 0,
    'val_dataloader.persistent_workers': False,
    'test_dataloader.num_workers': 0,
    'test_dataloader.persistent_workers': False,
}

#: COCO category ids and names used by the small COCO data (real COCO ids).
COCO_CATEGORIES: List[dict] = [
    dict(id=i, name=n) for i, n in [
        (1, 'person'), (2, 'bicycle'), (3, 'car'), (4, 'motorcycle'),
        (5, 'airplane'), (6, 'bus'), (7, 'train'), (8, 'truck'), (9, 'boat'),
        (16, 'bird'), (17, 'cat'), (18, 'dog'), (19, 'horse'), (20, 'sheep'),
        (21, 'cow'), (44, 'bottle'), (62, 'chair'), (63, 'couch'),
        (64, 'potted plant'), (67, 'dining table'), (72, 'tv'), (73, 'laptop')
    ]
]


def to_cli(options: Dict[str, object]) -> List[str]:
    """``--cfg-options`` arguments for ``options``."""
    def text(value):
        if isinstance(value, (list, tuple)):
            return '[' + ','.join(str(v) for v in value) + ']'
        return str(value)
    return [f'{key}={text(value)}' for key, value in options.items()]


def uncompressed_rle(mask: np.ndarray) -> dict:
    """A binary mask as COCO's uncompressed RLE (column-major runs, starting
    with a run of zeros), as COCO stores crowd regions."""
    flat = np.asarray(mask, np.uint8).flatten(order='F')
    counts, value, run = [], 0, 0
    for pixel in flat:
        if pixel != value:
            counts.append(run)
            value, run = pixel, 0
        run += 1
    counts.append(run)
    return dict(counts=[int(c) for c in counts], size=list(mask.shape))


def write_coco_json(path: Path, images: List[dict],
                    annotations: List[dict]) -> None:
    """Writes a COCO instances file with :data:`COCO_CATEGORIES`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(images=images, annotations=annotations,
                                    categories=COCO_CATEGORIES)))


def make_mini_coco(coco_root: Path, voc_root: Path,
                   splits: Dict[str, int]) -> None:
    """A small COCO made of VOC demo images: each VOC object class of an
    image becomes one COCO instance (mask as RLE), under its COCO name.

    Args:
        coco_root: COCO folder to write (``<split>/*.jpg``,
            ``annotations/instances_<split>.json``).
        voc_root: a demo ``VOCdevkit/VOC2012``.
        splits: split name -> number of images.
    """
    from mmseg_gcn.datasets.coco_to_voc import COCO_TO_VOC, VOC_CLASSES
    voc_to_coco = {v: c for c, v in COCO_TO_VOC.items()}
    coco_ids = {c['name']: c['id'] for c in COCO_CATEGORIES}
    stems = sorted(p.stem for p in (voc_root / 'SegmentationClassAug').glob(
        '*.png'))
    image_id = ann_id = 0
    for split, count in splits.items():
        (coco_root / split).mkdir(parents=True, exist_ok=True)
        images, annotations = [], []
        for stem in stems[:count]:
            image_id += 1
            label = np.array(
                Image.open(voc_root / 'SegmentationClassAug' / f'{stem}.png'))
            name = f'{image_id:012d}.jpg'
            shutil.copy(voc_root / 'JPEGImages' / f'{stem}.jpg',
                        coco_root / split / name)
            h, w = label.shape
            images.append(dict(id=image_id, file_name=name, height=h,
                               width=w))
            for value in np.unique(label):
                if value in (0, 255):
                    continue
                ann_id += 1
                mask = label == value
                annotations.append(dict(
                    id=ann_id, image_id=image_id, iscrowd=0,
                    category_id=coco_ids[voc_to_coco[VOC_CLASSES[value]]],
                    segmentation=uncompressed_rle(mask),
                    area=int(mask.sum()), bbox=[0, 0, w, h]))
        write_coco_json(coco_root / 'annotations' / f'instances_{split}.json',
                        images, annotations)


def make_stage_data(root: Path) -> Path:
    """Demo data for every schedule under ``<root>/data``, made as a user
    makes it: the official download layouts (:mod:`download_layouts`: VOC
    palette PNGs and SBD ``.mat`` files, Cityscapes polygon files, COCO
    instance JSON) converted by the official tools (mmseg's ``voc_aug.py``,
    ``cityscapesscripts``' ``createTrainIdLabelImgs``, this package's COCO
    converter); returns ``root`` (the folder to run from)."""
    from download_layouts import (cityscapes_download, convert_cityscapes,
                                  convert_voc_aug, voc_download)

    from mmseg_gcn.datasets.coco_to_voc import convert_split
    from mmseg_gcn.datasets.synthetic import (generate_cityscapes,
                                              generate_voc_aug)
    data = root / 'data'
    generate_voc_aug(data, num_train=3, num_aug=2, num_val=2, min_side=64,
                     max_side=96, seed=0)
    generate_cityscapes(data, num_train=2, num_val=1, num_extra=2, width=128,
                        seed=0)
    make_mini_coco(data / 'coco', data / 'VOCdevkit' / 'VOC2012',
                   {'train2017': 2, 'val2017': 1})
    voc_download(data)
    convert_voc_aug(data)
    cityscapes_download(data)
    convert_cityscapes(data)
    for split in ('train2017', 'val2017'):
        convert_split(str(data / 'coco'), split, show_progress=False)
    return root


@HOOKS.register_module()
class RecordStartHook(Hook):
    """Saves the model's weights when training starts (after loading or
    resuming) to ``<out_dir>/<stage folder>_iter<i>.pth``, and the size of
    the training set to ``<out_dir>/<stage folder>.json``."""

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir

    def before_train(self, runner) -> None:
        os.makedirs(self.out_dir, exist_ok=True)
        name = osp.basename(osp.normpath(runner.work_dir))
        model = runner.model.module if hasattr(runner.model,
                                               'module') else runner.model
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        torch.save(state, osp.join(self.out_dir, f'{name}_iter{runner.iter}.pth'))
        with open(osp.join(self.out_dir, f'{name}.json'), 'w') as f:
            json.dump(dict(dataset_len=len(runner.train_dataloader.dataset)),
                      f)


@HOOKS.register_module()
class KillAtIterHook(Hook):
    """Kills the process (SIGKILL, no clean-up) after iteration ``at_iter``
    of the stage whose folder is ``stage_folder``."""

    def __init__(self, stage_folder: str, at_iter: int) -> None:
        self.stage_folder = stage_folder
        self.at_iter = at_iter

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        folder = osp.basename(osp.normpath(runner.work_dir))
        if folder == self.stage_folder and runner.iter + 1 == self.at_iter:
            os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class StopAtIterHook(Hook):
    """Stops the process of rank ``rank`` (SIGSTOP: it hangs, its sockets
    stay open) after iteration ``at_iter``, and says so first."""

    def __init__(self, rank: int, at_iter: int) -> None:
        self.rank = rank
        self.at_iter = at_iter

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        from mmengine.dist import get_rank
        if get_rank() == self.rank and runner.iter + 1 == self.at_iter:
            print(f'StopAtIterHook: stopping rank {self.rank}', flush=True)
            os.kill(os.getpid(), signal.SIGSTOP)


def main(argv: Optional[List[str]] = None) -> int:
    """``SCHEDULE WORK_DIR OPTIONS_JSON``: runs the schedule."""
    from mmseg_gcn.engine.stages import run_schedule
    schedule, work_dir, options = (argv or sys.argv[1:])
    run_schedule(schedule, work_dir=work_dir, cfg_options=json.loads(options))
    return 0


if __name__ == '__main__':
    sys.exit(main())
