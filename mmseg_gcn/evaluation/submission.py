"""Test results in the formats of the benchmark servers (``tools/test.py
--format-only``).

- **Cityscapes** (``CityscapesDataset``): mmseg's own ``CityscapesMetric``
  with ``format_only=True``: one PNG per image, ``<image name>.png``
  (``berlin_000000_000019_leftImg8bit.png``), holding Cityscapes *label ids*
  (``cityscapesscripts``' table maps the 19 train ids back), as the server's
  pixel-level task takes them.
- **PASCAL VOC** (``PascalVOCDataset`` and its subclasses):
  :class:`VOCSubmissionMetric` writes one palette PNG per image, the class
  indices coloured with the VOC colour map, as
  ``<out>/results/VOC2012/Segmentation/comp6_test_cls/<image id>.png``
  (``comp6``: trained with data beyond VOC, as the paper's models are). The
  server takes that ``results`` folder as a tar archive.
"""
import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmseg.registry import DATASETS, METRICS

from ..datasets.palette import save_voc_label

#: The folder of VOC's segmentation results, below the output folder.
VOC_RESULTS_DIR = osp.join('results', 'VOC2012', 'Segmentation',
                           '{competition}_test_cls')


@METRICS.register_module()
class VOCSubmissionMetric(BaseMetric):
    """Writes predictions as the PASCAL VOC evaluation server takes them;
    computes no metric (the test split has no labels).

    Args:
        output_dir (str): The folder that gets ``results/VOC2012/...``.
        competition (str): ``'comp6'`` (trained with outside data) or
            ``'comp5'`` (VOC data only). Defaults to ``'comp6'``.
        collect_device (str): See mmengine's ``BaseMetric``.
        prefix (str, optional): See mmengine's ``BaseMetric``.
    """

    def __init__(self,
                 output_dir: str,
                 competition: str = 'comp6',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if competition not in ('comp5', 'comp6'):
            raise ValueError("VOCSubmissionMetric: competition must be "
                             f"'comp5' or 'comp6', got {competition!r}.")
        self.folder = osp.join(output_dir,
                               VOC_RESULTS_DIR.format(competition=competition))

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Writes each prediction as ``<image id>.png``."""
        os.makedirs(self.folder, exist_ok=True)
        for sample in data_samples:
            mask = sample['pred_sem_seg']['data'][0].cpu().numpy()
            stem = osp.splitext(osp.basename(sample['img_path']))[0]
            path = osp.join(self.folder, f'{stem}.png')
            save_voc_label(mask.astype(np.uint8), path)  # complete or absent
            self.results.append(path)

    def compute_metrics(self, results: list) -> dict:
        """No metric: says where the files are."""
        print_log(f'{len(results)} VOC results written to {self.folder}',
                  logger='current')
        return {}


def _is_dataset(dataset_type: str, base: str) -> bool:
    """Whether a registered dataset type is mmseg's ``base`` or a subclass
    of it."""
    cls = DATASETS.get(dataset_type)
    return cls is not None and any(c.__name__ == base for c in cls.__mro__)


def use_submission_format(cfg: Config, output_dir: str) -> str:
    """Makes a test config write its predictions in its benchmark server's
    format into ``output_dir`` instead of evaluating them, and load no
    labels (a server's test split has none).

    Args:
        cfg (Config): A run config whose ``test_dataloader`` reads a
            Cityscapes or PASCAL VOC data set.
        output_dir (str): Where the files go.

    Returns:
        str: ``'cityscapes'`` or ``'voc'``.

    Raises:
        ValueError: For another data set, naming its type.
    """
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset = cfg.test_dataloader.dataset
    dataset_type = str(dataset.get('type'))
    if _is_dataset(dataset_type, 'CityscapesDataset'):
        kind = 'cityscapes'
        cfg.test_evaluator = dict(
            type='CityscapesMetric', output_dir=output_dir, format_only=True,
            keep_results=True)
    elif _is_dataset(dataset_type, 'PascalVOCDataset'):
        kind = 'voc'
        cfg.test_evaluator = dict(type='VOCSubmissionMetric',
                                  output_dir=output_dir)
    else:
        raise ValueError(
            f'--format-only writes the Cityscapes and PASCAL VOC server '
            f'formats; the test set of {cfg.filename} is a {dataset_type!r}. '
            'Use --out to keep the predictions as class-index PNGs instead.')
    dataset.pipeline = [
        step for step in dataset.pipeline
        if step.get('type') not in ('LoadAnnotations', 'CheckSegMap',
                                    'CheckedLoadAnnotations')
    ]
    return kind


__all__ = ['VOCSubmissionMetric', 'VOC_RESULTS_DIR', 'use_submission_format']
