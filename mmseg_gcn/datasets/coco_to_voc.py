"""COCO instance annotations -> PASCAL VOC semantic labels.

The paper's first VOC stage trains on the COCO images that contain any of the
20 PASCAL VOC classes, labelled with VOC's classes. :func:`convert_split`
writes, for one COCO split (``train2017``, ``val2017``, ...)::

    <out_dir>/<split>/<image name>.png   VOC label (palette PNG, as VOC's own)
    <out_dir>/<split>.txt                names of the images kept, one a line

so that mmseg's ``PascalVOCDataset`` reads them with
``data_prefix=dict(img_path=<split>, seg_map_path='voc_labels/<split>')``
under ``data_root='data/coco'`` (see
``configs/gcn/gcn_r152-d32_1xb1-640k_coco-voc12aug-640x640.py``).

Labels:

- the 20 VOC categories are found in COCO by name (:data:`COCO_TO_VOC`:
  ``airplane`` -> ``aeroplane``, ``couch`` -> ``sofa``, ``tv`` ->
  ``tvmonitor``, ...); every other COCO category is background (0), as VOC
  labels objects of other classes;
- crowd regions (``iscrowd=1``) of VOC categories are 255 (ignored): they
  hold objects of a VOC class whose extent is unknown;
- overlapping objects (ours, COCO has no depth order): crowd regions are
  painted first, then the other objects from the largest to the smallest
  mask area (ties by annotation id), so a smaller object in front of a larger
  one keeps its pixels and the result never depends on the file's order;
- an image is kept only if at least one pixel gets a VOC class.

The conversion is resumable: each label is written to a temporary file and
renamed, so an existing PNG is complete and is not computed again; the list
is written the same way at the end of the split.
"""
import glob
import os
import os.path as osp
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..utils import TMP_SUFFIX, atomic_write
from .palette import save_voc_label

#: COCO category name -> PASCAL VOC class name, for the 20 VOC classes.
COCO_TO_VOC: Dict[str, str] = {
    'airplane': 'aeroplane',
    'bicycle': 'bicycle',
    'bird': 'bird',
    'boat': 'boat',
    'bottle': 'bottle',
    'bus': 'bus',
    'car': 'car',
    'cat': 'cat',
    'chair': 'chair',
    'cow': 'cow',
    'dining table': 'diningtable',
    'dog': 'dog',
    'horse': 'horse',
    'motorcycle': 'motorbike',
    'person': 'person',
    'potted plant': 'pottedplant',
    'sheep': 'sheep',
    'couch': 'sofa',
    'train': 'train',
    'tv': 'tvmonitor',
}

#: PASCAL VOC classes, in the order of mmseg's ``PascalVOCDataset`` (label =
#: index).
VOC_CLASSES: Tuple[str, ...] = (
    'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus',
    'car', 'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse', 'motorbike',
    'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor')

#: Label of crowd regions.
IGNORE_INDEX = 255


@dataclass(frozen=True)
class SplitSummary:
    """What :func:`convert_split` did.

    Attributes:
        split (str): the COCO split.
        num_images (int): images in the split's annotation file.
        num_kept (int): images with VOC objects (listed in ``list_file``).
        num_written (int): labels written by this run.
        num_existing (int): labels found complete from an earlier run.
        list_file (str): the list of kept images.
    """

    split: str
    num_images: int
    num_kept: int
    num_written: int
    num_existing: int
    list_file: str


def category_to_label(categories: Iterable[dict]) -> Dict[int, int]:
    """Maps COCO category ids to VOC labels (1..20) by category name.

    Args:
        categories (Iterable[dict]): the ``categories`` of a COCO annotation
            file (``id`` and ``name`` each).

    Returns:
        dict[int, int]: COCO category id -> VOC label, for the 20 VOC
        categories only.

    Raises:
        ValueError: if a VOC category is not among them (not a COCO
            instances file).
    """
    by_name = {c['name']: c['id'] for c in categories}
    missing = sorted(set(COCO_TO_VOC) - set(by_name))
    if missing:
        raise ValueError(
            f'COCO categories {missing} are missing from the annotation '
            "file: expected COCO's instances_<split>.json, which has all 80.")
    return {
        by_name[coco]: VOC_CLASSES.index(voc)
        for coco, voc in COCO_TO_VOC.items()
    }


def annotation_mask(ann: dict, height: int, width: int) -> np.ndarray:
    """Decodes an annotation's segmentation (polygons or RLE) to a mask.

    Args:
        ann (dict): a COCO annotation.
        height (int): image height.
        width (int): image width.

    Returns:
        np.ndarray: ``(height, width)`` bool mask.
    """
    from pycocotools import mask as mask_utils
    segm = ann['segmentation']
    if isinstance(segm, list):  # polygons
        rle = mask_utils.merge(mask_utils.frPyObjects(segm, height, width))
    elif isinstance(segm.get('counts'), list):  # uncompressed RLE (crowds)
        rle = mask_utils.frPyObjects(segm, height, width)
    else:  # compressed RLE
        rle = segm
    return mask_utils.decode(rle).astype(bool)


