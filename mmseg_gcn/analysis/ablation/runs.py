"""One run of the study: its settings, its result file and its training."""
import hashlib
import json
import os.path as osp
from dataclasses import dataclass
from typing import Optional, Tuple

from .variants import AblationError, Variant


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
                 data_params: dict, amp: bool = False) -> dict:
    """What a run's result depends on; a result is reused only when its
    recorded settings are these (a bf16 run, ``amp``, records its
    precision: its result is never mixed with fp32 ones).

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
    if amp:
        settings['precision'] = 'amp'
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
                     keep_checkpoint: bool = False, amp: bool = False):
    """The config of one run: the base config with the variant's head, the
    seed's data, the seed and the budget (one validation, at the end: the
    only one the study reads).

    Args:
        config (str): The base config file.
        spec (RunSpec): The run.
        data_root (str): The seed's data set root.
        iters (int): Training iterations.
        keep_checkpoint (bool): Whether to save the final checkpoint.
        amp (bool): Automatic mixed precision (bf16 on CPU).

    Returns:
        mmengine.Config: The run config (:func:`mmseg_gcn.engine.prepare_run`).
    """
    from ...engine import prepare_run

    return prepare_run(
        config,
        spec.run_dir,
        data_root=data_root,
        iters=iters,
        seed=spec.seed,
        head=spec.variant.head_overrides(),
        run_name=f'{spec.dataset}_{spec.variant.name}_seed{spec.seed}',
        checkpoints='final' if keep_checkpoint else 'none',
        amp=amp)


def record_run(cfg, log_file: Optional[str] = None) -> dict:
    """Trains one run and reads what the study records of it.

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
    from ...engine import free_memory, train_run

    trained = train_run(cfg, keep_runner=True, log_file=log_file)
    head = trained.runner.model.decode_head
    head_params = sum(p.numel() for p in head.parameters())
    classifier_params = sum(p.numel() for p in head.classifiers.parameters())
    trained.runner = None
    free_memory()
    max_iters = cfg.train_cfg.max_iters
    where = f' (log: {log_file})' if log_file else ''
    if trained.metrics is None or trained.metrics_iter != max_iters:
        raise AblationError(f'{cfg.work_dir}: no validation at the last '
                            f'iteration {max_iters}{where}.')
    metrics = {}
    for key, name in METRICS.items():
        value = trained.metrics.get(key)
        if not isinstance(value, (int, float)) or not 0 <= value <= 100:
            raise AblationError(
                f'{cfg.work_dir}: the final validation gave {key} = '
                f'{value!r}, not a percentage{where}.')
        metrics[name] = float(value)
    return dict(metrics=metrics, head_params=int(head_params),
                classifier_params=int(classifier_params),
                wall_time_s=round(trained.train_time_s, 2))
