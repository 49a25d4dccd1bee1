"""BoundaryAccuracyMetric (Table 5) on hand-made masks, answers by hand."""
import json
import textwrap

import numpy as np
import pytest
import torch
from conftest import REPO, TINY_CONFIG, run_tool
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData
from mmseg.registry import METRICS
from mmseg.structures import SegDataSample

import mmseg_gcn  # noqa: F401
from mmseg_gcn.evaluation import (BoundaryAccuracyMetric, boundary_band,
                                  label_boundaries)

V = 255  # void

# Sample 1: classes 0 | 1, split between columns 2 and 3. With the
# 8-neighbourhood, columns 2 and 3 are the boundary; width 1 adds columns 1
# and 4 to the band; columns 0 and 5 are the interior.
LABEL1 = [[0, 0, 0, 1, 1, 1]] * 4
PRED1 = [[0, 0, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 1, 0],
         [0, 0, 0, 1, 1, 0]]
# band (16 px): wrong (0, 2), (1, 2) -> 14 / 16; interior (8 px): wrong
# (2, 5), (3, 5) -> 6 / 8

# Sample 2: class 2 around a 2 x 2 void hole. The hole and its ring (columns
# 0-3) are the boundary, width 1 adds column 4; column 5 is the interior.
LABEL2 = [[2, 2, 2, 2, 2, 2], [2, V, V, 2, 2, 2], [2, V, V, 2, 2, 2],
          [2, 2, 2, 2, 2, 2]]
PRED2 = [[1, 2, 2, 2, 2, 2], [2, 0, 0, 2, 2, 2], [2, 0, 0, 2, 2, 2],
         [2, 2, 2, 2, 2, 0]]
# band: 20 px less 4 void = 16, wrong (0, 0) -> 15 / 16; interior (4 px):
# wrong (3, 5) -> 3 / 4. The void pixels' predictions are never scored.

# mIoU over both samples (void excluded), classes 0, 1, 2:
#   class 0: I = 10, U = 12 + 12 - 10 + 1 (sample 2's (3, 5)) = 15
#   class 1: I = 10, U = 12 + 12 - 10 + 1 (sample 2's (0, 0)) = 15
#   class 2: I = 18, U = 20
MIOU = 100 * (10 / 15 + 10 / 15 + 18 / 20) / 3  # 74.44


def sample(pred, label) -> SegDataSample:
    s = SegDataSample()
    s.pred_sem_seg = PixelData(data=torch.tensor([pred]))
    s.gt_sem_seg = PixelData(data=torch.tensor([label]))
    return s


def evaluate(metric, samples, classes=('a', 'b', 'c')) -> dict:
    evaluator = Evaluator(metric)
    evaluator.dataset_meta = dict(classes=classes)
    evaluator.process(samples)
    return evaluator.evaluate(len(samples))


def two_samples():
    return [sample(PRED1, LABEL1), sample(PRED2, LABEL2)]


def test_band_of_the_hand_made_masks():
    band1 = boundary_band(np.array(LABEL1), width=1)
    assert band1.tolist() == [[False, True, True, True, True, False]] * 4
    band2 = boundary_band(np.array(LABEL2), width=1)
    assert band2.tolist() == [[True] * 5 + [False]] * 4
    # the boundary itself: both sides of the edge
    assert label_boundaries(np.array(
        LABEL1)).tolist() == [[False, False, True, True, False, False]] * 4


def test_two_samples_by_hand():
    metric = BoundaryAccuracyMetric(width=1)
    results = evaluate(metric, two_samples())
    assert results['boundary/band_acc'] == pytest.approx(
        100 * 29 / 32, abs=0.01)
    assert results['boundary/internal_acc'] == pytest.approx(
        100 * 9 / 12, abs=0.01)
    assert results['boundary/mIoU'] == pytest.approx(MIOU, abs=0.01)
    assert results['boundary/band_fraction'] == pytest.approx(
        100 * 32 / 44, abs=0.01)


def test_one_sample_by_hand():
    results = evaluate(BoundaryAccuracyMetric(width=1), two_samples()[:1])
    assert results['boundary/band_acc'] == 87.5
    assert results['boundary/internal_acc'] == 75.0


def test_width_changes_the_band():
    # width 2: every pixel of sample 1 is within 2 px of columns 2-3
    results = evaluate(BoundaryAccuracyMetric(width=2), two_samples()[:1])
    assert results['boundary/band_acc'] == pytest.approx(
        100 * 20 / 24, abs=0.01)
    assert np.isnan(results['boundary/internal_acc'])
    assert results['boundary/band_fraction'] == 100.0
    # the default, the paper's 7 px
    assert BoundaryAccuracyMetric().width == 7


def test_void_is_never_scored():
    # changing the predictions on void pixels changes nothing
    pred2 = np.array(PRED2)
    pred2[np.array(LABEL2) == V] = 1
    a = evaluate(BoundaryAccuracyMetric(width=1), two_samples())
    b = evaluate(
        BoundaryAccuracyMetric(width=1),
        [sample(PRED1, LABEL1),
         sample(pred2.tolist(), LABEL2)])
    assert a == b


def test_void_edges_are_not_boundaries_on_request():
    # sample 2 has a single valid class, so no boundary at all: its 20
    # valid pixels are interior, 18 correct
    metric = BoundaryAccuracyMetric(width=1, void_is_boundary=False)
    results = evaluate(metric, two_samples())
    assert results['boundary/band_acc'] == pytest.approx(
        100 * 14 / 16, abs=0.01)
    assert results['boundary/internal_acc'] == pytest.approx(
        100 * (6 + 18) / (8 + 20), abs=0.01)
    assert not boundary_band(np.array(LABEL2), 1, void_is_boundary=False).any()


