"""Evaluation metrics; importing this package registers
``BoundaryAccuracyMetric`` in mmseg's ``METRICS``."""
from .boundary_metric import (BoundaryAccuracyMetric, boundary_band,
                              label_boundaries)

__all__ = ['BoundaryAccuracyMetric', 'boundary_band', 'label_boundaries']
