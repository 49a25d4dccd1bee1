"""Every tool builds its Runner one way (``build_runner``: the config's
``runner_type`` if it has one), and both training tools take the same
options."""
import os
from pathlib import Path

import pytest
from conftest import REPO, TINY_CONFIG, run_tool
from mmengine.config import Config

#: ``tests/`` first, for ``custom_imports = dict(imports=['runner_helpers'])``
TESTS_ON_PATH = {
    'PYTHONPATH': os.pathsep.join(
        [str(REPO / 'tests'), *filter(None, [os.environ.get('PYTHONPATH')])])
}


def write_config(path: Path, runner_type: str) -> Path:
    """The tiny config with a test-only Runner subclass."""
    path.write_text(
        f'_base_ = [{str(TINY_CONFIG)!r}]\n'
        "custom_imports = dict(imports=['runner_helpers'], "
        'allow_failed_imports=False)\n'
        f'runner_type = {runner_type!r}\n')
    return path


@pytest.mark.slow
def test_test_tool_builds_the_configs_runner_type(trained_work_dir,
                                                  demo_data, tmp_path):
    config = write_config(tmp_path / 'announcing.py', 'AnnouncingRunner')
    result = run_tool(
        [str(REPO / 'tools' / 'test.py'), str(config),
         str(trained_work_dir / 'iter_2.pth'), '--work-dir',
         str(tmp_path / 'work')],
        cwd=demo_data, env=TESTS_ON_PATH)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert 'AnnouncingRunner.test' in result.stdout
    assert 'mIoU' in log  # and it did test


@pytest.mark.slow
def test_amp_is_enabled_in_every_stage_of_a_schedule(demo_data, tmp_path):
    """``--amp`` with tools/train.py: each stage's Runner is built from a config
    with an AMP optimizer wrapper (its dumped config says so). The stages
    build their Runners but do not train (training with --amp:
    ``tests/test_precision.py``)."""
    stage = write_config(tmp_path / 'stage.py', 'BuildOnlyRunner')
    assert Config.fromfile(stage).optim_wrapper.type == 'OptimWrapper'
    schedule = tmp_path / 'schedule.py'
    schedule.write_text("stages = [dict(name='first', config='./stage.py'), "
                        "dict(name='second', config='./stage.py')]\n")
    work_dir = tmp_path / 'work'
    result = run_tool(
        [str(REPO / 'tools' / 'train.py'), str(schedule), '--amp', '--work-dir',
         str(work_dir)],
        cwd=demo_data, env=TESTS_ON_PATH)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert log.count('BuildOnlyRunner: built, not trained') == 2
    for folder in ('stage1_first', 'stage2_second'):
        dumped = Config.fromfile(work_dir / folder / 'stage.py')
        # no GPU here: bf16 autocast on CPU, with bf16 validation
        assert dumped.optim_wrapper.type == 'CPUAmpOptimWrapper', folder
        assert dumped.val_cfg.fp16 and dumped.test_cfg.fp16, folder
