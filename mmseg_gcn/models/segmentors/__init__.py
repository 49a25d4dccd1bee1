from .dense_crf import (DenseCRF, DenseCRFSegmentor, MissingCRFExtraError,
                        add_crf_to_config, crf_available)

__all__ = [
    'DenseCRF', 'DenseCRFSegmentor', 'MissingCRFExtraError', 'add_crf_to_config',
    'crf_available'
]
