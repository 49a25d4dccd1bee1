"""A segmentor loaded from a config and a checkpoint as the occlusion of
:mod:`.valid_receptive_field` uses it: its preprocessed image, a batched
forward to logits, its prediction and its class names."""
import os.path as osp
from typing import Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor


class SegmentorProbe:
    """A segmentor loaded from a config and checkpoint, with what the
    occlusion needs: the preprocessed image and a batched forward.

    Args:
        config (str): Config file.
        checkpoint (str): Checkpoint file.
        device (str): Device. Defaults to 'cpu'.
        name (str, optional): Name in the figure. Defaults to the config's
            file name.
    """

    def __init__(self,
                 config: str,
                 checkpoint: str,
                 device: str = 'cpu',
                 name: Optional[str] = None) -> None:
        from mmengine.runner import load_checkpoint
        from mmengine.model.utils import revert_sync_batchnorm
        from mmseg.apis import init_model

        for kind, path in (('config', config), ('checkpoint', checkpoint)):
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'{kind} file {path!r} does not exist.')
        model = init_model(config, None, device='cpu')
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu')
        meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
        if meta.get('dataset_meta'):
            model.dataset_meta = meta['dataset_meta']
        model = revert_sync_batchnorm(model).to(device).eval()
        if not hasattr(model, 'encode_decode'):
            raise TypeError(
                f'{type(model).__name__} has no encode_decode; the valid '
                f'receptive field needs an EncoderDecoder-style segmentor.')
        self.model = model
        self.device = device
        self.name = name or osp.splitext(osp.basename(config))[0]

    @property
    def classes(self) -> Optional[Sequence[str]]:
        meta = getattr(self.model, 'dataset_meta', None) or {}
        return meta.get('classes')

    def preprocess(self, image: np.ndarray) -> Tensor:
        """Normalises (and pads, if the config says so) a BGR image.

        Args:
            image (np.ndarray): (H, W, 3) BGR uint8 image.

        Returns:
            Tensor: (1, 3, H', W') network input.
        """
        from mmseg.structures import SegDataSample
        tensor = torch.from_numpy(
            np.ascontiguousarray(image.transpose(2, 0, 1)))
        data = self.model.data_preprocessor(
            dict(inputs=[tensor], data_samples=[SegDataSample()]), False)
        return data['inputs']

    @torch.no_grad()
    def forward(self, inputs: Tensor) -> Tensor:
        """Logits at the input size for a batch of network inputs."""
        size = tuple(inputs.shape[-2:])
        metas = [dict(ori_shape=size, img_shape=size, pad_shape=size)
                 ] * inputs.shape[0]
        return self.model.encode_decode(inputs.to(self.device), metas)

    def predict(self, inputs: Tensor) -> np.ndarray:
        """The (H', W') arg-max label map."""
        return self.forward(inputs)[0].argmax(0).cpu().numpy()


def resolve_class(name_or_index: Union[None, int, str],
                  classes: Optional[Sequence[str]]) -> Optional[int]:
    """A class given by index or by name, as an index.

    Args:
        name_or_index (int | str | None): ``None`` for the predicted class.
        classes (Sequence[str], optional): Class names of the model.

    Returns:
        int | None: The class index.
    """
    if name_or_index is None or isinstance(name_or_index, int):
        return name_or_index
    if str(name_or_index).lstrip('-').isdigit():
        return int(name_or_index)
    if not classes or name_or_index not in classes:
        raise ValueError(f'unknown class {name_or_index!r}; the model '
                         f'knows {list(classes or [])}.')
    return list(classes).index(name_or_index)
