"""The paper's ablation study of the pixel classifier as one command
(Fig. 4; Tables 1, 3 and 5 of "Large Kernel Matters").

Every *variant* is one decode-head setting of the same network (a ResNet-18
cut after res-3, the single-level head of Fig. 4, see
``configs/_base_/models/gcn_r18-s8_res3.py``), trained with the same data and
budget, over several seeds:

- Table 1: the 1x1 baseline (``1x1``) and GCN with k = 3 ... 15
  (``gcn-k3`` ... ``gcn-k15``), without Boundary Refinement;
- Table 3 (the paper's Tables 2 and 3): one k x k conv (``conv-k<k>``) and a
  stack of linear 3x3 convs (``stack-k<k>``) next to the GCN of the same k,
  for k = 3, 7, 11, 15, without BR;
- Table 5: the baseline and GCN k = 15, each with and without BR
  (``1x1-br``, ``gcn-k15-br``).

Any ``<classifier>[-k<k>][-br]`` name is a variant (e.g. ``gcn-k9-br``).

A *seed* is both the data generator's seed and the training seed, so the
spread over seeds covers both the data and the initialisation. The data of
each seed is generated into ``<work_dir>/data/<dataset>-seed<N>`` (kept when
it was already generated with the same arguments). Each run trains with
mmengine's Runner, in this process, in
``<work_dir>/runs/<dataset>/<variant>/seed<N>``, and ends by writing
``result.json`` (final val mIoU, boundary and internal accuracy of
``BoundaryAccuracyMetric``, head parameters, wall time). A rerun skips the
runs whose ``result.json`` is valid and made with the same settings; a run
interrupted before writing it restarts from the beginning.

The results are written as a markdown table next to the paper's numbers, a
plot of mIoU against k, and the raw numbers as JSON and CSV. The paper's
numbers are for PASCAL VOC 2012 val with a ResNet-152: compare directions
(does mIoU rise with k, does BR raise boundary accuracy), not values.
"""
import contextlib
import csv
import datetime
import gc
import hashlib
import json
import os
import os.path as osp
import re
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import (Callable, Dict, Iterator, List, Optional, Sequence, TextIO,
                    Tuple)

from mmengine.hooks import Hook

from .. import paper_numbers
from ..datasets import check_dataset_paths
from ..datasets.synthetic import generation_params
from ..utils import write_json_atomically
from .progress import format_duration

__all__ = [
    'AblationError', 'DATASETS', 'PAPER_TABLES', 'StudyOptions', 'Summary',
    'Variant', 'VariantSummary', 'format_markdown', 'load_result',
    'parse_variant', 'run_study', 'save_plot', 'select_variants', 'summarize',
    'summarize_runs'
]

#: Version of the ``result.json`` layout.
RESULT_FORMAT = 1
RESULT_FILE = 'result.json'

#: ``BoundaryAccuracyMetric``'s result names -> the names in the results.
METRICS = {
    'boundary/mIoU': 'miou',
    'boundary/band_acc': 'boundary_acc',
    'boundary/internal_acc': 'internal_acc',
    'boundary/band_fraction': 'band_fraction',
}


class AblationError(RuntimeError):
    """The study cannot run as asked: a bad variant name, earlier results
    made with other settings, or a run that produced no valid result."""


# --------------------------------------------------------------------------
# Variants and the paper's tables
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Variant:
    """One decode-head setting of the study.

    Attributes:
        classifier (str): ``'1x1'``, ``'gcn'``, ``'conv'`` or ``'stack'``
            (see :func:`mmseg_gcn.models.build_classifier`).
        kernel_size (int, optional): k; None for ``'1x1'``.
        use_br (bool): Whether the head uses Boundary Refinement.
    """

    classifier: str
    kernel_size: Optional[int]
    use_br: bool

    @property
    def name(self) -> str:
        """str: e.g. ``'gcn-k15-br'``; :func:`parse_variant` reads it."""
        name = self.classifier
        if self.kernel_size is not None:
            name += f'-k{self.kernel_size}'
        return name + ('-br' if self.use_br else '')

    @property
    def label(self) -> str:
        """str: a readable name, e.g. ``'GCN k=15 + BR'``."""
        k = self.kernel_size
        label = {
            '1x1': '1x1 (base)',
            'gcn': f'GCN k={k}',
            'conv': f'Conv {k}x{k}',
            'stack': f'Stack {((k or 3) - 1) // 2} x 3x3 (k={k})',
        }[self.classifier]
        return label + (' + BR' if self.use_br else '')

    def head_overrides(self) -> dict:
        """dict: the ``model.decode_head`` entries this variant sets."""
        overrides = dict(classifier=self.classifier, use_br=self.use_br)
        if self.kernel_size is not None:
            overrides['kernel_size'] = self.kernel_size
        return overrides


_VARIANT_NAME = re.compile(r'(?:(?P<base>1x1)|(?P<kind>gcn|conv|stack)'
                           r'-k(?P<k>\d+))(?P<br>-br)?')


