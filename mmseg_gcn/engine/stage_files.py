"""A stage of a schedule and the files of its folder: the final weights
(``final.pth``), the marker of a finished stage (``stage_done.json``, with the
weights' SHA-256) and the checkpoint an interrupted stage resumes from."""
import datetime
import hashlib
import json
import os.path as osp
from dataclasses import dataclass
from typing import Dict, Optional

import torch
from mmengine.config import Config

from ..utils import atomic_write
from .checkpoint import UntrustedCheckpointError, check_checkpoint_is_safe
from .checkpoint_writing import save_atomically
from .resume import (ResumeCheckpointError, ResumePoint, checkpoint_folder,
                     find_resume_checkpoint)

#: File in a stage folder that marks the stage finished.
DONE_MARKER = 'stage_done.json'
#: The final weights of a finished stage, in its folder.
FINAL_WEIGHTS = 'final.pth'


class StageError(RuntimeError):
    """A schedule cannot run: a bad schedule file, missing data, or a
    previous stage's final weights that are missing or corrupt."""


@dataclass(frozen=True)
class Stage:
    """One stage of a schedule.

    Attributes:
        index (int): 1-based position in the schedule.
        num_stages (int): Number of stages in the schedule.
        name (str): The stage's name in the schedule.
        config (str): Absolute path of the stage's config.
        work_dir (str): The stage's folder.
    """

    index: int
    num_stages: int
    name: str
    config: str
    work_dir: str

    @property
    def label(self) -> str:
        """str: e.g. ``stage 2/3 'sbd+voc'``."""
        return f'stage {self.index}/{self.num_stages} {self.name!r}'

    @property
    def done_marker(self) -> str:
        """str: path of the stage's ``stage_done.json``."""
        return osp.join(self.work_dir, DONE_MARKER)

    @property
    def final_weights(self) -> str:
        """str: path of the stage's ``final.pth``."""
        return osp.join(self.work_dir, FINAL_WEIGHTS)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def read_done_marker(stage: Stage) -> dict:
    """The ``stage_done.json`` of a finished stage, checked to hold the
    weights' SHA-256.

    Raises:
        StageError: If it cannot be read, saying how to write it again.
    """
    try:
        with open(stage.done_marker, encoding='utf-8') as f:
            marker = json.load(f)
        if not isinstance(marker, dict) or 'sha256' not in marker:
            raise ValueError('no sha256 entry')
        return marker
    except (OSError, ValueError) as error:
        raise StageError(
            f'{stage.label} is marked finished, but {stage.done_marker} '
            f'cannot be read ({error}). Delete it and rerun the command: the '
            'stage resumes from its last checkpoint and writes it again.'
        ) from error


def latest_checkpoint(stage: Stage,
                      cfg: Optional[Config] = None) -> Optional[ResumePoint]:
    """The checkpoint an interrupted stage resumes from.

    Args:
        stage (Stage): the stage.
        cfg (Config, optional): the stage's config, for its checkpoint
            folder (``default_hooks.checkpoint.out_dir``); defaults to the
            stage's config file.

    Returns:
        ResumePoint, optional: the checkpoint in the stage's folder that its
        ``last_checkpoint`` names, or the newest intact one if that one is
        broken (see :func:`~mmseg_gcn.engine.resume.find_resume_checkpoint`);
        None if the stage has not saved one.

    Raises:
        StageError: if no checkpoint of the stage's folder can be used,
            saying why and how to fix it.
    """
    if cfg is None:
        cfg = Config.fromfile(stage.config)
    try:
        return find_resume_checkpoint(
            stage.work_dir, checkpoint_folder(cfg, stage.work_dir))
    except ResumeCheckpointError as error:
        raise StageError(f'{stage.label} was interrupted: {error}') \
            from error


def verify_final_weights(stage: Stage) -> str:
    """Checks a finished stage's final weights before a later stage uses them.

    Args:
        stage (Stage): a finished stage (its ``stage_done.json`` exists).

    Returns:
        str: the path of its ``final.pth``.

    Raises:
        StageError: naming the file, if it is missing, differs from the file
            the stage wrote (SHA-256) or is not a safe checkpoint.
    """
    marker = read_done_marker(stage)
    path = stage.final_weights
    fix = (f'To write it again, delete {path} and {stage.done_marker} and '
           f'rerun the command ({stage.label} resumes from its last '
           f'checkpoint in {stage.work_dir}), or delete {stage.work_dir} to '
           f'train {stage.label} again.')
    if not osp.isfile(path):
        raise StageError(f'The final weights of {stage.label}, {path}, are '
                         f'missing; the next stage starts from them. {fix}')
    if _sha256(path) != marker['sha256']:
        raise StageError(
            f'The final weights of {stage.label}, {path}, are corrupt: the '
            'file differs from the one the stage wrote (SHA-256 recorded in '
            f'{stage.done_marker}). {fix}')
    try:
        check_checkpoint_is_safe(path)
    except UntrustedCheckpointError as error:
        raise StageError(f'The final weights of {stage.label} cannot be '
                         f'used: {error} {fix}') from error
    return path


def write_final_weights(stage: Stage, state_dict: Dict[str, torch.Tensor],
                        meta: dict) -> str:
    """Writes a stage's ``final.pth``, then its ``stage_done.json``.

    Args:
        stage (Stage): the stage that finished.
        state_dict (dict): the model's weights (CPU tensors).
        meta (dict): checkpoint meta (``dataset_meta``, ``iter``, ...).

    Returns:
        str: the path of ``final.pth``.
    """
    meta = dict(meta, stage=dict(index=stage.index, name=stage.name,
                                 config=stage.config))
    save_atomically(dict(meta=meta, state_dict=state_dict),
                    stage.final_weights)
    marker = dict(
        stage=stage.index,
        name=stage.name,
        config=stage.config,
        final_weights=FINAL_WEIGHTS,
        sha256=_sha256(stage.final_weights),
        iter=meta.get('iter'),
        finished=datetime.datetime.now().isoformat(timespec='seconds'))

    def write_marker(tmp: str) -> None:
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(marker, f, indent=2)

    atomic_write(stage.done_marker, write_marker)
    return stage.final_weights
