"""tools/infer.py and mmseg_gcn.apis: overlays and masks for images of any
size, and clear errors for bad inputs."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import REPO, run_tool
from PIL import Image

from mmseg_gcn.apis import (CheckpointMismatchError, UnreadableImageError,
                            find_images, infer_images)
from mmseg_gcn.apis.inference import UnsupportedImageSizeError
from mmseg_gcn.engine.head_channels import HeadChannelsError

INFER = str(REPO / 'tools' / 'infer.py')
DEMO_CONFIGS = REPO / 'configs' / 'demo'
GCN_CONFIG = DEMO_CONFIGS / 'gcn_r18-d32_1xb8-1k_demo-voc12aug-96x96.py'
BASELINE_CONFIG = (
    DEMO_CONFIGS / 'gcn-1x1-baseline_r18-d32_1xb8-1k_demo-voc12aug-96x96.py')
# (height, width): odd, unlike each other and unlike the 96 px crops, and
# the smallest image there is (mmseg's visualizer fails on it)
ODD_SIZES = {'tall.png': (203, 61), 'wide.jpg': (75, 331), 'dot.png': (1, 1)}


def _save_checkpoint(config: Path, path: Path) -> Path:
    """Saves an (untrained) model of ``config`` as a Runner would."""
    from mmengine.config import Config
    from mmseg.datasets import PascalVOCDataset
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules

    register_all_modules()
    model = MODELS.build(Config.fromfile(config).model)
    model.init_weights()
    meta = dict(dataset_meta=dict(
        classes=list(PascalVOCDataset.METAINFO['classes']),
        palette=[list(c) for c in PascalVOCDataset.METAINFO['palette']]))
    torch.save(dict(state_dict=model.state_dict(), meta=meta), path)
    return path


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory) -> Path:
    """A checkpoint of the demo GCN model."""
    return _save_checkpoint(GCN_CONFIG,
                            tmp_path_factory.mktemp('ckpt') / 'gcn.pth')


@pytest.fixture
def images(tmp_path: Path) -> Path:
    """A folder with two images of odd sizes and a non-image file."""
    folder = tmp_path / 'images'
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, (height, width) in ODD_SIZES.items():
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        assert cv2.imwrite(str(folder / name), image)
    (folder / 'notes.txt').write_text('not an image')
    return folder


@pytest.mark.slow
def test_cli_writes_overlays_and_masks_of_the_input_sizes(
        checkpoint, images, tmp_path):
    out = tmp_path / 'out'
    result = run_tool([INFER, str(GCN_CONFIG), str(checkpoint), str(images),
                       '--out', str(out), '--device', 'cpu'], cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert 'Segmented 3 image(s)' in result.stdout
    for name, size in ODD_SIZES.items():
        stem = Path(name).stem
        mask = Image.open(out / 'pred' / f'{stem}.png')
        assert mask.mode == 'P'  # class indices, shown in the VOC colours
        assert np.array(mask).shape == size
        assert np.array(mask).max() < 21
        overlay = cv2.imread(str(out / 'vis' / f'{stem}.png'))
        assert overlay.shape == (*size, 3)
    assert sorted(p.name for p in (out / 'pred').iterdir()) == [
        'dot.png', 'tall.png', 'wide.png'
    ]


@pytest.mark.slow
def test_single_image_file(checkpoint, images, tmp_path):
    results = infer_images(GCN_CONFIG, checkpoint, images / 'wide.jpg',
                           tmp_path / 'out', device='cpu')
    assert [r.shape for r in results] == [ODD_SIZES['wide.jpg']]
    assert Path(results[0].mask).is_file()


@pytest.mark.slow
@pytest.mark.parametrize('missing', ['config', 'checkpoint', 'inputs'])
def test_cli_names_a_missing_path(missing, checkpoint, images, tmp_path):
    paths = dict(config=str(GCN_CONFIG), checkpoint=str(checkpoint),
                 inputs=str(images))
    paths[missing] = str(tmp_path / f'no_such_{missing}')
    result = run_tool([INFER, paths['config'], paths['checkpoint'],
                       paths['inputs'], '--out', str(tmp_path / 'out')],
                      cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith('error: ')
    assert f'no_such_{missing}' in result.stderr
    assert 'does not exist' in result.stderr
    assert 'Traceback' not in result.stderr


@pytest.mark.slow
def test_unreadable_image_is_named_before_the_model_is_built(
        checkpoint, images, tmp_path):
    (images / 'broken.jpg').write_bytes(b'\xff\xd8 this is no JPEG')
    with pytest.raises(UnreadableImageError, match='broken.jpg'):
        infer_images(GCN_CONFIG, checkpoint, images, tmp_path / 'out')
    assert not (tmp_path / 'out').exists()


def test_folder_without_images(checkpoint, tmp_path):
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='holds no images'):
        find_images(tmp_path / 'empty')


@pytest.mark.slow
def test_checkpoint_of_another_model_is_refused(images, tmp_path):
    baseline = _save_checkpoint(BASELINE_CONFIG, tmp_path / 'baseline.pth')
    with pytest.raises(CheckpointMismatchError, match='does not fit'):
        infer_images(GCN_CONFIG, baseline, images, tmp_path / 'out',
                     device='cpu')


@pytest.mark.slow
def test_image_the_test_resize_would_make_0_px_thin_is_refused_first(
        checkpoint, images, tmp_path):
    """The demo config resizes to fit (512, 128), keeping the aspect ratio:
    1x1024 px becomes 1x512, 1x1025 px 0x512 (an OpenCV error, before)."""
    cv2.imwrite(str(images / 'line.png'), np.zeros((1, 1024, 3), np.uint8))
    cv2.imwrite(str(images / 'thread.png'), np.zeros((1, 1025, 3), np.uint8))
    with pytest.raises(UnsupportedImageSizeError) as error:
        infer_images(GCN_CONFIG, checkpoint, images, tmp_path / 'out')
    message = str(error.value)
    assert 'thread.png' in message and '1025x1 px' in message
    assert 'at most about 1024 times the short side' in message
    assert not (tmp_path / 'out').exists()  # nothing segmented yet
    (images / 'thread.png').unlink()
    results = infer_images(GCN_CONFIG, checkpoint, images / 'line.png',
                           tmp_path / 'out', device='cpu')
    assert results[0].shape == (1, 1024)


def test_head_channels_are_checked_before_the_model_is_built(
        checkpoint, images, tmp_path):
    config = tmp_path / 'wrong_channels.py'
    config.write_text(
        f'_base_ = [{str(GCN_CONFIG)!r}]\n'
        'model = dict(decode_head=dict(in_channels=(64, 128, 256, 256)))\n')
    with pytest.raises(HeadChannelsError,
                       match=r'have \(64, 128, 256, 512\) channels'):
        infer_images(config, checkpoint, images, tmp_path / 'out')
