"""Training loss and validation metrics over iterations, read from the
scalars file mmengine's ``LocalVisBackend`` writes into a work dir."""
import glob
import json
import os.path as osp
from typing import Dict, List, Sequence, Tuple

Series = Dict[str, List[Tuple[int, float]]]

from .figure import save_figure


def find_scalars_file(work_dir: str) -> str:
    """Returns the newest ``<work_dir>/<timestamp>/vis_data/scalars.json``.

    Args:
        work_dir (str): A Runner's work dir.

    Returns:
        str: Path of the scalars file of the latest run.

    Raises:
        FileNotFoundError: If the work dir holds no scalars file.
    """
    files = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise FileNotFoundError(
            f'no */vis_data/scalars.json in {work_dir!r}: the run logged no '
            "scalars. Train with vis_backends=[dict(type='LocalVisBackend')] "
            '(mmseg default_runtime.py) first.')
    # timestamps (YYYYmmdd_HHMMSS) sort in time order
    return files[-1]


def load_scalars(scalars_file: str) -> Tuple[Series, Series]:
    """Reads an mmengine scalars file.

    Args:
        scalars_file (str): Path of a ``scalars.json`` (one JSON record a
            line, each with a ``step``).

    Returns:
        tuple[dict, dict]: Training and validation series: name ->
        [(iteration, value), ...]. Validation records are those holding
        ``mIoU`` or ``aAcc``; the others are training records.
    """
    train: Series = {}
    val: Series = {}
    with open(scalars_file) as f:
        for line in f:
            if not line.strip():
                continue
            record = json.loads(line)
            step = int(record.pop('step'))
            record.pop('iter', None)
            target = val if ('mIoU' in record or 'aAcc' in record) else train
            for key, value in record.items():
                if isinstance(value, (int, float)):
                    target.setdefault(key, []).append((step, float(value)))
    return train, val


def save_training_curves(scalars_file: str,
                         out_file: str,
                         loss_key: str = 'loss',
                         metric_keys: Sequence[str] = ('mIoU', ),
                         title: str = '') -> str:
    """Plots the training loss and validation metrics against the iteration.

    Args:
        scalars_file (str): Path of the run's ``scalars.json``.
        out_file (str): Path of the PNG to write; folders are created.
        loss_key (str): Training scalar to plot on the left. Defaults to
            'loss' (the total loss).
        metric_keys (Sequence[str]): Validation scalars to plot on the
            right. Defaults to ('mIoU', ).
        title (str): Figure title. Defaults to ''.

    Returns:
        str: ``out_file``.

    Raises:
        ValueError: If the file holds no ``loss_key`` values.
    """
    train, val = load_scalars(scalars_file)
    if not train.get(loss_key):
        raise ValueError(f'{scalars_file} holds no {loss_key!r} values')
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_val) = plt.subplots(1, 2, figsize=(10, 3.8))
    steps, values = zip(*train[loss_key])
    ax_loss.plot(steps, values, color='tab:blue', linewidth=1.2)
    ax_loss.set_xlabel('iteration')
    ax_loss.set_ylabel(f'training {loss_key}')
    ax_loss.set_title(f'training {loss_key}')
    ax_loss.grid(alpha=0.3)
    plotted = False
    for key in metric_keys:
        if val.get(key):
            steps, values = zip(*val[key])
            ax_val.plot(steps, values, marker='o', label=key)
            last_step, last = steps[-1], values[-1]
            ax_val.annotate(
                f'{last:.1f}', (last_step, last), textcoords='offset points',
                xytext=(0, 6), ha='center', fontsize=8)
            plotted = True
    ax_val.set_xlabel('iteration')
    ax_val.set_ylabel('%')
    ax_val.set_ylim(0, 100)
    ax_val.set_title('validation')
    ax_val.set_xlim(ax_loss.get_xlim())
    ax_val.grid(alpha=0.3)
    if plotted:
        ax_val.legend(loc='lower right')
    else:
        ax_val.text(0.5, 0.5, 'no validation yet', ha='center',
                    va='center', transform=ax_val.transAxes)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, out_file)
