"""Data: checked loading transforms (registered in mmseg's ``TRANSFORMS``),
the context set's data set class (in ``DATASETS``) and data set path checks. Imported only where used: class palettes
(:mod:`.palette`), the COCO to VOC converter (:mod:`.coco_to_voc`) and the
synthetic demo data (:mod:`.synthetic`)."""
from .checks import check_dataset_paths, leaf_datasets
from .context_shapes import ContextShapesDataset
from .transforms import (CheckedLoadAnnotations, CheckedLoadImageFromFile,
                         CheckSegMap, UnreadableFileError, check_seg_map)

__all__ = [
    'check_dataset_paths', 'leaf_datasets', 'ContextShapesDataset',
    'CheckedLoadAnnotations',
    'CheckedLoadImageFromFile', 'CheckSegMap', 'UnreadableFileError',
    'check_seg_map'
]
