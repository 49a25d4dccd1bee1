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

Each model runs in every precision asked for (``fp32``; ``bf16``: under
``torch.autocast``, weights in fp32, as ``--amp`` trains) and, with
``onnxruntime``, also as its exported ONNX graph in onnxruntime's CPU
session (forward only; :mod:`.onnxruntime_timing`). Every variant other than
fp32 torch also reports the share of pixel labels equal to fp32 torch's on
the same input.

**Models and variants are interleaved**: every timed round runs each model
in each variant once, in turn, so that a burst of load on a shared machine
hits all of them alike. Times are medians over ``repeats`` rounds after
``warmup`` untimed runs. Ratios are to GCN-R152-d32 in the first precision
(or the first model when it is not measured).
"""
import statistics
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch

from ..deployment import ExportError
from ..utils import check_int
from .benchmark import build_model_quietly, describe_machine, random_samples
from .flops import logits_flops
from .flops_utilisation import (TRAIN_FORWARD_EQUIVALENTS,
                                model_flops_utilisation, peak_tflops)
from .measure import peak_bytes, time_once, timing_method
from .model_benchmark_results import ModelResult, SizeResult, WholeModelResult
from .model_specs import (DEFAULT_MODELS, MODEL_SPECS, REFERENCE_MODEL,
                          model_config)
from .onnxruntime_timing import OnnxRuntimeForward, check_onnxruntime
from .progress import BenchmarkSchedule
from .published_accuracy import published_miou

DEFAULT_SIZES = ((512, 512), (512, 1024))  # VOC crop, Cityscapes crop
QUICK_SIZES = ((64, 64), (64, 128))
#: Precisions a model can be measured in: fp32, and bf16 under autocast.
PRECISIONS = ('fp32', 'bf16')
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


class _Variant:
    """One model in one precision and engine: what is timed in a round."""

    def __init__(self, contestant: _Contestant, precision: str, engine: str,
                 label: str, device: torch.device) -> None:
        self.contestant = contestant
        self.precision = precision  # 'fp32' or 'bf16', as asked
        self.engine = engine
        self.label = label  # as the rows show it: 'tf32' for CUDA's fp32
        self.key = f'{contestant.name} {engine} {precision}'
        # in the progress lines: the model, and its variant when it has more
        self.shown = contestant.name
        self.autocast = (lambda: torch.autocast(
            device.type, dtype=torch.bfloat16)) if precision == 'bf16' \
            else nullcontext
        self.graph: Optional[OnnxRuntimeForward] = None

    @property
    def trains(self) -> bool:
        return self.engine == 'torch'


def run_whole_model_benchmark(
        models: Sequence[str] = DEFAULT_MODELS,
        sizes: Sequence[Tuple[int, int]] = DEFAULT_SIZES,
        batch: int = 2,
        forward_batch: int = 1,
        device: Optional[str] = None,
        warmup: int = 1,
        repeats: int = 3,
        precisions: Sequence[str] = ('fp32', ),
        onnxruntime: bool = False,
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
        warmup (int): Untimed runs per model, variant, phase and size, the
            last of which measures the peak memory; >= 1. Defaults to 1.
        repeats (int): Timed rounds (medians are reported). Defaults to 3.
        precisions (Sequence[str]): Of :data:`PRECISIONS`: ``'fp32'``, and
            ``'bf16'`` under ``torch.autocast`` (weights in fp32). Each model
            runs in each, in one run. Defaults to fp32 only.
        onnxruntime (bool): Also time each model's forward as its exported
            ONNX graph (fp32) in onnxruntime's CPU session, with as many
            threads as torch. CPU only; needs the deploy extra. Defaults to
            False.
        channels_last (bool): Models and inputs in ``channels_last``.
            Defaults to False.
        num_classes (int): Classes of every head. Defaults to 21.
        flops (bool): Count FLOPs. Defaults to True.
        peak_tflops_per_s (float, optional): The device's peak TFLOP/s for
            the MFU (one precision only); defaults to the known GPUs' table
            (none on CPU).
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
    precisions = list(dict.fromkeys(precisions))
    if not precisions or any(p not in PRECISIONS for p in precisions):
        raise ValueError(f'precisions {precisions!r}: choose one or more of '
                         f'{PRECISIONS}.')
    if peak_tflops_per_s is not None and not peak_tflops_per_s > 0:
        raise ValueError(f'peak TFLOP/s must be > 0, got '
                         f'{peak_tflops_per_s!r}.')
    if peak_tflops_per_s is not None and len(precisions) > 1:
        raise ValueError(f'a peak TFLOP/s of {peak_tflops_per_s:g} holds '
                         f'for one precision; measure {precisions} without '
                         f'it (known GPUs are looked up per precision), or '
                         f'one precision with it.')
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
    if onnxruntime:
        check_onnxruntime(dev)

    machine = describe_machine(dev)
    # cuDNN convolutions in fp32 use TF32 cores where allowed
    fp32_label = 'tf32' if dev.type == 'cuda' and \
        torch.backends.cudnn.allow_tf32 else 'fp32'
    labels = {p: fp32_label if p == 'fp32' else p for p in precisions}
    peaks: Dict[str, float] = {}
    for p in precisions:
        peak = peak_tflops_per_s if peak_tflops_per_s is not None else (
            peak_tflops(machine, labels[p]) if dev.type == 'cuda' else None)
        if peak is not None:
            peaks[labels[p]] = peak
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
                              precisions=[labels[p] for p in precisions],
                              onnxruntime=onnxruntime,
                              channels_last=channels_last,
                              peak_tflops=peaks,
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
    variants = []
    for name in models:
        say(f'building {name} ...')
        contestant = _Contestant(name, num_classes, dev, channels_last)
        engines = [(p, 'torch') for p in precisions]
        if onnxruntime:
            engines.append(('fp32', 'onnxruntime'))
        for p, engine in engines:
            variants.append(_Variant(contestant, p, engine, labels[p], dev))
            if len(engines) > 1:
                variants[-1].shown += f' {engine} {labels[p]}'
    schedule = BenchmarkSchedule([v.key for v in variants], sizes,
                                 warmup + repeats,
                                 TRAIN_OVER_FORWARD * batch / forward_batch)
    for v in variants:
        for size in sizes:
            if not v.trains:
                schedule.left[(v.key, 'train', size)] = 0
            if v.engine != 'torch' or v.precision != precisions[0]:
                schedule.left[(v.key, 'forward', size)] -= 1  # no FLOPs
    for size in sizes:
        result.sizes.append(
            _measure_size(variants, size, batch, forward_batch, dev, warmup,
                          repeats, num_classes, flops, channels_last,
                          schedule, say))
    for size_result in result.sizes:
        _fill_mfu(size_result, result)
    result.seconds = time.perf_counter() - schedule.start
    return result


def _measure_size(variants: List[_Variant], size: Tuple[int, int],
                  batch: int, forward_batch: int, dev: torch.device,
                  warmup: int, repeats: int, num_classes: int, flops: bool,
                  channels_last: bool, schedule: BenchmarkSchedule,
                  say: Callable[[str], None]) -> SizeResult:
    """The forward phase, then the training phase, of every model in every
    variant at one size: warm-up (last run: peak memory), then interleaved
    timed rounds; the labels of each variant are compared with fp32
    torch's after the forward phase."""
    h, w = size
    tag = f'{h}x{w}'
    meta = dict(ori_shape=size, img_shape=size, pad_shape=size)
    memory_format = torch.channels_last if channels_last else \
        torch.contiguous_format
    fwd_inputs = torch.randn(forward_batch, 3, h, w,
                             device=dev).to(memory_format=memory_format)
    train_inputs = torch.randn(batch, 3, h, w,
                               device=dev).to(memory_format=memory_format)
    samples = random_samples(batch, size, num_classes, dev)
    results = {}
    counted = {}
    for v in variants:
        c = v.contestant
        c.model.eval()
        if c.name not in counted:
            count = None
            if flops:
                begin = time.perf_counter()
                count = logits_flops(c.model, size, dev)
                schedule.done(v.key, 'forward', size,
                              1e3 * (time.perf_counter() - begin))
            else:
                schedule.left[(v.key, 'forward', size)] -= 1
            counted[c.name] = count
        results[v.key] = ModelResult(c.name, c.title, c.params,
                                     counted[c.name], v.label, v.engine)
        if v.engine == 'onnxruntime':
            say(f'{tag} exporting {c.name} to ONNX for onnxruntime ...')
            v.graph = None  # another size's graph takes only that size
            try:
                v.graph = OnnxRuntimeForward(c.model, fwd_inputs)
            except ExportError as error:
                results[v.key].note = str(error)
                schedule.left[(v.key, 'forward', size)] = 0

    def forward_of(v: _Variant) -> Callable[[], torch.Tensor]:
        if v.graph is not None:
            return v.graph

        def forward() -> torch.Tensor:
            with torch.no_grad(), v.autocast():
                return v.contestant.model.encode_decode(
                    fwd_inputs, [meta] * forward_batch)

        return forward

    def train_step_of(v: _Variant) -> Callable[[], None]:
        c = v.contestant

        def train_step() -> None:
            with v.autocast():
                losses = c.model.loss(train_inputs, samples)
            sum(loss for k, loss in losses.items() if 'loss' in k).backward()
            c.optimizer.step()
            c.optimizer.zero_grad(set_to_none=True)

        return train_step

    for phase, make, train in (('forward', forward_of, False),
                               ('train', train_step_of, True)):
        alive = [
            v for v in variants
            if v.trains or (not train and v.graph is not None)
        ]
        for v in list(alive):
            r = results[v.key]
            v.contestant.model.train(train)
            fn = make(v)
            try:
                for i in range(warmup):
                    begin = time.perf_counter()
                    if i == warmup - 1 and v.engine == 'torch':
                        peak = peak_bytes(fn, dev)
                        setattr(r, f'{phase}_peak', peak)
                    else:
                        fn()
                    schedule.done(v.key, phase, size,
                                  1e3 * (time.perf_counter() - begin))
                    say(
                        schedule.line(f'{tag} {phase} warm-up {i + 1}/'
                                      f'{warmup} {v.shown}'))
            except (ValueError, RuntimeError) as e:
                if 'Expected more than 1 value per channel' in str(e):
                    r.note = (f'no training step with batch {batch}: a '
                              f'BatchNorm layer sees one value per channel')
                elif _is_out_of_memory(e):
                    r.note = f'{phase}: out of memory'
                else:
                    raise
                alive.remove(v)
                schedule.left[(v.key, phase, size)] = 0
                v.contestant.optimizer.zero_grad(set_to_none=True)
                if dev.type == 'cuda':
                    torch.cuda.empty_cache()
        for round_ in range(repeats):
            for v in alive:
                r = results[v.key]
                v.contestant.model.train(train)
                if v.engine == 'torch':
                    timed = timing_method(v.contestant.model.decode_head,
                                          'predict', dev, r.head_times)
                else:
                    timed = nullcontext()
                with timed:
                    ms = time_once(make(v), dev)
                getattr(r, f'{phase}_times').append(ms)
                schedule.done(v.key, phase, size, ms)
                say(
                    schedule.line(f'{tag} {phase} round {round_ + 1}/'
                                  f'{repeats} {v.shown}: {ms:.0f} ms'))
        for v in alive:
            r = results[v.key]
            setattr(r, f'{phase}_ms',
                    statistics.median(getattr(r, f'{phase}_times')))
            if r.head_times:
                r.head_ms = statistics.median(r.head_times)
        if not train:  # before training steps change the weights
            _compare_labels(variants, results, forward_of)
    return SizeResult(size, [results[v.key] for v in variants])


