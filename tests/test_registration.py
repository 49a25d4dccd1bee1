"""``custom_imports=dict(imports=['mmseg_gcn'])`` in a config anywhere on
disk registers the package, for our tools and for mmseg's own."""
import subprocess
import sys
import textwrap
from pathlib import Path

import mmseg
import pytest
from conftest import TINY_CONFIG, run_tool

from mmseg_gcn.engine import load_local_checkpoint

pytestmark = pytest.mark.slow  # each test starts Python processes

CUSTOM_IMPORTS = ("custom_imports = dict(imports=['mmseg_gcn'], "
                  'allow_failed_imports=False)\n')


def test_custom_imports_registers_everything(tmp_path):
    config = tmp_path / 'elsewhere.py'
    config.write_text(CUSTOM_IMPORTS)
    probe = textwrap.dedent(f"""
        import sys
        from mmengine.config import Config
        from mmengine.runner.checkpoint import CheckpointLoader
        from mmseg.registry import MODELS, TRANSFORMS
        assert 'mmseg_gcn' not in sys.modules
        Config.fromfile({str(config)!r})
        assert 'mmseg_gcn' in sys.modules
        for name in ('GCN', 'BoundaryRefine', 'GCNHead', 'ResNetGCN'):
            assert MODELS.get(name) is not None, name
        for name in ('CheckedLoadImageFromFile', 'CheckedLoadAnnotations'):
            assert TRANSFORMS.get(name) is not None, name
        loader = CheckpointLoader._get_checkpoint_loader('model.pth')
        assert loader.__module__ == 'mmseg_gcn.engine.checkpoint', loader
        print('registered')
    """)
    result = subprocess.run([sys.executable, '-c', probe], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == 'registered'


def test_mmseg_own_train_script_with_custom_imports(tmp_path, demo_data):
    config = tmp_path / 'my_project_config.py'
    config.write_text(f'_base_ = [{str(TINY_CONFIG)!r}]\n' + CUSTOM_IMPORTS)
    mmseg_train = Path(mmseg.__file__).parent / '.mim' / 'tools' / 'train.py'
    work_dir = tmp_path / 'work'

    result = run_tool([str(mmseg_train), str(config), '--work-dir',
                       str(work_dir)], cwd=demo_data)
    assert result.returncode == 0, result.stderr[-4000:]
    checkpoint = load_local_checkpoint(work_dir / 'iter_2.pth')
    assert checkpoint['meta']['iter'] == 2
