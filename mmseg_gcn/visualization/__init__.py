"""Figures of a training run: prediction grids and training curves.

Everything here draws with matplotlib's Agg backend, so it works on machines
without a display.
"""
from ..datasets.palette import colorize_mask
from .prediction_grid import GridRow, save_prediction_grid
from .training_curves import (find_scalars_file, load_scalars,
                              save_training_curves)

__all__ = [
    'GridRow', 'colorize_mask', 'find_scalars_file', 'load_scalars',
    'save_prediction_grid', 'save_training_curves'
]
