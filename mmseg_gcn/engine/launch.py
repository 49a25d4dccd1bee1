"""The command-line and config handling shared by the training and testing
tools, and the one way they build a Runner (:func:`build_runner`)."""
import argparse
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner
from mmseg.registry import RUNNERS

from ..datasets import check_dataset_paths, leaf_datasets
from .cfg_options import merge_cfg_options
from .checkpoint_hook import use_safe_checkpoint_hook
from .distributed import set_dist_timeout, setup_cpu_distributed
from .head_channels import check_head_channels


def parse_args_with_launcher(
        parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Adds mmseg's ``--launcher`` and ``--local-rank`` options, parses the
    command line, and exports ``LOCAL_RANK`` as mmengine expects it.

    Args:
        parser (argparse.ArgumentParser): the tool's parser.

    Returns:
        argparse.Namespace: the parsed arguments.
    """
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def load_config(config: str, cfg_options: Optional[dict] = None) -> Config:
    """Reads a config file, makes its ``CheckpointHook`` a
    :class:`~mmseg_gcn.engine.checkpoint_hook.SafeCheckpointHook` (same
    settings; atomic, preemption-safe) and applies ``--cfg-options`` (keys
    the config does not have are refused, see
    :mod:`mmseg_gcn.engine.cfg_options`).

    A multi-stage schedule (a config that lists ``stages``) stands for its
    last stage, the model it trains: testing, inference, export and analysis
    read that stage's config, and the log says so.

    Args:
        config (str): config file path, or a schedule.
        cfg_options (dict, optional): ``--cfg-options`` overrides; a key
            that starts with ``+`` adds a new key on purpose.

    Returns:
        Config: the config.
    """
    if not osp.isfile(config):
        raise FileNotFoundError(
            f'config {config!r} does not exist; give the path of a config '
            f'file, e.g. configs/gcn/gcn_r152_voc.py.')
    from .stages import SCHEDULE_KEY, load_schedule  # stages imports us
    cfg = Config.fromfile(config)
    if SCHEDULE_KEY in cfg:
        last = load_schedule(config)[-1]
        print_log(
            f'{config} is a multi-stage schedule; using the config of its '
            f'last stage, {last.label}: {last.config}', logger='current')
        cfg = Config.fromfile(last.config)
    use_safe_checkpoint_hook(cfg)
    merge_cfg_options(cfg, cfg_options)
    return cfg


def load_run_config(config: str,
                    launcher: str = 'none',
                    work_dir: Optional[str] = None,
                    cfg_options: Optional[dict] = None,
                    dataloaders: Sequence[str] = ()) -> Config:
    """Loads a config as mmseg's tools do, then prepares the run.

    On top of mmseg's behaviour it refuses ``--cfg-options`` keys the config
    does not have (see :mod:`mmseg_gcn.engine.cfg_options`), checks that the
    data the run reads exists and that the heads take the backbone's output
    channels, and sets up multi-process runs on CPU-only machines.

    Args:
        config (str): config file path.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
        work_dir (str, optional): overrides the config's ``work_dir``;
            defaults to ``./work_dirs/<config name>``.
        cfg_options (dict, optional): ``--cfg-options`` overrides; a key
            that starts with ``+`` adds a new key on purpose.
        dataloaders (Sequence[str]): dataloader keys whose paths to check.

    Returns:
        Config: the config to build the Runner from.
    """
    cfg = load_config(config, cfg_options)
    set_work_dir(cfg, config, work_dir)
    return prepare_checked_run(cfg, launcher, dataloaders)


def set_work_dir(cfg: Config, config: str,
                 work_dir: Optional[str] = None) -> None:
    """Sets a run's ``work_dir`` as mmseg's tools do: ``work_dir`` if given,
    else the config's own, else ``./work_dirs/<config name>``.

    Args:
        cfg (Config): the run config.
        config (str): its file path.
        work_dir (str, optional): the ``--work-dir`` argument.
    """
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])


def prepare_checked_run(cfg: Config, launcher: str = 'none',
                        dataloaders: Sequence[str] = ()) -> Config:
    """Checks a run config before anything is built, and sets up
    multi-process runs on CPU-only machines.

    Args:
        cfg (Config): a config from :func:`load_config`, with its run's
            settings applied.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
        dataloaders (Sequence[str]): dataloader keys whose paths to check.

    Returns:
        Config: ``cfg``.

    Raises:
        FileNotFoundError: if the data of a dataloader is missing.
        HeadChannelsError: if a head does not take the backbone's outputs.
    """
    cfg.launcher = launcher
    check_dataset_paths(cfg, *dataloaders)
    check_head_channels(cfg)
    set_dist_timeout(cfg, launcher)
    setup_cpu_distributed(cfg, launcher)
    return cfg


def build_runner(cfg: Config) -> Runner:
    """Builds the Runner of a run config, as mmengine's tools do.

    Args:
        cfg (Config): a run config, e.g. from :func:`load_run_config`.

    Returns:
        Runner: an instance of the registered Runner subclass that the
        config's ``runner_type`` names, or of mmengine's ``Runner`` if it
        names none.
    """
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    return RUNNERS.build(cfg)


def use_test_time_augmentation(cfg: Config) -> None:
    """Wraps the model for mmseg's test-time augmentation (``--tta``).

    Args:
        cfg (Config): a run config with ``tta_pipeline`` and ``tta_model``
            (mmseg's dataset base configs define them).
    """
    if cfg.model.get('type') == 'SegTTAModel':
        raise ValueError(
            f'{cfg.filename} already tests with augmentation (its model is '
            'a SegTTAModel); run it without --tta.')
    if 'tta_pipeline' not in cfg or 'tta_model' not in cfg:
        raise ValueError(
            f'--tta needs tta_pipeline and tta_model in {cfg.filename}; '
            "inherit them from an mmseg dataset base config.")
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model


def set_data_root(cfg: Config, data_root: str,
                  dataloaders: Sequence[str] = ('train_dataloader',
                                                'val_dataloader',
                                                'test_dataloader')) -> None:
    """Points every dataset of the given dataloaders at ``data_root``
    (through wrappers such as ``ConcatDataset``).

    Args:
        cfg (Config): a run config.
        data_root (str): the data set root, e.g. ``.../VOCdevkit/VOC2012``.
        dataloaders (Sequence[str]): dataloader keys; absent ones are skipped.
    """
    for key in dataloaders:
        loader = cfg.get(key)
        if loader and 'dataset' in loader:
            for dataset in leaf_datasets(loader['dataset']):
                dataset['data_root'] = data_root


def set_max_iters(cfg: Config, iters: int, validations: int = 1) -> None:
    """Makes an iteration-based run ``iters`` iterations long, validating
    ``validations`` times at equal intervals (the last at the end), with the
    learning-rate schedules that ended at the old length ending at the new
    one, and a log line at least every eighth of the run.

    Args:
        cfg (Config): a run config with ``train_cfg.max_iters``.
        iters (int): the new number of iterations (>= 1).
        validations (int): how often to validate (>= 1).
    """
    old = cfg.train_cfg.max_iters
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = max(1, iters // validations)
    for scheduler in cfg.get('param_scheduler') or []:
        if scheduler.get('end') == old:
            scheduler['end'] = iters
    logger = cfg.default_hooks.logger
    logger['interval'] = min(logger.get('interval', 50), max(1, iters // 8))
