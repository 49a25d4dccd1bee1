from .checks import check_dataset_paths, leaf_datasets
from .context_shapes import generate_context_sample, generate_voc_context
from .synthetic import (generate_cityscapes, generate_cityscapes_sample,
                        generate_voc_aug, generate_voc_sample)
from .transforms import (CheckedLoadAnnotations, CheckedLoadImageFromFile,
                         UnreadableFileError)

__all__ = [
    'check_dataset_paths', 'leaf_datasets', 'CheckedLoadAnnotations',
    'CheckedLoadImageFromFile', 'UnreadableFileError', 'generate_cityscapes',
    'generate_cityscapes_sample', 'generate_context_sample', 'generate_voc_aug',
    'generate_voc_context', 'generate_voc_sample'
]
