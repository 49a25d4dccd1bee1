"""Bad data gets a clear error that names the file, early."""
import cv2
import numpy as np
import pytest
from conftest import REPO, TINY_CONFIG, VOC_SUBDIR, run_tool
from mmengine.config import Config
from mmseg.registry import DATASETS

from mmseg_gcn.datasets import UnreadableFileError


def _val_dataset(workspace, monkeypatch):
    monkeypatch.chdir(workspace)
    cfg = Config.fromfile(TINY_CONFIG)
    return DATASETS.build(cfg.val_dataloader.dataset)


def _train_dataset(workspace, monkeypatch):
    """The first of the training datasets (VOC train, of VOC + aug)."""
    monkeypatch.chdir(workspace)
    cfg = Config.fromfile(TINY_CONFIG)
    # (the val dataset comes from an mmseg:: base, which gives it the scope)
    return DATASETS.build(
        dict(cfg.train_dataloader.dataset.datasets[0], _scope_='mmseg'))


@pytest.mark.slow
def test_missing_data_root_is_named_before_training(tmp_path):
    result = run_tool([str(REPO / 'tools' / 'train.py'), str(TINY_CONFIG),
                       '--work-dir', str(tmp_path / 'work')], cwd=tmp_path)
    assert result.returncode != 0
    assert f"'{VOC_SUBDIR}'" in result.stderr
    assert 'does not exist' in result.stderr
    assert 'generate_demo_data.py' in result.stderr
    assert not (tmp_path / 'work').exists() or not any(
        (tmp_path / 'work').glob('*.pth'))


def test_unreadable_image_is_named(workspace, monkeypatch):
    """In training; test pipelines load with mmseg's own LoadImageFromFile,
    which mmseg's inference APIs look for by name."""
    dataset = _train_dataset(workspace, monkeypatch)
    image_path = dataset.get_data_info(0)['img_path']
    with open(image_path, 'wb') as f:
        f.write(b'this is not a JPEG')
    with pytest.raises(UnreadableFileError, match=image_path):
        dataset[0]


def test_unreadable_label_is_named(workspace, monkeypatch):
    dataset = _train_dataset(workspace, monkeypatch)
    label_path = dataset.get_data_info(1)['seg_map_path']
    with open(label_path, 'wb') as f:
        f.write(b'\x89PNG broken')
    with pytest.raises(UnreadableFileError, match=label_path):
        dataset[1]


def test_label_out_of_class_range_is_named(workspace, monkeypatch):
    dataset = _val_dataset(workspace, monkeypatch)
    info = dataset.get_data_info(2)
    label_path = info['seg_map_path']
    label = np.zeros(cv2.imread(info['img_path']).shape[:2], np.uint8)
    label[5:10, 5:10] = 30  # VOC has 21 classes: 0..20, and 255
    cv2.imwrite(label_path, label)
    with pytest.raises(ValueError, match=r'label values \[30\]') as error:
        dataset[2]
    assert label_path in str(error.value)


def test_colour_label_is_rejected(workspace, monkeypatch):
    dataset = _val_dataset(workspace, monkeypatch)
    label_path = dataset.get_data_info(3)['seg_map_path']
    cv2.imwrite(label_path, np.zeros((20, 30, 3), np.uint8))
    with pytest.raises(ValueError, match='one class index per pixel'):
        dataset[3]


def test_empty_image_file_is_named(workspace, monkeypatch):
    """OpenCV raises its own cv2.error (no file name) on zero bytes."""
    dataset = _train_dataset(workspace, monkeypatch)
    image_path = dataset.get_data_info(0)['img_path']
    assert image_path.endswith('.jpg')
    open(image_path, 'wb').close()
    with pytest.raises(UnreadableFileError, match='is empty') as error:
        dataset[0]
    assert image_path in str(error.value)


@pytest.mark.slow
@pytest.mark.parametrize('split', ['train', 'val'])
def test_label_of_another_size_than_its_image_is_refused(
        split, workspace, monkeypatch):
    """The train pipeline loads the label right after the image, the val
    pipeline after a Resize: both compare with the image as loaded."""
    dataset = (_train_dataset if split == 'train' else _val_dataset)(
        workspace, monkeypatch)
    dataset[0]  # the generated pairs match, also after the val Resize
    info = dataset.get_data_info(0)
    height, width = cv2.imread(info['img_path']).shape[:2]
    label = np.zeros((height - 14, width + 31), np.uint8)  # valid classes
    label[:10, :10] = 1
    cv2.imwrite(info['seg_map_path'], label)
    with pytest.raises(ValueError) as error:
        dataset[0]
    message = str(error.value)
    assert info['seg_map_path'] in message and info['img_path'] in message
    assert f'is {height - 14}x{width + 31} pixels' in message
    assert f'is {height}x{width}:' in message


@pytest.mark.slow
def test_test_tool_reports_a_missing_checkpoint_in_one_line(tmp_path,
                                                            demo_data):
    missing = tmp_path / 'nope.pth'
    result = run_tool([str(REPO / 'tools' / 'test.py'), str(TINY_CONFIG),
                       str(missing), '--work-dir', str(tmp_path / 'work')],
                      cwd=demo_data)
    assert result.returncode == 1
    assert f"error: Checkpoint '{missing}' does not exist." in result.stderr
    assert 'Traceback' not in result.stderr


def test_check_seg_map_passes_inference_and_refuses_a_bad_class_count():
    """Without a label (inference, where mmseg drops LoadAnnotations) the
    step changes nothing; a class count that is not an integer >= 1 is
    refused when the pipeline is built, naming the step."""
    from mmseg_gcn.datasets import CheckSegMap
    results = dict(img=np.zeros((4, 5, 3), np.uint8), ori_shape=(4, 5))
    assert CheckSegMap(num_classes=21)(dict(results)).keys() == results.keys()
    for bad in (0, True, 2.0):
        with pytest.raises(ValueError,
                           match='CheckSegMap: num_classes must be an '
                           r'integer >= 1, got'):
            CheckSegMap(num_classes=bad)
