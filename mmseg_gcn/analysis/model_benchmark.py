"""Cost of complete segmentors, as a user picks them: GCN-R152/R101/R50-d32
next to mmseg's FCN, PSPNet, DeepLabV3, DeepLabV3+ (R101-d8) and UPerNet
(R101), each built from its config (see :mod:`.model_specs`), randomly
initialised.

Measured per model and input size, in one run:

- parameters (auxiliary heads included: they are trained);
- FLOPs: mmengine's counter (multiply-accumulates) of one image's logits
  (``encode_decode``; auxiliary heads do not run at test time);
- forward latency: ``encode_decode`` in eval mode under ``no_grad``, batch
  ``forward_batch``;
- training-step time: loss (decode *and* auxiliary heads) + backward + SGD
  step (momentum 0.9; buffers created beforehand so every step is a steady
  one) + freeing the gradients, batch ``batch``, random labels;
- peak memory of a forward pass and of a training step above what is held
  before it (weights, momentum): on CUDA ``torch.cuda.max_memory_allocated``,
  on CPU the peak of torch's CPU allocator from ``torch.profiler``'s
  memory events (:func:`.measure.cpu_peak_bytes`), in the last warm-up
  run;
- on a GPU with a known peak (or ``peak_tflops`` given): model-FLOPs
  utilisation, see :mod:`.flops_utilisation`.

**Models are interleaved**: every timed round runs each model once, in turn,
so that a burst of load on a shared machine hits all of them alike. Times
are medians over ``repeats`` rounds after ``warmup`` untimed runs. Ratios
are to GCN-R152-d32 (or the first model when it is not measured).
"""
import statistics
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch

from ..utils import check_int
from .benchmark import build_model_quietly, describe_machine, random_samples
from .flops import logits_flops
from .measure import peak_bytes, time_once, timing_method
from .flops_utilisation import (TRAIN_FORWARD_EQUIVALENTS,
                                model_flops_utilisation, peak_tflops)
from .model_specs import (DEFAULT_MODELS, MODEL_SPECS, REFERENCE_MODEL,
                          model_config)
from .progress import format_duration
from .published_accuracy import published_miou

DEFAULT_SIZES = ((512, 512), (512, 1024))  # VOC crop, Cityscapes crop
QUICK_SIZES = ((64, 64), (64, 128))
MIN_SIZE = 32
# rough cost of a training step per image over a forward pass per image,
# used only for the ETA before a model's first training step is timed
TRAIN_OVER_FORWARD = 4.0


def parse_size(text: str) -> Tuple[int, int]:
    """``'512x1024'`` (or ``'512'`` for a square) as ``(512, 1024)``.

    Raises:
        ValueError: Not two integers >= :data:`MIN_SIZE` joined by ``x``.
    """
    parts = text.lower().split('x')
    try:
        size = tuple(int(p) for p in parts)
    except ValueError:
        size = ()
    if len(size) == 1:
        size = size * 2
    if len(size) != 2 or min(size) < MIN_SIZE:
        raise ValueError(f'size {text!r} is not HxW with H, W >= {MIN_SIZE} '
                         f'(e.g. 512x1024: height x width).')
    return size


@dataclass
class ModelResult:
    """What was measured for one model at one input size."""
    model: str
    title: str
    params: int
    flops: Optional[float]
    forward_ms: Optional[float] = None
    train_ms: Optional[float] = None
    forward_peak: Optional[int] = None
    train_peak: Optional[int] = None
    forward_mfu: Optional[float] = None
    train_mfu: Optional[float] = None
    forward_times: List[float] = field(default_factory=list)
    # time inside ``decode_head.predict`` during the timed forwards
    head_ms: Optional[float] = None
    head_times: List[float] = field(default_factory=list)
    train_times: List[float] = field(default_factory=list)
    note: str = ''


@dataclass
class SizeResult:
    """All models at one input size."""
    size: Tuple[int, int]
    models: List[ModelResult] = field(default_factory=list)


@dataclass
class WholeModelResult:
    """A whole run: the settings, the machine and the results per size."""
    models: List[str]
    reference: str
    batch: int
    forward_batch: int
    warmup: int
    repeats: int
    device: str
    machine: str
    threads: int
    amp: bool
    channels_last: bool
    precision: str
    peak_tflops: Optional[float]
    num_classes: int
    torch_version: str
    date: str
    sizes: List[SizeResult] = field(default_factory=list)
    published: Dict[str, dict] = field(default_factory=dict)
    seconds: float = 0.0


