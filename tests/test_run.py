"""The one path that prepares and trains a run (``mmseg_gcn.engine.run``):
the settings it applies, what a trained run gives back, and that every way
to train goes through it."""
import ast
from pathlib import Path

import pytest
from conftest import REPO, TINY_CONFIG, VOC_SUBDIR
from mmengine.config import Config
from mmengine.logging import MMLogger

import mmseg_gcn  # noqa: F401  (registers the components)
from mmseg_gcn.engine import TrainedRun, prepare_run, train_run


def test_prepare_run_applies_every_setting(demo_data, tmp_path):
    data_root = str(demo_data / VOC_SUBDIR)
    cfg = prepare_run(
        str(TINY_CONFIG), str(tmp_path / 'run'), data_root=data_root,
        iters=12, validations=3, seed=7, head=dict(channels=8),
        run_name='prepare-test', checkpoints='final')
    assert cfg.work_dir == str(tmp_path / 'run')
    assert cfg.train_cfg.max_iters == 12 and cfg.train_cfg.val_interval == 4
    assert cfg.randomness.seed == 7
    assert cfg.model.decode_head.channels == 8
    assert {d.data_root for d in cfg.train_dataloader.dataset.datasets
            } == {data_root}
    assert cfg.val_dataloader.dataset.data_root == data_root
    assert cfg.default_hooks.checkpoint.interval == 12
    assert cfg.default_hooks.checkpoint.max_keep_ckpts == 1
    # the package's atomic hook, with the config's settings
    assert cfg.default_hooks.checkpoint.type.endswith('SafeCheckpointHook')
    assert cfg.experiment_name == 'prepare-test'
    assert cfg.visualizer.name.endswith('_prepare-test')
    none = prepare_run(str(TINY_CONFIG), data_root=data_root,
                       checkpoints='none')
    assert none.default_hooks.checkpoint is None
    assert none.work_dir == './work_dirs/fcn_tiny_demo-voc'


def test_a_used_run_name_gets_a_new_one(demo_data):
    MMLogger.get_instance('taken-name')
    cfg = prepare_run(str(TINY_CONFIG),
                      data_root=str(demo_data / VOC_SUBDIR),
                      run_name='taken-name')
    assert cfg.experiment_name == 'taken-name_2'


def test_prepare_run_checks_before_any_compute(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing'):
        prepare_run(str(TINY_CONFIG), data_root=str(tmp_path / 'missing'))
    with pytest.raises(ValueError, match='checkpoints must be one of'):
        prepare_run(str(TINY_CONFIG), checkpoints='some')


def test_a_prepared_config_takes_no_more_settings(demo_data):
    cfg = prepare_run(str(TINY_CONFIG), data_root=str(demo_data / VOC_SUBDIR))
    with pytest.raises(TypeError, match='prepare_run'):
        train_run(cfg, iters=3)


@pytest.mark.slow
def test_train_run_gives_the_final_metrics_and_checkpoint(demo_data,
                                                          tmp_path):
    trained = train_run(
        str(TINY_CONFIG), str(tmp_path / 'run'),
        data_root=str(demo_data / VOC_SUBDIR), iters=3, seed=1,
        run_name='train-run-test', checkpoints='final')
    assert isinstance(trained, TrainedRun)
    assert trained.iters == 3 and trained.metrics_iter == 3
    assert 0 <= trained.metrics['mIoU'] <= 100
    assert trained.checkpoint == str(tmp_path / 'run' / 'iter_3.pth')
    assert Path(trained.checkpoint).is_file()
    assert sorted(p.name for p in (tmp_path / 'run').glob('*.pth')) == [
        'iter_3.pth'
    ]
    assert trained.runner is None  # freed unless asked for
    assert Config.fromfile(TINY_CONFIG).train_cfg.max_iters == 2


def _calls(path: Path) -> set:
    """The names of the functions a module calls."""
    tree = ast.parse(path.read_text())
    return {
        node.func.id if isinstance(node.func, ast.Name) else node.func.attr
        for node in ast.walk(tree) if isinstance(node, ast.Call)
        and isinstance(node.func, (ast.Name, ast.Attribute))
    }


@pytest.mark.parametrize('module', [
    'mmseg_gcn/engine/training.py', 'mmseg_gcn/engine/stages.py',
    'mmseg_gcn/analysis/ablation/runs.py', 'tools/demo.py'
])
def test_every_way_to_train_goes_through_train_run(module):
    calls = _calls(REPO / module)
    assert 'train_run' in calls
    # nobody builds or trains a Runner beside it
    assert not calls & {'build_runner', 'from_cfg', 'load_run_config'}
