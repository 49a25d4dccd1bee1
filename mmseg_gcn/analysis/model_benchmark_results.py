"""What the whole-model benchmark (:mod:`.model_benchmark`) measured: per
model and variant, per input size, and the run's settings."""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple


@dataclass
class ModelResult:
    """What was measured for one model in one variant (precision and
    engine) at one input size."""
    model: str
    title: str
    params: int
    flops: Optional[float]
    #: 'fp32' ('tf32' for CUDA's TF32 convolutions) or 'bf16' (autocast)
    precision: str = 'fp32'
    #: 'torch', or 'onnxruntime' (the exported graph; forward only)
    engine: str = 'torch'
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
    #: % of pixel labels equal to fp32 torch's on the same input (other
    #: variants only)
    same_labels: Optional[float] = None
    note: str = ''

    @property
    def variant(self) -> str:
        """``'fp32'``, ``'bf16'``, ``'onnxruntime fp32'``, ..."""
        return self.precision if self.engine == 'torch' else \
            f'{self.engine} {self.precision}'


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
    #: the precisions measured, as labelled in the rows ('tf32' for fp32 on
    #: a GPU that runs fp32 convolutions in TF32)
    precisions: List[str]
    onnxruntime: bool
    channels_last: bool
    #: peak TFLOP/s per precision, for the MFU (empty: no MFU)
    peak_tflops: Dict[str, float]
    num_classes: int
    torch_version: str
    date: str
    sizes: List[SizeResult] = field(default_factory=list)
    published: Dict[str, dict] = field(default_factory=dict)
    seconds: float = 0.0
