"""mmseg's analysis tools that break on this stack, in tools/analysis/:
get_flops.py (mmseg issue #3241) and browse_dataset.py (mmseg issue #3405),
run as a user runs them."""
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, VOC_SUBDIR, run_tool
from PIL import Image

TOOLS = REPO / 'tools' / 'analysis'
ONE_THREAD = {'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'}
DEMO_CONFIG = (REPO / 'configs' / 'demo' /
               'gcn_r18-d32_1xb8-1k_demo-voc12aug-96x96.py')

pytestmark = pytest.mark.slow  # each test runs a tool in a new Python process


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