def parse_variant(name: str) -> Variant:
    """Reads a variant name such as ``'1x1'``, ``'gcn-k7'`` or
    ``'stack-k11-br'``.

    Args:
        name (str): ``1x1``, or ``gcn``/``conv``/``stack`` followed by
            ``-k<odd k >= 3>``; either with an optional ``-br``.

    Returns:
        Variant: The variant.

    Raises:
        ValueError: If the name does not follow that pattern.
    """
    match = _VARIANT_NAME.fullmatch(name)
    example = "e.g. '1x1', 'gcn-k15', 'conv-k7', 'stack-k11' or 'gcn-k15-br'"
    if match is None:
        raise ValueError(f'unknown variant {name!r}: a variant is 1x1 or '
                         f'gcn|conv|stack-k<k>, optionally followed by -br; '
                         f'{example}.')
    k = None
    if match['kind']:
        k = int(match['k'])
        if k < 3 or k % 2 == 0:
            raise ValueError(f'variant {name!r}: k must be odd and >= 3 (a '
                             f"'same'-padded kernel), got {k}; {example}.")
    return Variant(match['base'] or match['kind'], k, bool(match['br']))


@dataclass(frozen=True)
class PaperTable:
    """A group of variants compared in one of the paper's tables.

    Attributes:
        key (str): What ``--tables`` selects it by.
        title (str): Heading of the group.
        variants (tuple[str]): Variant names, in table order.
        compare_regions (bool): Whether the group shows the paper's
            boundary/internal accuracy too (Table 5).
    """

    key: str
    title: str
    variants: Tuple[str, ...]
    compare_regions: bool = False


_KS = (3, 5, 7, 9, 11, 13, 15)
_TABLE3_KS = (3, 7, 11, 15)

#: The paper's tables the study reproduces, by ``--tables`` key.
PAPER_TABLES: Dict[str, PaperTable] = {
    '1': PaperTable('1', 'Table 1: GCN kernel size k (no BR)',
                    ('1x1', ) + tuple(f'gcn-k{k}' for k in _KS)),
    '3': PaperTable(
        '3', 'Table 3: GCN vs one k x k conv (the paper\'s Table 2) and a '
        'stack of linear 3x3 convs (Table 3), no BR',
        tuple(f'{kind}-k{k}' for k in _TABLE3_KS
              for kind in ('gcn', 'conv', 'stack'))),
    '5': PaperTable('5', 'Table 5: Boundary Refinement',
                    ('1x1', '1x1-br', 'gcn-k15', 'gcn-k15-br'),
                    compare_regions=True),
}

#: The paper's PASCAL VOC 2012 val mIoU per variant (Tables 1, 2, 3, 5) and
#: its boundary and internal accuracy (Table 5).
PAPER_MIOU: Dict[str, float] = paper_numbers.VOC_VAL_MIOU
PAPER_REGIONS: Dict[str, Tuple[float, float]] = \
    paper_numbers.TABLE5_REGION_ACCURACY


def select_variants(tables: Sequence[str] = (),
                    names: Sequence[str] = ()) -> List[Variant]:
    """The variants of the given paper tables plus the named ones.

    Args:
        tables (Sequence[str]): Keys of :data:`PAPER_TABLES`.
        names (Sequence[str]): Variant names (see :func:`parse_variant`).

    Returns:
        list[Variant]: Each variant once, in table order, then the named
        ones in the given order.

    Raises:
        ValueError: On an unknown table key or variant name.
    """
    wanted: List[str] = []
    for key in tables:
        if key not in PAPER_TABLES:
            raise ValueError(f'unknown table {key!r}; choose from '
                             f'{", ".join(PAPER_TABLES)}.')
        wanted += PAPER_TABLES[key].variants
    wanted += names
    variants, seen = [], set()
    for name in wanted:
        variant = parse_variant(name)
        if variant.name not in seen:
            seen.add(variant.name)
            variants.append(variant)
    return variants


# --------------------------------------------------------------------------
# Data sets
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class DataSet:
    """A data set the study can run on.

    Attributes:
        name (str): ``--dataset`` value.
        config (str): The base config, relative to the repository root.
        generator (str): ``'voc_context'`` or ``'voc_aug'``.
        full (dict): Generator arguments (all but the seed) of the study.
        quick (dict): Generator arguments of ``--quick``.
    """

    name: str
    config: str
    generator: str
    full: dict
    quick: dict

    def generate(self, out: str, **kwargs):
        """Runs the data set's generator; returns its ``DatasetSummary``."""
        if self.generator == 'voc_context':
            from ..datasets.synthetic import generate_voc_context
            return generate_voc_context(out, **kwargs)
        from ..datasets.synthetic import generate_voc_aug
        return generate_voc_aug(out, **kwargs)


#: The context set (where the paper's claim should show) and its control.
DATASETS: Dict[str, DataSet] = {
    'context':
    DataSet('context',
            'configs/context/gcn_r18-s8_1xb8-1.2k_context-128x128.py',
            'voc_context',
            full=dict(num_train=400, num_aug=0, num_val=100, size=128),
            quick=dict(num_train=16, num_aug=0, num_val=8, size=128)),
    'control':
    DataSet('control',
            'configs/context/gcn_r18-s8_1xb8-1.2k_control-voc12aug-96x96.py',
            'voc_aug',
            full=dict(num_train=240, num_aug=80, num_val=60, min_side=96,
                      max_side=128),
            quick=dict(num_train=16, num_aug=4, num_val=8, min_side=96,
                       max_side=128)),
}


