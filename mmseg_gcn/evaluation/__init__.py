"""Evaluation metrics and result formats; importing this package registers
``BoundaryAccuracyMetric`` and ``VOCSubmissionMetric`` in mmseg's
``METRICS``."""
from .boundary_metric import (BoundaryAccuracyMetric, boundary_band,
                              label_boundaries)
from .cityscapes_official import official_class_iou
from .submission import (VOC_RESULTS_DIR, VOCSubmissionMetric,
                         use_submission_format)

__all__ = [
    'BoundaryAccuracyMetric', 'VOCSubmissionMetric', 'VOC_RESULTS_DIR',
    'boundary_band', 'label_boundaries', 'official_class_iou',
    'use_submission_format'
]
