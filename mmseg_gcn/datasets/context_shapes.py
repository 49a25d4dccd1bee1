"""The context set's data set class: mmseg's ``PascalVOCDataset`` (same
folders, same files) with the set's own class names, so that mmseg's per-class
IoU table, checkpoints' ``dataset_meta`` and every figure name the shapes."""
from mmseg.datasets import PascalVOCDataset
from mmseg.registry import DATASETS

#: The object classes of the context set, by label value 1..4.
CONTEXT_SHAPES = ('disc', 'square', 'triangle', 'cross')
#: Its class names, background (label value 0) first.
CONTEXT_CLASSES = ('background', *CONTEXT_SHAPES)


@DATASETS.register_module()
class ContextShapesDataset(PascalVOCDataset):
    """The context set (:mod:`mmseg_gcn.datasets.synthetic.context`): label
    values 0..4 are the background and the disc, square, triangle and cross,
    drawn in the first five VOC colours.

    Args:
        **kwargs: :class:`~mmseg.datasets.PascalVOCDataset` arguments.
    """

    METAINFO = dict(
        classes=CONTEXT_CLASSES,
        palette=PascalVOCDataset.METAINFO['palette'][:len(CONTEXT_CLASSES)])