def prepare_data(dataset: DataSet, params: dict, out: str,
                 say: Callable[[str], None] = print) -> str:
    """Generates a data set unless ``out`` already holds exactly it.

    Args:
        dataset (DataSet): Which data set.
        params (dict): Generator arguments, seed included.
        out (str): Folder to hold ``VOCdevkit/VOC2012``.
        say (callable): Where messages go.

    Returns:
        str: The data set root, ``<out>/VOCdevkit/VOC2012``.

    Raises:
        FileExistsError: If ``out`` holds data the generator did not write.
    """
    root = osp.join(out, 'VOCdevkit', 'VOC2012')
    found = generation_params(root)
    # The generator writes the split lists last: with them, it finished.
    lists = osp.join(root, 'ImageSets', 'Segmentation')
    complete = all(
        osp.isfile(osp.join(lists, f'{split}.txt'))
        for split in ('train', 'val'))
    if (found is not None and complete
            and found.get('generator') == dataset.generator
            and all(found.get(k) == v for k, v in params.items())):
        return root
    if found is not None:
        say(f'{root}: generated with other arguments or cut off; '
            'regenerating it')
    start = time.perf_counter()
    summary = dataset.generate(out, **params)
    splits = ', '.join(f'{n} {s}' for s, n in summary.splits.items() if n)
    say(f'data: wrote {root} ({splits}) in '
        f'{time.perf_counter() - start:.1f} s')
    return root


# --------------------------------------------------------------------------
# One run
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class RunSpec:
    """One variant trained with one seed.

    Attributes:
        dataset (str): Data set name.
        variant (Variant): The head setting.
        seed (int): Data and training seed.
        work_dir (str): The study's folder.
    """

    dataset: str
    variant: Variant
    seed: int
    work_dir: str

    @property
    def run_dir(self) -> str:
        """str: ``<work_dir>/runs/<dataset>/<variant>/seed<N>``."""
        return osp.join(self.work_dir, 'runs', self.dataset,
                        self.variant.name, f'seed{self.seed}')

    @property
    def result_file(self) -> str:
        """str: the run's ``result.json``."""
        return osp.join(self.run_dir, RESULT_FILE)

    @property
    def label(self) -> str:
        """str: e.g. ``'gcn-k15 seed 1'``."""
        return f'{self.variant.name} seed {self.seed}'


def config_digest(config: str) -> str:
    """SHA-256 of a config's content after inheritance: results made with a
    config that has changed since are not reused."""
    from mmengine.config import Config
    text = json.dumps(Config.fromfile(config).to_dict(), sort_keys=True,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def check_evaluator(config: str) -> None:
    """Makes sure a config validates with ``BoundaryAccuracyMetric``, whose
    results the study records.

    Raises:
        AblationError: naming the config, if it does not.
    """
    from mmengine.config import Config
    evaluator = Config.fromfile(config).get('val_evaluator')
    evaluators = evaluator if isinstance(evaluator, (list, tuple)) else [
        evaluator
    ]
    if not any(
            isinstance(e, dict) and e.get('type') == 'BoundaryAccuracyMetric'
            and e.get('prefix') in (None, 'boundary') for e in evaluators):
        raise AblationError(
            f'{config}: the study records the results of '
            "val_evaluator = dict(type='BoundaryAccuracyMetric') (mIoU, "
            f'boundary and internal accuracy), but the config has '
            f'{evaluator!r}.')


def run_settings(spec: RunSpec, iters: int, config: str, digest: str,
                 data_params: dict) -> dict:
    """What a run's result depends on; a result is reused only when its
    recorded settings are these.

    Returns:
        dict: JSON-normal settings (lists, not tuples).
    """
    settings = dict(
        dataset=spec.dataset,
        variant=spec.variant.name,
        seed=spec.seed,
        iters=iters,
        config=osp.basename(config),
        config_sha256=digest,
        head=spec.variant.head_overrides(),
        data=data_params)
    return json.loads(json.dumps(settings))


def load_result(path: str, settings: dict) -> Tuple[Optional[dict], str]:
    """Reads a finished run's ``result.json``.

    Args:
        path (str): The file.
        settings (dict): The settings the result must have been made with
            (:func:`run_settings`).

    Returns:
        tuple[dict | None, str]: The result, or None and why it cannot be
        used (missing, unreadable or incomplete: the run is trained again).

    Raises:
        AblationError: If the result is valid but was made with other
            settings (another iteration count, config, data...): it is not
            thrown away silently.
    """
    if not osp.isfile(path):
        return None, 'no result yet'
    try:
        with open(path, encoding='utf-8') as f:
            result = json.load(f)
        if not isinstance(result, dict):
            raise ValueError('not a JSON object')
        if result.get('format') != RESULT_FORMAT:
            raise ValueError(f"format {result.get('format')!r}, expected "
                             f'{RESULT_FORMAT}')
        metrics = result['metrics']
        for key in METRICS.values():
            value = metrics[key]
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not 0 <= value <= 100):
                raise ValueError(f'metric {key} = {value!r} is not a '
                                 'percentage')
        for key in ('head_params', 'classifier_params'):
            if not isinstance(result[key], int) or result[key] < 0:
                raise ValueError(f'{key} = {result[key]!r}')
        if not isinstance(result['wall_time_s'], (int, float)) or not (
                result['wall_time_s'] >= 0):
            raise ValueError(f"wall_time_s = {result['wall_time_s']!r}")
        recorded = result['settings']
    except (OSError, ValueError, KeyError, TypeError) as error:
        return None, f'{path} is unusable ({error!s})'
    if recorded != settings:
        changed = sorted(k for k in set(settings) | set(recorded)
                         if settings.get(k) != recorded.get(k))
        details = '; '.join(f'{k}: recorded {recorded.get(k)!r}, now '
                            f'{settings.get(k)!r}' for k in changed)
        raise AblationError(
            f'{path} was made with other settings ({details}). Its numbers '
            'would mix with this study\'s: choose another --work-dir for '
            'these settings, or delete the run folder '
            f'{osp.dirname(path)} (or all of runs/) to train it again.')
    return result, ''