def voc_label(annotations: Sequence[dict], height: int, width: int,
              cat_to_label: Dict[int, int]) -> Optional[np.ndarray]:
    """Paints one image's VOC label from its COCO annotations.

    Args:
        annotations (Sequence[dict]): the image's COCO annotations.
        height (int): image height.
        width (int): image width.
        cat_to_label (dict[int, int]): from :func:`category_to_label`.

    Returns:
        np.ndarray, optional: ``(height, width)`` uint8 label (0 background,
        1..20 VOC classes, 255 crowd), or None if no pixel has a VOC class.
    """
    label = np.zeros((height, width), np.uint8)
    objects = []
    for ann in annotations:
        if ann['category_id'] not in cat_to_label:
            continue
        mask = annotation_mask(ann, height, width)
        if ann.get('iscrowd', 0):
            label[mask] = IGNORE_INDEX
        else:
            objects.append((-int(mask.sum()), ann['id'], mask,
                            cat_to_label[ann['category_id']]))
    # largest first, so that smaller objects stay on top
    for _, _, mask, value in sorted(objects, key=lambda o: o[:2]):
        label[mask] = value
    if not np.any((label > 0) & (label != IGNORE_INDEX)):
        return None
    return label


def _convert_image(task: Tuple[List[dict], int, int, Dict[int, int], str]
                   ) -> bool:
    """Converts one image (a worker's job); returns whether it is kept."""
    annotations, height, width, cat_to_label, path = task
    label = voc_label(annotations, height, width, cat_to_label)
    if label is None:
        return False
    save_voc_label(label, path)
    return True


def convert_split(coco_root: str,
                  split: str,
                  out_dir: Optional[str] = None,
                  nproc: int = 1,
                  show_progress: bool = True) -> SplitSummary:
    """Writes the VOC labels of one COCO split and the list of kept images.

    Args:
        coco_root (str): COCO's folder, holding
            ``annotations/instances_<split>.json``.
        split (str): e.g. ``'train2017'``.
        out_dir (str, optional): output folder. Defaults to
            ``<coco_root>/voc_labels``.
        nproc (int): worker processes. Defaults to 1.
        show_progress (bool): show a progress bar. Defaults to True.

    Returns:
        SplitSummary: what was done.

    Raises:
        FileNotFoundError: if the annotation file does not exist.
        ValueError: if it lacks VOC categories.
    """
    from pycocotools.coco import COCO
    from tqdm import tqdm

    ann_file = osp.join(coco_root, 'annotations', f'instances_{split}.json')
    if not osp.isfile(ann_file):
        raise FileNotFoundError(
            f'{ann_file} does not exist: download COCO\'s annotations '
            '(annotations_trainval2017.zip) and unzip it into '
            f'{coco_root}, or pass the right COCO folder and --splits.')
    out_dir = out_dir or osp.join(coco_root, 'voc_labels')
    split_dir = osp.join(out_dir, split)
    os.makedirs(split_dir, exist_ok=True)
    # files left by an interrupted run; complete labels are never temporary
    for stale in glob.glob(osp.join(split_dir, f'*{TMP_SUFFIX}')):
        os.remove(stale)

    coco = COCO(ann_file)
    cat_to_label = category_to_label(coco.loadCats(coco.getCatIds()))
    voc_cat_ids = list(cat_to_label)
    kept, tasks, existing = {}, [], 0
    image_ids = sorted(coco.getImgIds())
    for image_id in image_ids:
        info = coco.loadImgs(image_id)[0]
        stem = osp.splitext(info['file_name'])[0]
        path = osp.join(split_dir, f'{stem}.png')
        if osp.isfile(path):
            kept[image_id] = stem
            existing += 1
            continue
        ann_ids = coco.getAnnIds(imgIds=image_id, catIds=voc_cat_ids,
                                 iscrowd=None)
        if not ann_ids:
            continue
        tasks.append((image_id, stem, (coco.loadAnns(ann_ids),
                                       info['height'], info['width'],
                                       cat_to_label, path)))

    progress = tqdm(total=len(tasks), desc=f'{split}: COCO -> VOC labels',
                    unit='img', disable=not show_progress)
    jobs = [task for _, _, task in tasks]
    if nproc > 1:
        with Pool(nproc) as pool:
            results = []
            for result in pool.imap(_convert_image, jobs, chunksize=16):
                results.append(result)
                progress.update()
    else:
        results = []
        for job in jobs:
            results.append(_convert_image(job))
            progress.update()
    progress.close()
    for (image_id, stem, _), is_kept in zip(tasks, results):
        if is_kept:
            kept[image_id] = stem

    list_file = osp.join(out_dir, f'{split}.txt')
    names = ''.join(f'{kept[i]}\n' for i in image_ids if i in kept)
    atomic_write(list_file,
                 lambda tmp: Path(tmp).write_text(names, encoding='utf-8'))
    return SplitSummary(split, len(image_ids), len(kept),
                        sum(results), existing, list_file)

