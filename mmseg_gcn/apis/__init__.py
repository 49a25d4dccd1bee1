"""Inference on image files."""
from .inference import (IMG_EXTENSIONS, CheckpointMismatchError,
                        InferenceResult, SegInferencer, UnreadableImageError,
                        check_weights_fit, checkpoint_weights, find_images,
                        infer_images, read_image)

__all__ = [
    'IMG_EXTENSIONS', 'CheckpointMismatchError', 'InferenceResult',
    'SegInferencer', 'UnreadableImageError', 'check_weights_fit',
    'checkpoint_weights', 'find_images', 'infer_images', 'read_image'
]
