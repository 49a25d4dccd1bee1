"""The study as one command: progress, options and the run loop."""
import datetime
import os
import os.path as osp
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, TextIO

from ...utils import write_json_atomically
from ..progress import format_duration
from .report import format_markdown, save_plot, summarize_runs, write_raw
from .runs import (RESULT_FORMAT, RunSpec, build_run_config, check_evaluator,
                   config_digest, load_result, record_run, run_settings)
from .variants import DATASETS, DataSet, Variant, prepare_data


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
        amp (bool): Train and validate under automatic mixed precision
            (bf16 on CPU).
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
    amp: bool = False
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
                                      data_params[spec.seed], options.amp)
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
                                   options.keep_checkpoints, options.amp)
            log_file = (None if options.verbose else osp.join(
                spec.run_dir, 'console.log'))
            _say(f'{progress.done + 1}/{len(specs)}: training '
                 f'{spec.label} ({spec.variant.label})' +
                 (f', log {log_file}' if log_file else ''))
            try:
                outcome = record_run(cfg, log_file)
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