class _Schedule:
    """Counts the runs left and estimates the time they need (the ETA)
    from what each model took so far."""

    def __init__(self, models: Sequence[str], sizes: Sequence[Tuple[int, int]],
                 runs_per_phase: int, train_factor: float) -> None:
        self.pixels = {s: s[0] * s[1] for s in sizes}
        # per (model, phase, size): runs left; +1 forward for the FLOPs
        self.left = {
            (m, p, s): runs_per_phase + (p == 'forward')
            for m in models
            for p in ('forward', 'train')
            for s in sizes
        }
        self.measured: Dict[Tuple[str, str, Tuple[int, int]], float] = {}
        self.train_factor = train_factor
        self.start = time.perf_counter()

    def done(self, model: str, phase: str, size: Tuple[int, int],
             ms: float) -> None:
        self.left[(model, phase, size)] -= 1
        self.measured[(model, phase, size)] = ms

    def _estimate(self, model: str, phase: str,
                  size: Tuple[int, int]) -> Optional[float]:
        """Milliseconds of one run: as measured at this size, else scaled
        by the pixels from another size; a training step not yet measured
        is guessed from the forward pass."""
        for measured_phase, factor in ((phase, 1.0), ('forward',
                                                      self.train_factor)):
            known = {
                s: ms
                for (m, p, s), ms in self.measured.items()
                if m == model and p == measured_phase
            }
            if size in known:
                return known[size] * factor
            for s, ms in known.items():
                return ms * factor * self.pixels[size] / self.pixels[s]
        return None

    def eta(self) -> Optional[float]:
        total = 0.0
        for (model, phase, size), runs in self.left.items():
            if runs:
                ms = self._estimate(model, phase, size)
                if ms is None:
                    return None
                total += runs * ms / 1e3
        return total

    def line(self, what: str) -> str:
        elapsed = time.perf_counter() - self.start
        eta = self.eta()
        eta_text = format_duration(eta) if eta is not None else \
            'after every model has run once'
        return (f'{what} | elapsed {format_duration(elapsed)}, '
                f'ETA {eta_text}')


def _prefill_momentum(optimizer: torch.optim.SGD) -> None:
    """Creates SGD's momentum buffers now, so that the first measured step
    is a steady-state one (and its peak memory is not the buffers')."""
    for group in optimizer.param_groups:
        for p in group['params']:
            optimizer.state[p]['momentum_buffer'] = torch.zeros_like(p)


class _Contestant:
    """One built model with its optimizer and its measured runs."""

    def __init__(self, name: str, num_classes: int, device: torch.device,
                 channels_last: bool) -> None:
        self.name = name
        self.title = MODEL_SPECS[name].title
        torch.manual_seed(0)
        self.model = build_model_quietly(model_config(name, num_classes))
        self.model.to(device)
        if channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.params = sum(p.numel() for p in self.model.parameters())
        self.optimizer = torch.optim.SGD(self.model.parameters(),
                                         lr=1e-4,
                                         momentum=0.9)
        _prefill_momentum(self.optimizer)


def _is_out_of_memory(error: BaseException) -> bool:
    return isinstance(error, torch.cuda.OutOfMemoryError) or \
        'out of memory' in str(error).lower()


