"""x2 upsampling of score maps: learned deconvolution or fixed bilinear."""
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from .arg_checks import check_one_of

UPSAMPLE_MODES = ('deconv', 'bilinear')


def check_upsample_mode(mode: str) -> str:
    """Checks that ``mode`` names one of :data:`UPSAMPLE_MODES`."""
    return check_one_of(
        mode, UPSAMPLE_MODES, 'upsample',
        "use 'deconv' (learned, bilinear init) or 'bilinear' (fixed).")


def bilinear_kernel(size: int = 4) -> Tensor:
    """2-D bilinear interpolation kernel, as in FCN's deconvolution init.

    For ``size = 4`` the 1-D profile is ``[0.25, 0.75, 0.75, 0.25]``: a
    stride-2, padding-1 transposed conv with it reproduces
    ``F.interpolate(scale_factor=2, mode='bilinear', align_corners=False)``
    everywhere except the one-pixel border, where zero padding enters.

    Args:
        size (int): Kernel size. Defaults to 4.

    Returns:
        Tensor: Kernel of shape (size, size).
    """
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    og = torch.arange(size, dtype=torch.float32)
    profile = 1 - torch.abs(og - center) / factor
    return profile[:, None] * profile[None, :]


class Upsample2x(BaseModule):
    """Doubles the spatial size of a score map.

    ``mode='deconv'``: a learned transposed convolution, kernel 4, stride 2,
    padding 1 (so ``H -> 2H`` exactly), no bias, initialised to bilinear
    upsampling. ``depthwise=True`` (default) uses ``groups=channels``: each
    class map is upsampled by its own 4x4 kernel (16 weights per class), the
    same operator as bilinear interpolation at init, without cross-class
    weights that a score map does not need. ``depthwise=False`` is a full
    ``channels x channels`` deconv initialised to bilinear on the diagonal
    and zero elsewhere, as in FCN.

    ``mode='bilinear'``: fixed ``F.interpolate`` with ``scale_factor=2``, no
    parameters.

    The bilinear weights are set at construction and again by
    :meth:`init_weights`, which :class:`GCNHead` calls after applying its own
    ``init_cfg``, so that a ``Normal``/``Kaiming`` init of the head never
    replaces them.

    Args:
        channels (int): Number of channels (classes).
        mode (str): ``'deconv'`` or ``'bilinear'``. Defaults to 'deconv'.
        depthwise (bool): Depthwise deconvolution. Defaults to True.
        align_corners (bool): ``align_corners`` of the bilinear mode.
            Defaults to False.
    """

    def __init__(self,
                 channels: int,
                 mode: str = 'deconv',
                 depthwise: bool = True,
                 align_corners: bool = False) -> None:
        super().__init__(init_cfg=None)
        check_upsample_mode(mode)
        self.channels = channels
        self.mode = mode
        self.align_corners = align_corners
        if mode == 'deconv':
            self.deconv = nn.ConvTranspose2d(
                channels,
                channels,
                kernel_size=4,
                stride=2,
                padding=1,
                groups=channels if depthwise else 1,
                bias=False)
            self._init_bilinear()

    @torch.no_grad()
    def _init_bilinear(self) -> None:
        weight = self.deconv.weight  # (in, out // groups, 4, 4)
        kernel = bilinear_kernel(4).to(weight)
        if self.deconv.groups == self.channels:
            weight.copy_(kernel.expand_as(weight))
        else:
            weight.zero_()
            idx = torch.arange(self.channels)
            weight[idx, idx] = kernel

    def init_weights(self) -> None:
        """Resets the deconvolution to bilinear upsampling."""
        super().init_weights()
        if self.mode == 'deconv':
            self._init_bilinear()

    def forward(self, x: Tensor) -> Tensor:
        """Forward function.

        Args:
            x (Tensor): Score map of shape (N, channels, H, W).

        Returns:
            Tensor: Score map of shape (N, channels, 2H, 2W).
        """
        if self.mode == 'deconv':
            return self.deconv(x)
        return F.interpolate(
            x,
            scale_factor=2,
            mode='bilinear',
            align_corners=self.align_corners)
