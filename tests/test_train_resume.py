"""Training through tools/train.py, --resume and load_from, on torch's
default ``weights_only=True`` loading."""
import re

import pytest
import torch
from conftest import REPO, TINY_CONFIG, run_tool
from mmengine.config import Config
from mmengine.runner import Runner

from mmseg_gcn.engine import load_local_checkpoint

TRAIN = str(REPO / 'tools' / 'train.py')


def test_train_two_iterations_writes_checkpoint(trained_work_dir):
    checkpoint = load_local_checkpoint(trained_work_dir / 'iter_2.pth')
    assert checkpoint['meta']['iter'] == 2
    assert (trained_work_dir / 'last_checkpoint').read_text().strip().endswith(
        'iter_2.pth')


@pytest.mark.slow
def test_resume_continues_at_iteration_two(trained_work_dir, demo_data,
                                           tmp_path):
    work_dir = tmp_path / 'resumed'
    work_dir.mkdir()
    (work_dir / 'iter_2.pth').write_bytes(
        (trained_work_dir / 'iter_2.pth').read_bytes())
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'iter_2.pth'))

    result = run_tool([TRAIN, str(TINY_CONFIG), '--work-dir', str(work_dir),
                       '--resume', '--cfg-options', 'train_cfg.max_iters=4'],
                      cwd=demo_data)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert 'resumed epoch: 0, iter: 2' in log
    iterations = [int(i) for i in re.findall(r'Iter\(train\) \[\s*(\d+)/4\]',
                                             log)]
    assert iterations == [3, 4]
    final = load_local_checkpoint(work_dir / 'iter_4.pth')
    assert final['meta']['iter'] == 4


@pytest.mark.slow
def test_load_from_starts_a_new_run_from_those_weights(trained_work_dir,
                                                       demo_data, tmp_path,
                                                       monkeypatch):
    monkeypatch.chdir(demo_data)
    checkpoint_path = trained_work_dir / 'iter_2.pth'
    cfg = Config.fromfile(TINY_CONFIG)
    cfg.work_dir = str(tmp_path / 'finetune')
    cfg.load_from = str(checkpoint_path)
    runner = Runner.from_cfg(cfg)
    runner.load_or_resume()

    saved = load_local_checkpoint(checkpoint_path)['state_dict']
    loaded = runner.model.state_dict()
    assert saved.keys() == loaded.keys()
    for name, tensor in saved.items():
        assert torch.equal(loaded[name], tensor), name
    assert runner.iter == 0  # weights only: a fresh schedule
