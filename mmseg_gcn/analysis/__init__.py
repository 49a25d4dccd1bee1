"""Analysis tools: the paper's model-size tables, its ablation study of the
pixel classifier, the valid receptive field by occlusion, a benchmark of
decode heads, and dense CRF post-processing.
Importing this package registers ``DenseCRFSegmentor`` in mmseg's
``MODELS``; the CRF itself needs the optional ``crf`` extra."""
from .ablation import StudyOptions, parse_variant, run_study, summarize
from .crf import (DenseCRF, DenseCRFSegmentor, MissingCRFExtraError,
                  add_crf_to_config, crf_available)

__all__ = [
    'StudyOptions', 'parse_variant', 'run_study', 'summarize', 'DenseCRF',
    'DenseCRFSegmentor', 'MissingCRFExtraError', 'add_crf_to_config',
    'crf_available'
]