def run_whole_model_benchmark(
        models: Sequence[str] = DEFAULT_MODELS,
        sizes: Sequence[Tuple[int, int]] = DEFAULT_SIZES,
        batch: int = 2,
        forward_batch: int = 1,
        device: Optional[str] = None,
        warmup: int = 1,
        repeats: int = 3,
        amp: bool = False,
        channels_last: bool = False,
        num_classes: int = 21,
        flops: bool = True,
        peak_tflops_per_s: Optional[float] = None,
        progress: Optional[Callable[[str], None]] = None,
        prepare: Optional[Callable[[], None]] = None) -> WholeModelResult:
    """Measures complete segmentors at each input size, interleaved.

    Args:
        models (Sequence[str]): Keys of :data:`.model_specs.MODEL_SPECS`.
            Defaults to the eight of :data:`.model_specs.DEFAULT_MODELS`.
        sizes (Sequence[tuple[int, int]]): Input (height, width) sizes.
            Defaults to 512 x 512 and 512 x 1024.
        batch (int): Batch of the training step. Defaults to 2.
        forward_batch (int): Batch of the forward pass. Defaults to 1.
        device (str, optional): Defaults to CUDA when available, else CPU.
        warmup (int): Untimed runs per model, phase and size, the last of
            which measures the peak memory; >= 1. Defaults to 1.
        repeats (int): Timed rounds (medians are reported). Defaults to 3.
        amp (bool): Run under ``torch.autocast`` in bfloat16. Defaults to
            False.
        channels_last (bool): Models and inputs in ``channels_last``.
            Defaults to False.
        num_classes (int): Classes of every head. Defaults to 21.
        flops (bool): Count FLOPs. Defaults to True.
        peak_tflops_per_s (float, optional): The device's peak TFLOP/s for
            the MFU; defaults to the known GPUs' table (none on CPU).
        progress (callable, optional): Called with a progress line (with
            an ETA) after every measured run.
        prepare (callable, optional): Called once every option is checked,
            before any model is built (e.g. to create the output folder).

    Returns:
        WholeModelResult: The numbers and the settings.
    """
    # every check before any model is built
    models = list(dict.fromkeys(models))
    unknown = [m for m in models if m not in MODEL_SPECS]
    if unknown or not models:
        raise ValueError(f'unknown model(s) {unknown}; choose from '
                         f'{tuple(MODEL_SPECS)}.')
    for name, value, low in (('batch', batch, 1), ('forward_batch',
                                                   forward_batch, 1),
                             ('warmup', warmup, 1), ('repeats', repeats, 1),
                             ('num_classes', num_classes, 1)):
        check_int(value, name, low)
    sizes = [tuple(int(v) for v in s) for s in sizes]
    if not sizes or any(len(s) != 2 or min(s) < MIN_SIZE for s in sizes):
        raise ValueError(f'sizes must be (H, W) pairs with H, W >= '
                         f'{MIN_SIZE}, got {sizes!r}.')
    sizes = list(dict.fromkeys(sizes))
    if peak_tflops_per_s is not None and not peak_tflops_per_s > 0:
        raise ValueError(f'peak TFLOP/s must be > 0, got '
                         f'{peak_tflops_per_s!r}.')
    if device is None:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    try:
        dev = torch.device(device)
    except RuntimeError:
        dev = None
    if dev is None or dev.type not in ('cpu', 'cuda'):
        raise ValueError(f'device {device!r}: only cpu and cuda (cuda:N) '
                         f'are supported.')
    if dev.type == 'cuda' and not torch.cuda.is_available():
        raise ValueError(f'device {device!r} asked for, but CUDA is not '
                         f'available here; use --device cpu.')

    machine = describe_machine(dev)
    if amp:
        precision = 'bf16'
    elif dev.type == 'cuda' and torch.backends.cudnn.allow_tf32:
        precision = 'tf32'  # cuDNN convolutions in fp32 use TF32 cores
    else:
        precision = 'fp32'
    if peak_tflops_per_s is None and dev.type == 'cuda':
        peak_tflops_per_s = peak_tflops(machine, precision)
    if dev.type == 'cuda':
        torch.backends.cudnn.benchmark = True  # fixed shapes, as in training
    reference = REFERENCE_MODEL if REFERENCE_MODEL in models else models[0]
    result = WholeModelResult(models=models,
                              reference=reference,
                              batch=batch,
                              forward_batch=forward_batch,
                              warmup=warmup,
                              repeats=repeats,
                              device=str(dev),
                              machine=machine,
                              threads=torch.get_num_threads(),
                              amp=amp,
                              channels_last=channels_last,
                              precision=precision,
                              peak_tflops=peak_tflops_per_s,
                              num_classes=num_classes,
                              torch_version=torch.__version__,
                              date=time.strftime('%Y-%m-%d'))
    for name in models:
        published = published_miou(name, MODEL_SPECS[name].mmseg_config)
        if published is not None:
            result.published[name] = asdict(published)

    if prepare is not None:
        prepare()
    say = progress or (lambda line: None)
    contestants = []
    for name in models:
        say(f'building {name} ...')
        contestants.append(_Contestant(name, num_classes, dev, channels_last))
    memory_format = torch.channels_last if channels_last else \
        torch.contiguous_format
    autocast = (lambda: torch.autocast(dev.type, dtype=torch.bfloat16)
                ) if amp else nullcontext
    schedule = _Schedule(models, sizes, warmup + repeats,
                         TRAIN_OVER_FORWARD * batch / forward_batch)
    for size in sizes:
        result.sizes.append(
            _measure_size(contestants, size, batch, forward_batch, dev, warmup,
                          repeats, num_classes, flops, memory_format, autocast,
                          schedule, say))
    for size_result in result.sizes:
        _fill_mfu(size_result, result)
    result.seconds = time.perf_counter() - schedule.start
    return result