def build_run_config(config: str, spec: RunSpec, data_root: str, iters: int,
                     keep_checkpoint: bool = False):
    """The config of one run: the base config with the variant's head, the
    seed's data, the seed and the budget.

    Args:
        config (str): The base config file.
        spec (RunSpec): The run.
        data_root (str): The seed's data set root.
        iters (int): Training iterations.
        keep_checkpoint (bool): Whether to save the final checkpoint.

    Returns:
        mmengine.Config: The config to build the Runner from.
    """
    from ..engine import load_run_config, set_data_root, set_max_iters

    cfg = load_run_config(config, work_dir=spec.run_dir)
    set_data_root(cfg, data_root)
    check_dataset_paths(cfg, 'train_dataloader', 'val_dataloader')
    cfg.model.decode_head.update(spec.variant.head_overrides())
    # one validation, at the end: the only one the study reads
    set_max_iters(cfg, iters)
    cfg.randomness = dict(cfg.get('randomness') or {}, seed=spec.seed)
    if keep_checkpoint:
        cfg.default_hooks.checkpoint.update(interval=iters, max_keep_ckpts=1)
    else:
        cfg.default_hooks.checkpoint = None  # mmengine drops a None hook
    # mmengine keys its logger, message hub and visualizer by name: each run
    # needs its own, or it would log into the previous run's.
    name = f'{spec.dataset}_{spec.variant.name}_seed{spec.seed}_{os.getpid()}'
    cfg.experiment_name = name
    if isinstance(cfg.get('visualizer'), dict):
        cfg.visualizer['name'] = f'visualizer_{name}'
    return cfg


