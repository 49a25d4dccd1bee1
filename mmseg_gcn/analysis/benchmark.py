"""Cost of ``GCNHead`` next to mmseg's common decode heads.

Every head sits on the **same backbone**: mmseg's ``ResNet`` (7x7 stem, the
original ResNet, as in the paper) of depth 50, 101 or 152, output stride 32
(no dilation), BN, randomly initialised, giving res-2..res-5. The mmseg heads
normally run on a dilated output-stride-8 ResNetV1c, which would change the
backbone's cost far more than the head's; on one backbone the comparison
isolates the decoders. Head settings are those of mmseg's ``_base_`` model
configs (512 channels, BN, dropout 0.1), without auxiliary heads:

- ``gcn``: :class:`GCNHead`, k = 15, GCN + BR on res-2..res-5 (the paper);
- ``fcn``: ``FCNHead`` on res-5, two 3x3 convs, input concatenated;
- ``psp``: ``PSPHead`` on res-5, pool scales (1, 2, 3, 6);
- ``aspp``: ``ASPPHead`` on res-5, dilations (1, 12, 24, 36);
- ``uper``: ``UPerHead`` on res-2..res-5, pool scales (1, 2, 3, 6).

Measured, per head (all through ``EncoderDecoder``, logits resized to the
input size as at test time):

- parameters of the head;
- FLOPs: mmengine's counter (multiply-accumulates) for one image, of the
  whole model and of the head (whole model minus backbone);
- forward latency: ``encode_decode`` in eval mode under ``no_grad``;
- training step: ``zero_grad`` + ``loss`` + ``backward`` + SGD ``step``
  (momentum 0.9), random labels;
- peak memory of a forward pass and of a training step, *on top of* what is
  allocated before it (weights, optimizer state): on GPU from
  ``torch.cuda.max_memory_allocated``; on CPU the peak of the bytes that
  torch's CPU allocator holds, rebuilt from the allocation events of
  ``torch.profiler`` (``profile_memory=True``) in one extra, separate step.

Times are the median over ``repeats`` runs after ``warmup`` runs (CUDA is
synchronised around each). With batch 1, the BN of the 1x1 pooled branches
of PSP/ASPP/UPer cannot train (one value per channel); their training
numbers are then "n/a" (and so are all heads' when the input is so
small that res-5 is 1 x 1).
"""
import copy
import gc
import os
import os.path as osp
import platform
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config

from ..utils import check_int
from .flops import count_flops
from .measure import peak_bytes, time_median

BACKBONE_DEPTHS = {'r50': 50, 'r101': 101, 'r152': 152}
HEADS = ('gcn', 'fcn', 'psp', 'aspp', 'uper')
HEAD_NAMES = dict(
    gcn='GCNHead',
    fcn='FCNHead',
    psp='PSPHead',
    aspp='ASPPHead',
    uper='UPerHead')
NORM_CFG = dict(type='BN', requires_grad=True)

_RES5 = dict(in_channels=2048, in_index=3)
#: mmseg's heads as its VOC configs set them (without the shared settings).
_MMSEG_HEADS = dict(
    fcn=dict(type='FCNHead', **_RES5, num_convs=2, concat_input=True),
    psp=dict(type='PSPHead', **_RES5, pool_scales=(1, 2, 3, 6)),
    aspp=dict(type='ASPPHead', **_RES5, dilations=(1, 12, 24, 36)),
    uper=dict(
        type='UPerHead',
        in_channels=[256, 512, 1024, 2048],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6)))


def head_config(head: str, num_classes: int = 21) -> dict:
    """The decode-head config of a benchmarked head.

    Args:
        head (str): One of :data:`HEADS`.
        num_classes (int): Number of classes. Defaults to 21.

    Returns:
        dict: The head config.
    """
    common = dict(num_classes=num_classes, align_corners=False)
    mmseg_common = dict(
        channels=512, dropout_ratio=0.1, norm_cfg=NORM_CFG, **common)
    if head == 'gcn':
        # the head as the package's configs build it (k = 15, channels-last)
        from .model_specs import GCN_BASE_CONFIG, package_root
        gcn = Config.fromfile(osp.join(package_root(),
                                       GCN_BASE_CONFIG)).model.decode_head
        return dict(gcn.to_dict(), **common)
    if head in _MMSEG_HEADS:
        return dict(copy.deepcopy(_MMSEG_HEADS[head]), **mmseg_common)
    raise ValueError(f'unknown head {head!r}; choose from {HEADS}.')