def test_euclidean_distance_and_connectivity():
    # one pixel of class 1 in the corner of a 5 x 5 image of class 0
    label = np.zeros((5, 5), dtype=np.uint8)
    label[0, 0] = 1
    # 8-neighbourhood: (1, 1) is a boundary pixel, sqrt(2) from (2, 2)
    assert not boundary_band(label, 1)[2, 2]
    assert boundary_band(label, 1.5)[2, 2]
    # 4-neighbourhood: the nearest boundary pixels (0, 1), (1, 0) are
    # sqrt(5) from (2, 2)
    assert label_boundaries(label, connectivity=4).sum() == 3
    assert not boundary_band(label, 2, connectivity=4)[2, 2]
    assert boundary_band(label, 2.3, connectivity=4)[2, 2]


def test_no_boundary_gives_nan_band_accuracy():
    label = [[1, 1], [1, 1]]
    results = evaluate(
        BoundaryAccuracyMetric(), [sample(label, label)], classes=('a', 'b'))
    assert np.isnan(results['boundary/band_acc'])
    assert results['boundary/internal_acc'] == 100.0
    assert results['boundary/mIoU'] == 100.0


def test_many_classes_and_miou_equals_iou_metric():
    rng = np.random.default_rng(0)
    num_classes = 40
    samples = []
    for _ in range(3):
        label = rng.integers(0, num_classes, (24, 31))
        label[rng.random(label.shape) < 0.1] = V
        pred = rng.integers(0, num_classes, (24, 31))
        samples.append(sample(pred.tolist(), label.tolist()))
    classes = tuple(str(i) for i in range(num_classes))
    evaluator = Evaluator([
        METRICS.build(dict(type='IoUMetric', iou_metrics=['mIoU'])),
        METRICS.build(dict(type='BoundaryAccuracyMetric', width=3))
    ])
    evaluator.dataset_meta = dict(classes=classes)
    evaluator.process(samples)
    results = evaluator.evaluate(len(samples))
    assert results['boundary/mIoU'] == results['mIoU']
    assert 0 <= results['boundary/band_acc'] <= 100


def test_num_classes_argument_without_dataset_meta():
    metric = BoundaryAccuracyMetric(width=1, num_classes=3)
    metric.process({}, [s.to_dict() for s in two_samples()])
    results = metric.compute_metrics(metric.results)
    assert results['mIoU'] == pytest.approx(MIOU, abs=0.01)


def test_counts_per_sample_add_up_across_ranks():
    """Distributed evaluation gathers every rank's per-image counts; the
    metric of the union equals the metric of the whole."""
    a = BoundaryAccuracyMetric(width=1, num_classes=3)
    b = BoundaryAccuracyMetric(width=1, num_classes=3)
    whole = BoundaryAccuracyMetric(width=1, num_classes=3)
    s1, s2 = [s.to_dict() for s in two_samples()]
    a.process({}, [s1])
    b.process({}, [s2])
    whole.process({}, [s1, s2])
    gathered = a.results + b.results  # what collect_results returns
    assert a.compute_metrics(gathered) == whole.compute_metrics(whole.results)


@pytest.mark.parametrize('kwargs, match', [
    (dict(width=0), 'width must be a number >= 1'),
    (dict(width=0.5), 'width must be a number >= 1'),
    (dict(width='7'), 'width must be a number >= 1'),
    (dict(connectivity=6), 'connectivity must be 4 or 8'),
    (dict(num_classes=0), 'num_classes must be an integer >= 1'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BoundaryAccuracyMetric(**kwargs)


def test_bad_inputs():
    metric = BoundaryAccuracyMetric()
    with pytest.raises(ValueError, match='needs the number of classes'):
        metric.process({}, [two_samples()[0].to_dict()])
    metric = BoundaryAccuracyMetric(num_classes=3)
    bad = sample([[0, 1]], [[0, 1], [1, 0]]).to_dict()
    with pytest.raises(ValueError, match='differ in size'):
        metric.process({}, [bad])
    with pytest.raises(ValueError, match='2-D'):
        boundary_band(np.zeros((2, 2, 2)))


@pytest.mark.slow
def test_in_an_mmseg_config_through_tools_test(tmp_path, demo_data,
                                               trained_work_dir):
    config = tmp_path / 'with_boundary.py'
    config.write_text(
        textwrap.dedent(f"""
        _base_ = [{str(TINY_CONFIG)!r}]
        custom_imports = dict(imports=['mmseg_gcn'],
                              allow_failed_imports=False)
        test_evaluator = [
            dict(type='IoUMetric', iou_metrics=['mIoU']),
            dict(type='BoundaryAccuracyMetric', width=7),
        ]
    """))
    work_dir = tmp_path / 'work'
    result = run_tool([
        str(REPO / 'tools' / 'test.py'),
        str(config),
        str(trained_work_dir / 'iter_2.pth'), '--work-dir',
        str(work_dir)
    ],
                      cwd=demo_data,
                      env={'OMP_NUM_THREADS': '1'})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    metrics_files = list(work_dir.rglob('*.json'))
    found = {}
    for path in metrics_files:
        try:
            found.update(json.loads(path.read_text()))
        except ValueError:
            continue
    for key in ('mIoU', 'boundary/mIoU', 'boundary/band_acc',
                'boundary/internal_acc'):
        assert key in found, (key, found)
    assert found['boundary/mIoU'] == pytest.approx(found['mIoU'], abs=0.01)
