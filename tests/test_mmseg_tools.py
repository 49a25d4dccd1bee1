"""mmseg's analysis tools that break on this stack, in tools/analysis/:
get_flops.py (mmseg issue #3241) and browse_dataset.py (mmseg issue #3405),
run as a user runs them; and mmseg's own tools/test.py,
analysis_tools/confusion_matrix.py and analysis_tools/benchmark.py (from its
``.mim`` folder) on the package's demo config as shipped."""
import json
from pathlib import Path

import mmseg
import numpy as np
import pytest
import torch
from mmseg.apis import init_model
from mmseg.datasets import PascalVOCDataset
from conftest import REPO, VOC_SUBDIR, run_tool
from PIL import Image

TOOLS = REPO / 'tools' / 'analysis'
ONE_THREAD = {'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'}
DEMO_CONFIG = (REPO / 'configs' / 'demo' /
               'gcn_r18-d32_1xb8-1k_demo-voc12aug-96x96.py')

MMSEG_TOOLS = Path(mmseg.__file__).parent / '.mim' / 'tools'

pytestmark = pytest.mark.slow  # each test runs a tool in a new Python process


@pytest.fixture(scope='module')
def demo_checkpoint(tmp_path_factory) -> Path:
    """The demo config's (untrained) model saved with the data set's
    classes, as mmengine's Runner saves a checkpoint."""
    path = tmp_path_factory.mktemp('checkpoint') / 'model.pth'
    model = init_model(str(DEMO_CONFIG), device='cpu')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(PascalVOCDataset.METAINFO))),
               path)
    return path


def test_mmseg_test_py_and_confusion_matrix_on_the_demo_config(
        workspace, demo_checkpoint):
    out = workspace / 'predictions'
    result = run_tool([
        str(MMSEG_TOOLS / 'test.py'),
        str(DEMO_CONFIG),
        str(demo_checkpoint), '--out',
        str(out), '--work-dir',
        str(workspace / 'work')
    ], cwd=workspace, env=ONE_THREAD)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'mIoU' in result.stdout + result.stderr
    val = (workspace / VOC_SUBDIR / 'ImageSets' / 'Segmentation' /
           'val.txt').read_text().split()
    assert sorted(p.stem for p in out.glob('*.png')) == sorted(val)

    result = run_tool([
        str(MMSEG_TOOLS / 'analysis_tools' / 'confusion_matrix.py'),
        str(DEMO_CONFIG),
        str(out),
        str(workspace / 'matrix')
    ], cwd=workspace, env=dict(ONE_THREAD, MPLBACKEND='Agg'))
    assert result.returncode == 0, result.stderr[-3000:]
    assert (workspace / 'matrix' / 'confusion_matrix.png').stat().st_size


def test_mmseg_benchmark_py_on_the_demo_config(tmp_path, demo_checkpoint):
    """mmseg's benchmark times images 6 to 200 of the test set."""
    from mmseg_gcn.datasets.synthetic import generate_voc_aug
    generate_voc_aug(tmp_path / 'data' / 'demo', num_train=1, num_aug=1,
                     num_val=200, min_side=48, max_side=48, seed=0)
    work = tmp_path / 'work'
    result = run_tool([
        str(MMSEG_TOOLS / 'analysis_tools' / 'benchmark.py'),
        str(DEMO_CONFIG),
        str(demo_checkpoint), '--work-dir',
        str(work), '--log-interval', '100'
    ], cwd=tmp_path, env=ONE_THREAD)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'Overall fps' in result.stdout
    (report, ) = work.glob('fps_*.json')
    assert json.loads(report.read_text())['average_fps'] > 0


def test_get_flops_counts_the_paper_model(tmp_path):
    result = run_tool([
        str(TOOLS / 'get_flops.py'),
        str(REPO / 'configs' / 'gcn' / 'gcn_r152_voc.py'), '--shape', '512'
    ], cwd=tmp_path, env=ONE_THREAD)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert 'Input shape: (512, 512)\nFlops: 68.594G\nParams: 60.69M\n' in (
        result.stdout)


def test_get_flops_takes_height_and_width_and_cfg_options(tmp_path):
    result = run_tool([
        str(TOOLS / 'get_flops.py'),
        str(DEMO_CONFIG), '--shape', '96', '128', '--cfg-options',
        'model.decode_head.num_classes=5'
    ], cwd=tmp_path, env=ONE_THREAD)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert 'Input shape: (96, 128)\n' in result.stdout
    assert 'Flops: 0.465G\nParams: 11.232M\n' in result.stdout


def test_get_flops_refuses_a_misspelt_option_and_a_bad_shape(tmp_path):
    result = run_tool([
        str(TOOLS / 'get_flops.py'),
        str(DEMO_CONFIG), '--shape', '96', '--cfg-options',
        'model.decode_head.num_clases=5'
    ], cwd=tmp_path, env=ONE_THREAD)
    assert result.returncode == 1
    assert 'num_clases' in result.stderr and 'Traceback' not in result.stderr
    result = run_tool(
        [str(TOOLS / 'get_flops.py'),
         str(DEMO_CONFIG), '--shape', '1', '2', '3'],
        cwd=tmp_path)
    assert result.returncode == 2
    assert '--shape takes one size (a square) or two (H W)' in result.stderr


def test_browse_dataset_writes_every_training_sample(workspace: Path):
    out = workspace / 'browse'
    result = run_tool([
        str(TOOLS / 'browse_dataset.py'),
        str(DEMO_CONFIG), '--not-show', '--output-dir',
        str(out)
    ], cwd=workspace, env=ONE_THREAD)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    split_dir = workspace / VOC_SUBDIR / 'ImageSets' / 'Segmentation'
    names = {
        f'{line}.jpg'
        for split in ('train.txt', 'aug.txt')
        for line in (split_dir / split).read_text().split()
    }
    assert len(names) == 12
    assert {p.name for p in out.iterdir()} == names
    for path in out.iterdir():
        image = np.asarray(Image.open(path))
        # the training pipeline crops (and pads) to the 96 x 96 crop size
        assert image.shape == (96, 96, 3)