class _FinalValMetrics(Hook):
    """Keeps the metrics of the last validation of a run."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.metrics: Optional[dict] = None
        self.iter: Optional[int] = None

    def after_val_epoch(self, runner, metrics=None) -> None:
        self.metrics, self.iter = dict(metrics or {}), runner.iter


@contextlib.contextmanager
def _output_to(log_file: Optional[str]) -> Iterator[None]:
    """Sends ``print`` and warnings (the Runner's console log) to a file;
    with None, leaves them on the console."""
    if log_file is None:
        yield
        return
    with open(log_file, 'a', encoding='utf-8') as f, \
            contextlib.redirect_stdout(f), contextlib.redirect_stderr(f):
        yield


def _close_logger(logger) -> None:
    """Closes a finished run's log handlers, which hold its files (and the
    redirected console stream) open."""
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)


def train_run(cfg, log_file: Optional[str] = None) -> dict:
    """Trains one run with mmengine's Runner and reads its final metrics.

    Args:
        cfg (mmengine.Config): From :func:`build_run_config`.
        log_file (str, optional): Where the Runner's console output goes;
            None leaves it on the console.

    Returns:
        dict: ``metrics`` (``miou``, ``boundary_acc``, ``internal_acc``,
        ``band_fraction``, in percent), ``head_params`` (the decode head's
        parameters), ``classifier_params`` (its pixel classifier's, the
        count of the paper's Tables 2-3) and ``wall_time_s``.

    Raises:
        AblationError: If the run's last validation gives no valid result.
    """
    from mmseg_gcn.engine import build_runner

    start = time.perf_counter()
    capture = _FinalValMetrics()
    with _output_to(log_file):
        runner = build_runner(cfg)
        try:
            runner.register_hook(capture)
            head = runner.model.decode_head
            head_params = sum(p.numel() for p in head.parameters())
            classifier_params = sum(
                p.numel() for p in head.classifiers.parameters())
            runner.train()
        finally:
            _close_logger(runner.logger)
    max_iters = cfg.train_cfg.max_iters
    del runner
    gc.collect()
    where = f' (log: {log_file})' if log_file else ''
    if capture.metrics is None or capture.iter != max_iters:
        raise AblationError(f'{cfg.work_dir}: no validation at the last '
                            f'iteration {max_iters}{where}.')
    metrics = {}
    for key, name in METRICS.items():
        value = capture.metrics.get(key)
        if not isinstance(value, (int, float)) or not 0 <= value <= 100:
            raise AblationError(
                f'{cfg.work_dir}: the final validation gave {key} = '
                f'{value!r}, not a percentage{where}.')
        metrics[name] = float(value)
    return dict(metrics=metrics, head_params=int(head_params),
                classifier_params=int(classifier_params),
                wall_time_s=round(time.perf_counter() - start, 2))


# --------------------------------------------------------------------------
# Statistics over seeds
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Summary:
    """A number over seeds.

    Attributes:
        mean (float): Mean.
        std (float, optional): Sample standard deviation (n - 1 in the
            denominator); None for a single value.
        min (float): Smallest value.
        max (float): Largest value.
        n (int): Number of values.
    """

    mean: float
    std: Optional[float]
    min: float
    max: float
    n: int

    def format(self, spread: bool = True) -> str:
        """str: ``'72.0 ± 2.0'`` (``'72.0'`` for one value)."""
        if not spread or self.std is None:
            return f'{self.mean:.1f}'
        return f'{self.mean:.1f} ± {self.std:.1f}'


def summarize(values: Sequence[float]) -> Summary:
    """Mean, sample standard deviation, range and count of some values.

    Args:
        values (Sequence[float]): One value per seed; at least one.

    Returns:
        Summary: The summary.

    Raises:
        ValueError: If there are no values.
    """
    if not values:
        raise ValueError('summarize needs at least one value')
    values = [float(v) for v in values]
    std = statistics.stdev(values) if len(values) > 1 else None
    return Summary(statistics.fmean(values), std, min(values), max(values),
                   len(values))


@dataclass
class VariantSummary:
    """A variant's results over its seeds.

    Attributes:
        variant (Variant): The variant.
        seeds (list[int]): Seeds with a result.
        miou (Summary): Val mIoU.
        boundary_acc (Summary): Accuracy within 7 px of an outline.
        internal_acc (Summary): Accuracy elsewhere.
        head_params (int): Parameters of the decode head.
        classifier_params (int): Parameters of its pixel classifier.
        wall_time_s (float): Summed wall time of its runs.
    """

    variant: Variant
    seeds: List[int]
    miou: Summary
    boundary_acc: Summary
    internal_acc: Summary
    head_params: int
    classifier_params: int
    wall_time_s: float


def summarize_runs(results: Sequence[dict]) -> Dict[str, VariantSummary]:
    """Groups run results by variant and summarizes each over its seeds.

    Args:
        results (Sequence[dict]): ``result.json`` contents.

    Returns:
        dict[str, VariantSummary]: By variant name, in first-seen order.
    """
    groups: Dict[str, List[dict]] = {}
    for result in results:
        groups.setdefault(result['settings']['variant'], []).append(result)
    summaries = {}
    for name, runs in groups.items():
        runs = sorted(runs, key=lambda r: r['settings']['seed'])

        def over_seeds(key: str, runs=runs) -> Summary:
            return summarize([r['metrics'][key] for r in runs])

        summaries[name] = VariantSummary(
            variant=parse_variant(name),
            seeds=[r['settings']['seed'] for r in runs],
            miou=over_seeds('miou'),
            boundary_acc=over_seeds('boundary_acc'),
            internal_acc=over_seeds('internal_acc'),
            head_params=runs[0]['head_params'],
            classifier_params=runs[0]['classifier_params'],
            wall_time_s=sum(r['wall_time_s'] for r in runs))
    return summaries


# --------------------------------------------------------------------------
# Reports: markdown, plot, raw numbers
# --------------------------------------------------------------------------
def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]],
                    right: Sequence[bool]) -> List[str]:
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '|'.join('---:' if r else '---' for r in right) + '|']
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    return lines


def _groups(variants: Sequence[Variant], tables: Sequence[str]
            ) -> List[Tuple[str, List[Variant], bool]]:
    """(title, variants, compare_regions) of each group of the report: the
    selected paper tables, then any other paper table holding a variant not
    shown yet, then the variants of no paper table."""
    names = {v.name: v for v in variants}
    order = list(tables) + [k for k in PAPER_TABLES if k not in tables]
    groups, placed = [], set()
    for key in order:
        table = PAPER_TABLES[key]
        members = [names[n] for n in table.variants
                   if n in names and (key in tables or n not in placed)]
        if members:
            groups.append((table.title, members, table.compare_regions))
            placed.update(v.name for v in members)
    rest = [v for v in variants if v.name not in placed]
    if rest:
        groups.append(('Other variants', rest, False))
    return groups


def format_markdown(summaries: Dict[str, VariantSummary],
                    variants: Sequence[Variant], tables: Sequence[str],
                    header: Sequence[str], num_seeds: int) -> str:
    """The study's results as markdown, one table per paper table.

    Args:
        summaries (dict[str, VariantSummary]): From :func:`summarize_runs`.
        variants (Sequence[Variant]): The variants of the study (those
            without results are listed with dashes).
        tables (Sequence[str]): The selected paper tables (keys of
            :data:`PAPER_TABLES`), shown first and in full; a variant of
            another table is shown in the first one holding it.
        header (Sequence[str]): Lines above the tables (settings).
        num_seeds (int): Seeds asked for; fewer results are flagged.

    Returns:
        str: Markdown.
    """
    lines = list(header)
    columns = ['variant', 'mIoU (mean ± std)', 'min..max', 'seeds',
               'classifier params', 'head params', 'boundary acc',
               'internal acc', 'paper mIoU']
    for title, members, regions in _groups(variants, tables):
        cols = columns + (['paper boundary', 'paper internal']
                          if regions else [])
        rows = []
        for variant in members:
            paper = PAPER_MIOU.get(variant.name)
            cells = [variant.label]
            s = summaries.get(variant.name)
            if s is None:
                cells += ['–', '–', f'0/{num_seeds}', '–', '–', '–', '–']
            else:
                cells += [
                    s.miou.format(), f'{s.miou.min:.1f}..{s.miou.max:.1f}',
                    f'{s.miou.n}/{num_seeds}', f'{s.classifier_params:,}',
                    f'{s.head_params:,}', s.boundary_acc.format(),
                    s.internal_acc.format()
                ]
            cells.append('–' if paper is None else f'{paper:.1f}')
            if regions:
                paper_regions = PAPER_REGIONS.get(variant.name)
                cells += (['–', '–'] if paper_regions is None else
                          [f'{x:.1f}' for x in paper_regions])
            rows.append(cells)
        lines += ['', f'### {title}', '']
        lines += _markdown_table(cols, rows, [False] + [True] *
                                 (len(cols) - 1))
    return '\n'.join(lines) + '\n'


def save_plot(summaries: Dict[str, VariantSummary], out_file: str,
              title: str) -> str:
    """mIoU against k for GCN, conv and stack (mean ± std over seeds), the
    1x1 baseline as a horizontal band; variants with BR dashed.

    Args:
        summaries (dict[str, VariantSummary]): From :func:`summarize_runs`.
        out_file (str): The PNG to write.
        title (str): Figure title.

    Returns:
        str: ``out_file``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from ..visualization.figure import save_figure

    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    colours = {'gcn': 'tab:red', 'conv': 'tab:blue', 'stack': 'tab:green',
               '1x1': 'tab:grey'}
    names = {'gcn': 'GCN', 'conv': 'Conv k x k', 'stack': 'Stack of 3x3'}
    for br in (False, True):
        suffix = ' + BR' if br else ''
        base = summaries.get('1x1-br' if br else '1x1')
        if base is not None:
            std = base.miou.std or 0.0
            ax.axhline(base.miou.mean, color=colours['1x1'],
                       linestyle='--' if br else '-',
                       label=f'1x1 baseline{suffix} (mean ± std)')
            if std:
                ax.axhspan(base.miou.mean - std, base.miou.mean + std,
                           color=colours['1x1'], alpha=0.1 if br else 0.2)
        for kind, name in names.items():
            points = sorted(
                (s.variant.kernel_size, s) for s in summaries.values()
                if s.variant.classifier == kind and s.variant.use_br == br)
            if not points:
                continue
            ks = [k for k, _ in points]
            ax.errorbar(ks, [s.miou.mean for _, s in points],
                        yerr=[s.miou.std or 0.0 for _, s in points],
                        color=colours[kind], marker='s' if br else 'o',
                        linestyle='--' if br else '-', capsize=3,
                        label=name + suffix)
    if not summaries:
        ax.text(0.5, 0.5, 'no results yet', ha='center', va='center',
                transform=ax.transAxes)
    ax.set_xlabel('kernel size k')
    ax.set_ylabel('val mIoU (%)')
    ax.set_xticks(_KS)
    ax.set_xlim(_KS[0] - 1, _KS[-1] + 1)
    ax.grid(alpha=0.3)
    if summaries:
        ax.legend(loc='best', fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out_file)


def write_raw(results: Sequence[dict], summaries: Dict[str, VariantSummary],
              meta: dict, json_file: str, csv_file: str) -> None:
    """Writes every run's numbers (JSON and CSV) and the per-variant summary
    (JSON)."""
    summary = {}
    for name, s in summaries.items():
        summary[name] = dict(
            label=s.variant.label, seeds=s.seeds,
            head_params=s.head_params, classifier_params=s.classifier_params,
            wall_time_s=round(s.wall_time_s, 2),
            paper_miou=PAPER_MIOU.get(name),
            **{key: vars(getattr(s, key))
               for key in ('miou', 'boundary_acc', 'internal_acc')})
    write_json_atomically(json_file, dict(meta, summary=summary,
                                           runs=list(results)))
    fields = ['dataset', 'variant', 'seed', 'iters', 'miou', 'boundary_acc',
              'internal_acc', 'band_fraction', 'classifier_params',
              'head_params', 'wall_time_s']
    with open(csv_file, 'w', newline='', encoding='utf-8') as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for r in results:
            writer.writerow({
                **{k: r['settings'][k] for k in fields[:4]},
                **r['metrics'],
                **{k: r[k] for k in fields[-3:]}
            })


# --------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------
class StudyProgress:
    """Done/total runs, elapsed time and an ETA from the mean time of the
    runs trained so far (runs finished earlier count as done, not in the
    mean).

    Args:
        total (int): Runs in the study.
        width (int): Characters of the bar.
        clock (callable): Seconds; for tests.
    """

    def __init__(self, total: int, width: int = 20,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.total, self.width, self.clock = total, width, clock
        self.start = clock()
        self.skipped = 0
        self.times: List[float] = []

    @property
    def done(self) -> int:
        """int: Runs finished, earlier or now."""
        return self.skipped + len(self.times)

    def eta(self) -> Optional[float]:
        """float, optional: Seconds left, None before a run was timed."""
        if not self.times:
            return None if self.done < self.total else 0.0
        return statistics.fmean(self.times) * (self.total - self.done)

    def line(self) -> str:
        """str: e.g. ``[######----] 3/6 runs | elapsed 2m00s | ETA 3m00s
        (60 s/run)``."""
        filled = self.width * self.done // max(self.total, 1)
        bar = '#' * filled + '-' * (self.width - filled)
        eta = self.eta()
        text = (f'[{bar}] {self.done}/{self.total} runs | elapsed '
                f'{format_duration(self.clock() - self.start)} | ETA ')
        if eta is None:
            return text + '? (no run timed yet)'
        text += format_duration(eta)
        if self.times:
            text += f' ({statistics.fmean(self.times):.0f} s/run)'
        return text


# --------------------------------------------------------------------------
# The study
# --------------------------------------------------------------------------
@dataclass
class StudyOptions:
    """What to run.

    Attributes:
        dataset (str): Key of :data:`DATASETS`.
        variants (list[Variant]): The head settings.
        seeds (list[int]): Data and training seeds.
        work_dir (str): Data and runs go here.
        out_dir (str): The table, plot and raw numbers go here.
        repo_root (str): Where the configs are.
        iters (int, optional): Training iterations; None: the config's.
        quick (bool): Tiny data (``DataSet.quick``).
        keep_checkpoints (bool): Keep each run's final checkpoint.
        verbose (bool): Show the Runner's output instead of writing it to
            each run's ``console.log``.
        report_only (bool): Train nothing; report the finished runs.
        tables (list[str]): The ``--tables`` asked for (for the header).
    """

    dataset: str
    variants: List[Variant]
    seeds: List[int]
    work_dir: str
    out_dir: str
    repo_root: str
    iters: Optional[int] = None
    quick: bool = False
    keep_checkpoints: bool = False
    verbose: bool = False
    report_only: bool = False
    tables: List[str] = field(default_factory=list)


@dataclass
class StudyReport:
    """What a study wrote.

    Attributes:
        markdown (str): The table.
        files (dict[str, str]): ``markdown``, ``plot``, ``json``, ``csv``.
        trained (int): Runs trained by this call.
        skipped (int): Runs finished earlier.
        missing (int): Runs without a result (``report_only``).
        wall_time_s (float): This call's time.
        compute_time_s (float): Summed wall time of all runs in the table.
    """

    markdown: str
    files: Dict[str, str]
    trained: int
    skipped: int
    missing: int
    wall_time_s: float
    compute_time_s: float


def _say(message: str, stream: Optional[TextIO] = None) -> None:
    print(f'[ablation] {message}', file=stream or sys.stdout, flush=True)


def _config_iters(config: str) -> int:
    from mmengine.config import Config
    return int(Config.fromfile(config).train_cfg.max_iters)


def run_study(options: StudyOptions) -> StudyReport:
    """Trains every unfinished run of the study, then writes its report.

    Settings and earlier results are checked before anything is generated
    or trained.

    Args:
        options (StudyOptions): What to run.

    Returns:
        StudyReport: The report and where it was written.

    Raises:
        AblationError: On earlier results made with other settings, or a run
            without a valid final validation.
        FileNotFoundError: If the config or a data folder is missing.
        FileExistsError: If a data folder holds data the generator did not
            write.
    """
    start = time.perf_counter()
    dataset = DATASETS[options.dataset]
    config = osp.join(options.repo_root, dataset.config)
    if not osp.isfile(config):
        raise FileNotFoundError(f'the {dataset.name} config {config} does '
                                'not exist.')
    check_evaluator(config)
    iters = options.iters or _config_iters(config)
    digest = config_digest(config)
    sizes = dataset.quick if options.quick else dataset.full
    data_params = {seed: dict(sizes, seed=seed) for seed in options.seeds}

    # Plan: which runs are finished (checked now, before any compute).
    specs = [
        RunSpec(dataset.name, variant, seed, options.work_dir)
        for seed in options.seeds for variant in options.variants
    ]
    settings, results, todo = {}, {}, []
    for spec in specs:
        settings[spec] = run_settings(spec, iters, config, digest,
                                      data_params[spec.seed])
        result, why = load_result(spec.result_file, settings[spec])
        if result is not None:
            results[spec] = result
        else:
            todo.append(spec)
            if why != 'no result yet':
                _say(f'{spec.label}: {why}; it is trained again')
    _say(f'{dataset.name} set, {len(options.variants)} variants x '
         f'{len(options.seeds)} seeds = {len(specs)} runs of {iters} '
         f'iterations: {len(results)} finished earlier (skipped), '
         f'{len(todo)} to train' + (' (report only)'
                                    if options.report_only else ''))

    progress = StudyProgress(len(specs))
    progress.skipped = len(results)
    files = dict(
        markdown=osp.join(options.out_dir, f'ablation_{dataset.name}.md'),
        plot=osp.join(options.out_dir, f'ablation_{dataset.name}.png'),
        json=osp.join(options.out_dir, f'ablation_{dataset.name}.json'),
        csv=osp.join(options.out_dir, f'ablation_{dataset.name}.csv'))
    os.makedirs(options.out_dir, exist_ok=True)
    trained = 0
    if not options.report_only and todo:
        data_roots = {}
        for seed in sorted({spec.seed for spec in todo}):
            out = osp.join(options.work_dir, 'data',
                           f'{dataset.name}-seed{seed}')
            data_roots[seed] = prepare_data(dataset, data_params[seed], out,
                                            _say)
        _say(progress.line())
        for spec in todo:
            if osp.exists(spec.run_dir):
                _say(f'{spec.label}: an earlier attempt was cut off; '
                     f'restarting it in a clean {spec.run_dir}')
                shutil.rmtree(spec.run_dir)
            os.makedirs(spec.run_dir)
            cfg = build_run_config(config, spec, data_roots[spec.seed], iters,
                                   options.keep_checkpoints)
            log_file = (None if options.verbose else osp.join(
                spec.run_dir, 'console.log'))
            _say(f'{progress.done + 1}/{len(specs)}: training '
                 f'{spec.label} ({spec.variant.label})' +
                 (f', log {log_file}' if log_file else ''))
            try:
                outcome = train_run(cfg, log_file)
            except Exception as error:
                if log_file:
                    _say(f'{spec.label} failed: {error!r}; the Runner\'s '
                         f'output is in {log_file}', sys.stderr)
                raise
            result = dict(
                format=RESULT_FORMAT, settings=settings[spec], **outcome,
                finished=datetime.datetime.now().isoformat(timespec='seconds'))
            write_json_atomically(spec.result_file, result)
            results[spec] = result
            trained += 1
            progress.times.append(outcome['wall_time_s'])
            _say(f'{spec.label}: mIoU {outcome["metrics"]["miou"]:.2f} in '
                 f'{outcome["wall_time_s"]:.0f} s | {progress.line()}')
            # Keep the report current, so an interrupted study shows what
            # it has.
            _write_report(options, dataset, config, iters, specs, results,
                          files, start, plot=False)

    report = _write_report(options, dataset, config, iters, specs, results,
                           files, start, plot=True)
    report.trained = trained
    report.skipped = len(specs) - len(todo)
    return report


def _write_report(options: StudyOptions, dataset: DataSet, config: str,
                  iters: int, specs: Sequence[RunSpec],
                  results: Dict[RunSpec, dict], files: Dict[str, str],
                  start: float, plot: bool) -> StudyReport:
    """Writes the markdown, raw numbers and (with ``plot``) the plot of the
    runs finished so far."""
    ordered = [results[s] for s in specs if s in results]
    summaries = summarize_runs(ordered)
    compute = sum(r['wall_time_s'] for r in ordered)
    wall = time.perf_counter() - start
    missing = len(specs) - len(ordered)
    sizes = dataset.quick if options.quick else dataset.full
    header = [
        f'## Ablation study on the {dataset.name} set',
        '',
        f'- config: `{dataset.config}` (variants change only '
        '`model.decode_head`)',
        f'- data: `{dataset.generator}` generator, '
        + ', '.join(f'{k}={v}' for k, v in sizes.items()) +
        '; one data set per seed',
        f'- {iters} iterations per run; seeds (data and training): '
        + ', '.join(map(str, options.seeds)),
        f'- runs: {len(ordered)}/{len(specs)} finished' +
        (f' ({missing} missing)' if missing else '') +
        f'; summed run time {format_duration(compute)}' +
        (f', {format_duration(compute / len(ordered))} per run'
         if ordered else ''),
        '- mIoU, boundary acc (pixels within 7 px of an outline) and '
        'internal acc (the rest) of `BoundaryAccuracyMetric` on val, in %; '
        'std is the sample standard deviation over seeds',
        '- paper: PASCAL VOC 2012 val, ResNet-152, single-level res-5 head '
        '(Tables 1, 2, 3, 5); compare directions, not values',
    ]
    markdown = format_markdown(summaries, options.variants, options.tables,
                               header, len(options.seeds))
    with open(files['markdown'], 'w', encoding='utf-8') as f:
        f.write(markdown)
    meta = dict(dataset=dataset.name, config=dataset.config, iters=iters,
                seeds=list(options.seeds),
                variants=[v.name for v in options.variants],
                data=dict(generator=dataset.generator, **sizes),
                compute_time_s=round(compute, 2),
                written=datetime.datetime.now().isoformat(timespec='seconds'))
    write_raw(ordered, summaries, meta, files['json'], files['csv'])
    if plot:
        save_plot(summaries, files['plot'],
                  f'{dataset.name} set: val mIoU vs kernel size, '
                  f'{iters} iterations, mean ± std over '
                  f'{len(options.seeds)} seeds')
    return StudyReport(markdown, files, 0, 0, missing, wall, compute)