def backbone_config(backbone: str) -> dict:
    """The backbone config: mmseg ``ResNet``, output stride 32, BN.

    Args:
        backbone (str): One of :data:`BACKBONE_DEPTHS` (``'r50'``, ...).

    Returns:
        dict: The backbone config.
    """
    if backbone not in BACKBONE_DEPTHS:
        raise ValueError(f'unknown backbone {backbone!r}; choose from '
                         f'{tuple(BACKBONE_DEPTHS)}.')
    return dict(
        type='ResNet',
        depth=BACKBONE_DEPTHS[backbone],
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 2, 2),
        dilations=(1, 1, 1, 1),
        norm_cfg=NORM_CFG,
        norm_eval=False,
        style='pytorch')


def build_model_quietly(cfg: dict) -> nn.Module:
    """Builds a segmentor config with mmseg's registry and initialises it
    (randomly, unless the config names weights), without the per-parameter
    log of ``init_weights`` and the loss-default warnings.

    Args:
        cfg (dict): A model config (``type='EncoderDecoder'`` etc.).

    Returns:
        nn.Module: The model.
    """
    import warnings

    from mmengine.logging import MMLogger
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules

    import mmseg_gcn  # noqa: F401  (registers GCNHead)
    register_all_modules(init_default_scope=False)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')  # init_weights logs every parameter
    try:
        # nested parts (the data preprocessor) are looked up in mmseg's scope
        with warnings.catch_warnings(), \
                DefaultScope.overwrite_default_scope('mmseg'):
            # mmseg's heads' loss defaults: irrelevant to their cost
            warnings.filterwarnings('ignore', message='.*build_loss.*')
            warnings.filterwarnings('ignore', message='.*avg_non_ignore.*')
            model = MODELS.build(cfg)
        model.init_weights()
    finally:
        logger.setLevel(level)
    return model


def build_segmentor(backbone: str,
                    head: str,
                    num_classes: int = 21) -> nn.Module:
    """An ``EncoderDecoder`` of the backbone and head, randomly initialised.

    Args:
        backbone (str): ``'r50'``, ``'r101'`` or ``'r152'``.
        head (str): One of :data:`HEADS`.
        num_classes (int): Number of classes. Defaults to 21.

    Returns:
        nn.Module: The segmentor.
    """
    return build_model_quietly(
        dict(
            type='EncoderDecoder',
            backbone=backbone_config(backbone),
            decode_head=head_config(head, num_classes),
            train_cfg=dict(),
            test_cfg=dict(mode='whole')))


def random_samples(batch: int, size: Tuple[int, int], num_classes: int,
                   device: torch.device) -> list:
    """``SegDataSample``s with random labels, for a training step.

    Args:
        batch (int): How many.
        size (tuple[int, int]): Label height and width.
        num_classes (int): Labels are drawn from ``[0, num_classes)``.
        device (torch.device): Where the labels are.

    Returns:
        list[SegDataSample]: The samples.
    """
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    meta = dict(ori_shape=size, img_shape=size, pad_shape=size)
    samples = []
    for _ in range(batch):
        sample = SegDataSample(metainfo=meta)
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes, (1, *size), device=device))
        samples.append(sample)
    return samples


@dataclass
class HeadResult:
    """What was measured for one head."""
    head: str
    head_params: int
    total_params: int
    flops: float
    head_flops: float
    forward_ms: float
    forward_peak: int
    train_ms: Optional[float]
    train_peak: Optional[int]
    note: str = ''


@dataclass
class BenchmarkResult:
    """A whole run: the settings, the machine and one result per head."""
    backbone: str
    size: Tuple[int, int]
    batch: int
    warmup: int
    repeats: int
    device: str
    machine: str
    threads: int
    torch_version: str
    date: str
    heads: List[HeadResult] = field(default_factory=list)


def describe_machine(device: torch.device) -> str:
    """A one-line description of the CPU or GPU that runs the benchmark."""
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return f'{cpu}, {os.cpu_count()} logical CPUs'


