from .onnx_graph import (MAX_OPSET, MIN_OPSET, ExportableSegmentor,
                         ExportError, channel_setup, export_onnx,
                         require_onnx, to_labels)

__all__ = [
    'ExportableSegmentor', 'ExportError', 'MAX_OPSET', 'MIN_OPSET',
    'channel_setup', 'export_onnx', 'require_onnx', 'to_labels'
]