def _compare_labels(variants: List[_Variant], results: Dict[str,
                                                              ModelResult],
                    forward_of: Callable[[_Variant], Callable]) -> None:
    """Sets ``same_labels`` of every variant of a model that also ran in
    fp32 torch: the % of pixel labels (argmax of the logits) equal to fp32
    torch's on the same input."""
    reference = {
        v.contestant.name: v
        for v in variants if v.engine == 'torch' and v.precision == 'fp32'
    }
    expected = {}  # per model: fp32 torch's labels, computed once
    for v in variants:
        ref = reference.get(v.contestant.name)
        if ref is None or v is ref or results[v.key].forward_ms is None:
            continue
        v.contestant.model.eval()
        if ref.key not in expected:
            expected[ref.key] = forward_of(ref)().argmax(1)
        labels = expected[ref.key]
        got = forward_of(v)().float().argmax(1).to(labels.device)
        results[v.key].same_labels = 100.0 * float(
            (got == labels).float().mean())


def _fill_mfu(size_result: SizeResult, result: WholeModelResult) -> None:
    for r in size_result.models:
        peak = result.peak_tflops.get(r.precision)
        if not r.flops or peak is None:
            continue
        if r.forward_ms:
            r.forward_mfu = model_flops_utilisation(
                r.flops * result.forward_batch, r.forward_ms / 1e3, peak)
        if r.train_ms:
            r.train_mfu = model_flops_utilisation(r.flops * result.batch,
                                                  r.train_ms / 1e3, peak,
                                                  TRAIN_FORWARD_EQUIVALENTS)


def print_progress(line: str) -> None:
    """Progress to stderr, flushed at once (runs take minutes)."""
    print(line, file=sys.stderr, flush=True)
