"""Server submissions (``tools/test.py --format-only``): PASCAL VOC palette
PNGs in VOC's results tree; a data set without a server format and a
missing ``--out`` are refused in one line. (Cityscapes:
``tests/test_stages.py``, on the Cityscapes schedule.)"""
import numpy as np
import pytest
from conftest import REPO, TINY_CONFIG, run_tool
from mmengine.config import Config
from mmseg.datasets import PascalVOCDataset
from PIL import Image

import mmseg_gcn  # noqa: F401  (registers the components)
from mmseg_gcn.evaluation import use_submission_format

TEST = str(REPO / 'tools' / 'test.py')


@pytest.mark.slow
def test_format_only_writes_voc_palette_pngs_in_the_results_tree(
        trained_work_dir, demo_data, tmp_path):
    checkpoint = str(trained_work_dir / 'iter_2.pth')
    for name, extra in (('indices', []), ('server', ['--format-only'])):
        result = run_tool([TEST, str(TINY_CONFIG), checkpoint, '--out',
                           str(tmp_path / name), '--work-dir',
                           str(tmp_path / f'w{name}'), *extra],
                          cwd=demo_data)
        assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert 'per class results' not in log  # nothing scored
    assert 'VOC results written to' in log
    folder = (tmp_path / 'server' / 'results' / 'VOC2012' / 'Segmentation' /
              'comp6_test_cls')
    val = (demo_data / 'data' / 'demo' / 'VOCdevkit' / 'VOC2012' /
           'ImageSets' / 'Segmentation' / 'val.txt').read_text().split()
    assert sorted(p.stem for p in folder.glob('*.png')) == sorted(val)
    palette = [c for rgb in PascalVOCDataset.METAINFO['palette'] for c in rgb]
    for stem in val:
        image = Image.open(folder / f'{stem}.png')
        assert image.mode == 'P'
        assert image.getpalette()[:63] == palette  # VOC's 21 class colours
        assert image.getpalette()[765:768] == [224, 224, 192]  # void
        indices = np.array(Image.open(tmp_path / 'indices' / f'{stem}.png'))
        assert np.array_equal(np.array(image), indices)


def test_a_data_set_without_a_server_format_is_refused():
    cfg = Config.fromfile(TINY_CONFIG)
    cfg.test_dataloader.dataset.type = 'ADE20KDataset'
    with pytest.raises(ValueError, match="'ADE20KDataset'.*--out"):
        use_submission_format(cfg, 'out')


def test_format_only_without_out_is_one_line(tmp_path):
    result = run_tool([TEST, str(TINY_CONFIG), 'x.pth', '--format-only'],
                      cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        'error: --format-only needs --out DIR, the folder the server files '
        'go to.')


def test_the_official_cityscapes_evaluator_and_the_package_metric_agree(
        tmp_path):
    """On varied predictions (every class, 60 % right) of ground truth that
    also holds ignored label ids, ``cityscapesscripts``' own evaluator and
    mmseg's ``IoUMetric`` (the metric of the package's configs) give the same
    per-class IoU."""
    import torch
    from cityscapesscripts.helpers.labels import labels, trainId2label
    from mmseg.evaluation.metrics import IoUMetric

    from mmseg_gcn.evaluation import official_class_iou

    rng = np.random.default_rng(0)
    to_train = np.full(256, 255, np.uint8)
    to_label = np.zeros(256, np.uint8)
    for label in labels:
        if label.id >= 0 and not label.ignoreInEval:
            to_train[label.id] = label.trainId
            to_label[label.trainId] = label.id
    ids = [label.id for label in labels if label.id >= 0]
    ours = IoUMetric()
    predictions, ground_truths = [], []
    for i in range(3):
        gt = rng.choice(ids, size=(40, 60)).astype(np.uint8)
        right = (rng.random(gt.shape) < 0.6) & (to_train[gt] != 255)
        pred = np.where(right, to_train[gt],
                        rng.integers(0, 19, gt.shape)).astype(np.uint8)
        predictions.append(str(tmp_path / f'c_00000{i}_000019.png'))
        ground_truths.append(str(tmp_path /
                                 f'c_00000{i}_000019_gtFine_labelIds.png'))
        Image.fromarray(to_label[pred]).save(predictions[-1])
        Image.fromarray(gt).save(ground_truths[-1])
        ours.results.append(ours.intersect_and_union(
            torch.from_numpy(pred).long(),
            torch.from_numpy(to_train[gt]).long(), 19, 255))
    area = [sum(r[k] for r in ours.results) for k in range(4)]
    iou = (100 * area[0] / area[1]).numpy()
    official = official_class_iou(predictions, ground_truths)
    assert list(official) == [trainId2label[t].name for t in range(19)]
    for train_id, name in enumerate(official):
        assert 20 < iou[train_id] < 80  # varied, not all 0 or 100
        assert iou[train_id] == pytest.approx(official[name], abs=1e-4), name
    print('class IoU, package | official:', {
        name: (round(float(iou[t]), 3), round(official[name], 3))
        for t, name in enumerate(official)})


def test_official_evaluator_needs_one_ground_truth_per_prediction():
    from mmseg_gcn.evaluation import official_class_iou
    with pytest.raises(ValueError, match='2 predictions and 1'):
        official_class_iou(['a.png', 'b.png'], ['a_gtFine_labelIds.png'])


def test_a_typo_in_the_competition_is_refused_before_any_image(tmp_path):
    from mmseg_gcn.evaluation import VOCSubmissionMetric
    with pytest.raises(ValueError, match="'comp5' or 'comp6', got 'comp7'"):
        VOCSubmissionMetric(str(tmp_path), competition='comp7')
    assert not any(tmp_path.iterdir())
