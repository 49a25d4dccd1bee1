"""Deterministic synthetic demo data in the on-disk layouts of PASCAL VOC and Cityscapes.

The generated folders are read by MMSegmentation's own ``PascalVOCDataset`` and
``CityscapesDataset`` unchanged, so configs, tests and demos can run end to end
without downloading the real data sets. One module per concept:

* :mod:`.drawing`: how a class looks (:class:`Appearance`: a base colour plus a
  texture, jittered per instance), object outlines, and the canvas on which an
  image and its labels are painted together;
* :mod:`.voc`: PASCAL VOC 2012 + SBD aug (:func:`generate_voc_aug`);
* :mod:`.cityscapes`: Cityscapes fine and coarse (:func:`generate_cityscapes`);
* :mod:`.context`: the *context set*, on which a pixel's class depends on a
  large region (:func:`generate_voc_context`), in the VOC layout;
* :mod:`.dataset_root` and :mod:`.sampling`: what the generators share (the
  output folder and its marker file; argument checks and class balancing).

Images are made to need learning: some classes share a colour and differ only in
texture, others share a texture and differ only in colour. Objects of varied shape,
size and position overlap, occlude each other and touch the image border, over a
cluttered background, with gaussian noise on top.

All randomness comes from one ``seed``: the same arguments give byte-identical files.

This package only needs numpy, OpenCV and Pillow, so that it imports fast; ``import
mmseg_gcn`` does not import it.
"""
from .cityscapes import (CITYSCAPES_APPEARANCE, CITYSCAPES_CLASSES, CityscapesSample,
                         coarsen_label, generate_cityscapes, generate_cityscapes_sample)
from .context import (CONTEXT_CLASSES, CONTEXT_SHAPES,
                      OBJECT_APPEARANCE, generate_context_sample, generate_voc_context)
from .dataset_root import DatasetSummary, generation_params
from .drawing import IGNORE_INDEX, SHAPES, TEXTURES, Appearance
from .voc import (VOC_APPEARANCE, VOC_CLASSES, VOC_PALETTE, VOCSample, generate_voc_aug,
                  generate_voc_sample)

__all__ = [
    'Appearance', 'TEXTURES', 'SHAPES', 'VOC_CLASSES', 'VOC_APPEARANCE', 'VOC_PALETTE',
    'CITYSCAPES_CLASSES', 'CITYSCAPES_APPEARANCE', 'IGNORE_INDEX', 'VOCSample',
    'CityscapesSample', 'DatasetSummary', 'generate_voc_sample',
    'generate_cityscapes_sample', 'coarsen_label', 'generate_voc_aug',
    'generate_cityscapes', 'generation_params', 'CONTEXT_SHAPES', 'CONTEXT_CLASSES',
    'OBJECT_APPEARANCE', 'generate_context_sample',
    'generate_voc_context'
]