def benchmark_head(backbone: str,
                   head: str,
                   size: Tuple[int, int],
                   batch: int,
                   device: torch.device,
                   warmup: int = 2,
                   repeats: int = 5,
                   num_classes: int = 21,
                   flops: bool = True) -> HeadResult:
    """Measures one backbone + head.

    Args:
        backbone (str): ``'r50'``, ``'r101'`` or ``'r152'``.
        head (str): One of :data:`HEADS`.
        size (tuple[int, int]): Input height and width.
        batch (int): Batch size of the timed runs.
        device (torch.device): Device.
        warmup (int): Untimed runs. Defaults to 2.
        repeats (int): Timed runs. Defaults to 5.
        num_classes (int): Number of classes. Defaults to 21.
        flops (bool): Count FLOPs. Defaults to True.

    Returns:
        HeadResult: The numbers.
    """
    torch.manual_seed(0)
    model = build_segmentor(backbone, head, num_classes).to(device)
    head_params = sum(p.numel() for p in model.decode_head.parameters())
    total_params = sum(p.numel() for p in model.parameters())
    model.eval()
    if flops:
        total_flops, backbone_flops = count_flops(model, size, device)
    else:
        total_flops = backbone_flops = float('nan')

    inputs = torch.randn(batch, 3, *size, device=device)
    meta = dict(ori_shape=size, img_shape=size, pad_shape=size)
    metas = [meta] * batch

    def forward() -> None:
        with torch.no_grad():
            model.encode_decode(inputs, metas)

    forward_ms = time_median(forward, device, warmup, repeats)
    forward_peak = peak_bytes(forward, device)

    samples = random_samples(batch, size, num_classes, device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def train_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        losses = model.loss(inputs, samples)
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        optimizer.step()

    model.train()
    train_ms = train_peak = None
    note = ''
    try:
        train_ms = time_median(train_step, device, warmup, repeats)
        optimizer.zero_grad(set_to_none=True)
        train_peak = peak_bytes(train_step, device)
    except ValueError as e:
        if 'Expected more than 1 value per channel' not in str(e):
            raise
        note = (f'no training step with batch {batch}: a BatchNorm layer '
                f'sees one value per channel (a 1 x 1 map, e.g. a pooled '
                f'branch)')
    result = HeadResult(head, head_params, total_params, total_flops,
                        total_flops - backbone_flops, forward_ms, forward_peak,
                        train_ms, train_peak, note)
    del model, optimizer, inputs, samples
    gc.collect()
    if device.type == 'cuda':
        torch.cuda.empty_cache()
    return result


def run_benchmark(
        backbone: str = 'r50',
        size: Tuple[int, int] = (512, 512),
        batch: int = 2,
        heads: Sequence[str] = HEADS,
        device: Optional[str] = None,
        warmup: int = 2,
        repeats: int = 5,
        num_classes: int = 21,
        flops: bool = True,
        progress: Optional[Callable[[str], None]] = None) -> BenchmarkResult:
    """Measures every head on the same backbone.

    Args:
        backbone (str): ``'r50'``, ``'r101'`` or ``'r152'``. Defaults to
            'r50'.
        size (tuple[int, int]): Input height and width. Defaults to
            (512, 512).
        batch (int): Batch size. Defaults to 2.
        heads (Sequence[str]): Heads to measure; ``'gcn'`` is added first
            when missing (the ratios are to it). Defaults to all.
        device (str, optional): Defaults to None: CUDA when available,
            else CPU.
        warmup (int): Untimed runs. Defaults to 2.
        repeats (int): Timed runs. Defaults to 5.
        num_classes (int): Number of classes. Defaults to 21.
        flops (bool): Count FLOPs. Defaults to True.
        progress (callable, optional): Called with each head's name before
            it is measured.

    Returns:
        BenchmarkResult: The numbers and the settings.
    """
    backbone_config(backbone)  # checks the name
    unknown = [h for h in heads if h not in HEADS]
    if unknown:
        raise ValueError(f'unknown head(s) {unknown}; choose from {HEADS}.')
    for name, value, low in (('batch', batch, 1), ('repeats', repeats, 1),
                             ('warmup', warmup, 0), ('num_classes',
                                                     num_classes, 1)):
        check_int(value, name, low)
    if len(size) != 2 or any(int(s) < 32 for s in size):
        raise ValueError(f'size must be (H, W) with H, W >= 32 (the '
                         f'backbone downsamples by 32), got {size!r}.')
    size = (int(size[0]), int(size[1]))
    if device is None:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    dev = torch.device(device)
    if dev.type == 'cuda' and not torch.cuda.is_available():
        raise ValueError(f'device {device!r} asked for, but CUDA is not '
                         f'available here; use --device cpu.')
    heads = ['gcn'] + [h for h in dict.fromkeys(heads) if h != 'gcn']
    result = BenchmarkResult(
        backbone=backbone,
        size=size,
        batch=batch,
        warmup=warmup,
        repeats=repeats,
        device=str(dev),
        machine=describe_machine(dev),
        threads=torch.get_num_threads(),
        torch_version=torch.__version__,
        date=time.strftime('%Y-%m-%d'))
    for head in heads:
        if progress is not None:
            progress(head)
        result.heads.append(
            benchmark_head(backbone, head, size, batch, dev, warmup, repeats,
                           num_classes, flops))
    return result
