"""Analysis tools: the paper's model-size tables, the valid receptive field
by occlusion, a benchmark of decode heads, and dense CRF post-processing.
Importing this package registers ``DenseCRFSegmentor`` in mmseg's
``MODELS``; the CRF itself needs the optional ``crf`` extra."""
from .crf import (DenseCRF, DenseCRFSegmentor, MissingCRFExtraError,
                  add_crf_to_config, crf_available)

__all__ = [
    'DenseCRF', 'DenseCRFSegmentor', 'MissingCRFExtraError',
    'add_crf_to_config', 'crf_available'
]
