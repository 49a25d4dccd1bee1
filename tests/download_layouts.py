"""The official download layouts of Cityscapes and PASCAL VOC + SBD, made
from the synthetic data sets, and their conversion by the official tools.

The synthetic generators write the converted formats directly
(``*_labelTrainIds.png``, ``SegmentationClassAug``). These helpers undo that,
into what a user downloads, so that the tests go through the converters a
user runs:

- :func:`cityscapes_download`: ``gtFine``/``gtCoarse`` hold
  ``*_gt*_polygons.json`` (one polygon per connected region, larger ones
  first, an ``ego vehicle`` polygon along the bottom; unlabelled elsewhere)
  and ``gtFine`` also ``*_gtFine_labelIds.png``, as the official zips do;
  :func:`convert_cityscapes` runs ``cityscapesscripts``'
  ``createTrainIdLabelImgs`` (``csCreateTrainIdLabelImgs``), which writes the
  ``*_labelTrainIds.png`` the configs read.
- :func:`voc_download`: ``VOCdevkit/VOC2012`` with the palette PNGs of
  ``SegmentationClass`` (255 along outlines) and the train / val lists only,
  and SBD's ``benchmark_RELEASE/dataset`` with ``cls/<id>.mat`` (``GTcls``
  structs) and its own train / val lists; :func:`convert_voc_aug` runs
  mmseg's ``tools/dataset_converters/voc_aug.py``, which writes
  ``SegmentationClassAug`` and the ``aug`` / ``trainaug`` lists.
"""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List
from unittest import mock

import cv2
import mmseg
import numpy as np
from PIL import Image

VOC_AUG_SCRIPT = (Path(mmseg.__file__).parent / '.mim' / 'tools' /
                  'dataset_converters' / 'voc_aug.py')


def _polygons(train_ids: np.ndarray) -> List[dict]:
    """Cityscapes polygon objects that paint ``train_ids`` (255 left
    unlabelled), each connected region's outline, larger regions first so
    that a region inside another is painted over it."""
    from cityscapesscripts.helpers.labels import trainId2label
    regions = []
    for train_id in np.unique(train_ids):
        if train_id == 255:
            continue
        mask = (train_ids == train_id).astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_CCOMP,
                                       cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            if len(contour) >= 3:
                regions.append((cv2.contourArea(contour),
                                trainId2label[int(train_id)].name,
                                contour[:, 0, :].tolist()))
    regions.sort(key=lambda region: -region[0])
    height, width = train_ids.shape
    ego = [[0, height - 1], [width - 1, height - 1],
           [width - 1, height - 4], [0, height - 4]]
    return ([dict(label=name, polygon=points) for _, name, points in regions]
            + [dict(label='ego vehicle', polygon=ego)])


def cityscapes_download(data: Path) -> List[Path]:
    """Turns ``<data>/cityscapes``'s label PNGs into the polygon files of the
    official download (see the module docstring); returns them."""
    from cityscapesscripts.preparation.json2labelImg import json2labelImg
    written = []
    for png in sorted((data / 'cityscapes').rglob('*_labelTrainIds.png')):
        train_ids = np.array(Image.open(png))
        polygons = Path(str(png).replace('_labelTrainIds.png',
                                         '_polygons.json'))
        polygons.write_text(json.dumps(dict(
            imgHeight=int(train_ids.shape[0]),
            imgWidth=int(train_ids.shape[1]),
            objects=_polygons(train_ids))))
        png.unlink()
        if '_gtFine_' in png.name:
            json2labelImg(str(polygons),
                          str(polygons).replace('_polygons.json',
                                                '_labelIds.png'), 'ids')
        written.append(polygons)
    return written


def convert_cityscapes(data: Path) -> None:
    """Runs ``cityscapesscripts``' ``createTrainIdLabelImgs`` on
    ``<data>/cityscapes``, as a user does after the download."""
    result = subprocess.run(
        [sys.executable, '-m',
         'cityscapesscripts.preparation.createTrainIdLabelImgs'],
        env=dict(os.environ, CITYSCAPES_DATASET=str(data / 'cityscapes')),
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def voc_download(data: Path) -> Path:
    """Turns the synthetic VOC + aug tree under ``<data>`` into the VOC 2012
    and SBD downloads (see the module docstring); returns SBD's folder."""
    from scipy.io import savemat
    voc = data / 'VOCdevkit' / 'VOC2012'
    lists = voc / 'ImageSets' / 'Segmentation'

    def read(name: str) -> List[str]:
        return (lists / f'{name}.txt').read_text().split()

    train, val, aug = read('train'), read('val'), read('aug')
    sbd = data / 'benchmark_RELEASE'
    (sbd / 'dataset' / 'cls').mkdir(parents=True)
    for png in sorted((voc / 'SegmentationClassAug').glob('*.png')):
        mask = np.array(Image.open(png))
        classes = np.unique(mask[(mask > 0) & (mask < 255)])
        savemat(sbd / 'dataset' / 'cls' / f'{png.stem}.mat', dict(
            GTcls=dict(Segmentation=mask, Boundaries=np.zeros((0, 0)),
                       CategoriesPresent=classes.astype(np.uint8))))
        png.unlink()
    (voc / 'SegmentationClassAug').rmdir()
    for name in ('aug', 'trainaug'):
        (lists / f'{name}.txt').unlink()
    # SBD's own split overlaps VOC's train and val, as the real one does
    (sbd / 'dataset' / 'train.txt').write_text(
        '\n'.join(aug[1:] + train[:1]) + '\n')
    (sbd / 'dataset' / 'val.txt').write_text('\n'.join(aug[:1] + val[:1]) +
                                             '\n')
    return sbd


def convert_voc_aug(data: Path) -> None:
    """Runs mmseg's ``voc_aug.py`` on the downloads under ``<data>``, with its
    ``AUG_LEN`` (10,582, the real data's count) set to this tree's count."""
    spec = importlib.util.spec_from_file_location('voc_aug', VOC_AUG_SCRIPT)
    voc_aug = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(voc_aug)
    voc = data / 'VOCdevkit' / 'VOC2012'
    sbd = data / 'benchmark_RELEASE' / 'dataset'
    lists = voc / 'ImageSets' / 'Segmentation'
    train = set((lists / 'train.txt').read_text().split())
    val = set((lists / 'val.txt').read_text().split())
    sbd_all = set((sbd / 'train.txt').read_text().split()) | set(
        (sbd / 'val.txt').read_text().split())
    voc_aug.AUG_LEN = len((train | sbd_all) - val)
    argv = ['voc_aug.py', str(data / 'VOCdevkit'), str(sbd.parent),
            '--nproc', '1']
    # its worker processes find convert_mat by module name
    with mock.patch.object(sys, 'argv', argv), \
            mock.patch.dict(sys.modules, voc_aug=voc_aug):
        voc_aug.main()
