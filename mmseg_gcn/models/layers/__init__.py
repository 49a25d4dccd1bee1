from .boundary_refine import BoundaryRefine
from .classifiers import (CLASSIFIER_TYPES, StackClassifier, build_classifier,
                          check_classifier)
from .arg_checks import check_kernel_size
from .gcn import GCN
from .gcn_fast_forms import is_tracing
from .upsample import (UPSAMPLE_MODES, Upsample2x, bilinear_kernel,
                       check_upsample_mode)

__all__ = [
    'GCN', 'BoundaryRefine', 'StackClassifier', 'build_classifier',
    'CLASSIFIER_TYPES', 'Upsample2x', 'UPSAMPLE_MODES', 'bilinear_kernel',
    'check_kernel_size', 'check_classifier', 'check_upsample_mode',
    'is_tracing'
]
