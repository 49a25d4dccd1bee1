"""Cityscapes' official pixel-level evaluation, from ``cityscapesscripts``.

:func:`official_class_iou` scores prediction PNGs (label ids, as
``tools/test.py --format-only`` writes them) against the ground truth's
``*_gtFine_labelIds.png`` with ``cityscapesscripts``' own
``evaluateImgLists``: the class IoU the benchmark server reports. It runs
the class-level evaluation only: the instance-level (iIoU) and pixel
accuracy parts of ``cityscapesscripts`` 2.3.0 call ``np.in1d``, which numpy
2.4 removed, and they need ``*_gtFine_instanceIds.png`` too.
"""
import contextlib
from typing import Dict, Iterator, Sequence


@contextlib.contextmanager
def _evaluator_args(**settings) -> Iterator[object]:
    """``cityscapesscripts``' module-wide evaluation settings, changed for
    one evaluation and restored after it."""
    import cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling as cs
    old = {key: getattr(cs.args, key) for key in settings}
    for key, value in settings.items():
        setattr(cs.args, key, value)
    try:
        yield cs
    finally:
        for key, value in old.items():
            setattr(cs.args, key, value)


def official_class_iou(predictions: Sequence[str],
                       ground_truths: Sequence[str]) -> Dict[str, float]:
    """Per-class IoU by ``cityscapesscripts``' own evaluator.

    Args:
        predictions (Sequence[str]): Prediction PNGs holding label ids.
        ground_truths (Sequence[str]): The matching
            ``*_gtFine_labelIds.png`` files, in the same order.

    Returns:
        dict[str, float]: IoU in percent by class name, for the 19 classes
        the benchmark evaluates (NaN for a class absent from both).

    Raises:
        ValueError: If the two lists differ in length or are empty.
    """
    if len(predictions) != len(ground_truths) or not predictions:
        raise ValueError(
            'official_class_iou needs one ground-truth file per prediction; '
            f'got {len(predictions)} predictions and {len(ground_truths)} '
            'ground-truth files.')
    from cityscapesscripts.helpers.labels import labels
    with _evaluator_args(evalInstLevelScore=False, evalPixelAccuracy=False,
                         JSONOutput=False, quiet=True, evalLabels=[]) as cs:
        scores = cs.evaluateImgLists(list(predictions), list(ground_truths),
                                     cs.args)['classScores']
    evaluated = [label.name for label in labels
                 if label.id >= 0 and not label.ignoreInEval]
    return {name: float(100 * scores[name]) for name in evaluated}


__all__ = ['official_class_iou']