def _measure_size(contestants: List[_Contestant], size: Tuple[int, int],
                  batch: int, forward_batch: int, dev: torch.device,
                  warmup: int, repeats: int, num_classes: int, flops: bool,
                  memory_format: torch.memory_format, autocast: Callable,
                  schedule: _Schedule, say: Callable[[str],
                                                     None]) -> SizeResult:
    """The forward phase, then the training phase, of every model at one
    size: warm-up (last run: peak memory), then interleaved timed rounds."""
    h, w = size
    tag = f'{h}x{w}'
    meta = dict(ori_shape=size, img_shape=size, pad_shape=size)
    fwd_inputs = torch.randn(forward_batch, 3, h, w,
                             device=dev).to(memory_format=memory_format)
    train_inputs = torch.randn(batch, 3, h, w,
                               device=dev).to(memory_format=memory_format)
    samples = random_samples(batch, size, num_classes, dev)
    results = {}
    for c in contestants:
        c.model.eval()
        count = None
        if flops:
            begin = time.perf_counter()
            count = logits_flops(c.model, size, dev)
            schedule.done(c.name, 'forward', size,
                          1e3 * (time.perf_counter() - begin))
        else:
            schedule.left[(c.name, 'forward', size)] -= 1
        results[c.name] = ModelResult(c.name, c.title, c.params, count)

    def forward_of(c: _Contestant) -> Callable[[], None]:

        def forward() -> None:
            with torch.no_grad(), autocast():
                c.model.encode_decode(fwd_inputs, [meta] * forward_batch)

        return forward

    def train_step_of(c: _Contestant) -> Callable[[], None]:

        def train_step() -> None:
            with autocast():
                losses = c.model.loss(train_inputs, samples)
            sum(v for k, v in losses.items() if 'loss' in k).backward()
            c.optimizer.step()
            c.optimizer.zero_grad(set_to_none=True)

        return train_step

    for phase, make, train in (('forward', forward_of, False),
                               ('train', train_step_of, True)):
        alive = list(contestants)
        for c in list(alive):
            r = results[c.name]
            c.model.train(train)
            fn = make(c)
            try:
                for i in range(warmup):
                    begin = time.perf_counter()
                    if i == warmup - 1:
                        peak = peak_bytes(fn, dev)
                        setattr(r, f'{phase}_peak', peak)
                    else:
                        fn()
                    schedule.done(c.name, phase, size,
                                  1e3 * (time.perf_counter() - begin))
                    say(
                        schedule.line(f'{tag} {phase} warm-up {i + 1}/'
                                      f'{warmup} {c.name}'))
            except (ValueError, RuntimeError) as e:
                if 'Expected more than 1 value per channel' in str(e):
                    r.note = (f'no training step with batch {batch}: a '
                              f'BatchNorm layer sees one value per channel')
                elif _is_out_of_memory(e):
                    r.note = f'{phase}: out of memory'
                else:
                    raise
                alive.remove(c)
                schedule.left[(c.name, phase, size)] = 0
                c.optimizer.zero_grad(set_to_none=True)
                if dev.type == 'cuda':
                    torch.cuda.empty_cache()
        for round_ in range(repeats):
            for c in alive:
                c.model.train(train)
                with timing_method(c.model.decode_head, 'predict', dev,
                                   results[c.name].head_times):
                    ms = time_once(make(c), dev)
                getattr(results[c.name], f'{phase}_times').append(ms)
                schedule.done(c.name, phase, size, ms)
                say(
                    schedule.line(f'{tag} {phase} round {round_ + 1}/'
                                  f'{repeats} {c.name}: {ms:.0f} ms'))
        for c in alive:
            r = results[c.name]
            setattr(r, f'{phase}_ms',
                    statistics.median(getattr(r, f'{phase}_times')))
            if r.head_times:
                r.head_ms = statistics.median(r.head_times)
    return SizeResult(size, [results[c.name] for c in contestants])


def _fill_mfu(size_result: SizeResult, result: WholeModelResult) -> None:
    if result.peak_tflops is None:
        return
    for r in size_result.models:
        if not r.flops:
            continue
        if r.forward_ms:
            r.forward_mfu = model_flops_utilisation(
                r.flops * result.forward_batch, r.forward_ms / 1e3,
                result.peak_tflops)
        if r.train_ms:
            r.train_mfu = model_flops_utilisation(r.flops * result.batch,
                                                  r.train_ms / 1e3,
                                                  result.peak_tflops,
                                                  TRAIN_FORWARD_EQUIVALENTS)


def print_progress(line: str) -> None:
    """Progress to stderr, flushed at once (runs take minutes)."""
    print(line, file=sys.stderr, flush=True)
