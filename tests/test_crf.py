"""Dense CRF post-processing (the optional ``crf`` extra)."""
import sys
import textwrap

import mmcv
import numpy as np
import pytest
import torch
from conftest import REPO, TINY_CONFIG, VOC_SUBDIR, run_tool
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmseg_gcn  # noqa: F401
from mmseg_gcn.models.segmentors import dense_crf as crf_module
from mmseg_gcn.models.segmentors.dense_crf import (DenseCRF,
                                                   MissingCRFExtraError,
                                                   add_crf_to_config,
                                                   crf_available)

needs_crf = pytest.mark.skipif(
    not crf_available(),
    reason='the optional crf extra is not installed (pip install -e .[crf])')


@pytest.fixture
def without_extra(monkeypatch):
    """Makes ``import pydensecrf`` fail, as when the extra is missing."""
    monkeypatch.setitem(sys.modules, 'pydensecrf', None)
    monkeypatch.setitem(sys.modules, 'pydensecrf.densecrf', None)


def test_missing_extra_has_a_clear_message(without_extra):
    assert not crf_available()
    for use in (DenseCRF, lambda: add_crf_to_config(Config()), lambda: MODELS.
                build(dict(type='DenseCRFSegmentor', module=dict()))):
        with pytest.raises(
                MissingCRFExtraError, match=r'pip install -e "\.\[crf\]"'):
            use()


def test_add_crf_to_config(monkeypatch):
    monkeypatch.setattr(crf_module, 'import_densecrf', lambda: None)
    model = dict(type='EncoderDecoder', backbone=dict(type='ResNet'))
    cfg = add_crf_to_config(Config(dict(model=model)))
    assert cfg.model.type == 'DenseCRFSegmentor'
    assert cfg.model.module == model and cfg.model.crf == {}
    # a TTA wrapper is replaced: the CRF wrapper merges the views itself
    cfg = Config(
        dict(
            model=dict(type='SegTTAModel', module=model),
            crf_cfg=dict(iterations=3)))
    add_crf_to_config(cfg)
    assert cfg.model.module == model and cfg.model.crf == dict(iterations=3)
    add_crf_to_config(cfg, dict(iterations=1))  # idempotent
    assert cfg.model.module == model and cfg.model.crf == dict(iterations=1)


def two_region_problem(seed: int = 0):
    """A black | white image whose class probabilities are right only 70 %
    of the time, pixel by pixel."""
    rng = np.random.default_rng(seed)
    h, w = 24, 32
    image = np.zeros((h, w, 3), dtype=np.uint8)
    image[:, w // 2:] = 255
    truth = np.zeros((h, w), dtype=np.int64)
    truth[:, w // 2:] = 1
    noisy = np.where(rng.random((h, w)) < 0.3, 1 - truth, truth)
    probs = np.stack([noisy == 0, noisy == 1]).astype(np.float32) * 0.3 + 0.35
    return image, probs, truth


@needs_crf
def test_crf_cleans_noisy_probabilities():
    image, probs, truth = two_region_problem()
    before = (probs.argmax(0) == truth).mean()
    refined = DenseCRF(iterations=5, bilateral_sxy=10)(image, probs)
    assert refined.shape == probs.shape and refined.dtype == np.float32
    np.testing.assert_allclose(refined.sum(0), 1, atol=1e-4)
    after = (refined.argmax(0) == truth).mean()
    assert before < 0.8 and after > 0.95


@needs_crf
@pytest.mark.parametrize('kwargs, match', [
    (dict(iterations=0), 'iterations must be an integer >= 1'),
    (dict(bilateral_sxy=0), 'bilateral_sxy must be > 0'),
    (dict(gaussian_weight=-1), 'gaussian_weight must be >= 0'),
])
def test_crf_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DenseCRF(**kwargs)


@needs_crf
def test_crf_bad_inputs():
    image, probs, _ = two_region_problem()
    crf = DenseCRF()
    with pytest.raises(ValueError, match='C >= 2'):
        crf(image, probs[:1])
    with pytest.raises(ValueError, match='RGB image of the size'):
        crf(image[:5], probs)
    with pytest.raises(ValueError, match='uint8'):
        crf(image.astype(np.float32), probs)


def tiny_model_cfg() -> dict:
    return Config.fromfile(TINY_CONFIG).model


@needs_crf
def test_segmentor_merges_augmented_views_then_refines(demo_data):
    """A test-time-augmentation batch (two views of one image): the mean of
    the views' softmax is refined with the original image."""
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(
            dict(
                type='DenseCRFSegmentor',
                module=tiny_model_cfg(),
                crf=dict(iterations=2)))
    model.eval()
    path = sorted((demo_data / VOC_SUBDIR / 'JPEGImages').iterdir())[0]
    image = mmcv.imread(path)  # BGR, as the pipeline loads it
    h, w = image.shape[:2]
    tensor = torch.from_numpy(image.transpose(2, 0, 1).copy())
    views, samples = [], []
    for flip in (False, True):
        views.append([tensor.flip(-1) if flip else tensor])
        samples.append([
            SegDataSample(
                metainfo=dict(
                    img_path=str(path),
                    ori_shape=(h, w),
                    img_shape=(h, w),
                    pad_shape=(h, w),
                    flip=flip,
                    flip_direction='horizontal'))
        ])
    with torch.no_grad():
        out = model.test_step(dict(inputs=views, data_samples=samples))
        plain = [
            model.module.test_step(
                dict(inputs=v, data_samples=[s[0].clone()]))[0]
            for v, s in zip(views, samples)
        ]
    assert len(out) == 1
    pred = out[0].pred_sem_seg.data
    assert pred.shape == (1, h, w)
    mean = sum(p.seg_logits.data.softmax(0) for p in plain) / 2
    rgb = mmcv.bgr2rgb(image)
    expected = DenseCRF(iterations=2)(rgb, mean.numpy()).argmax(0)
    assert (pred[0].numpy() == expected).mean() > 0.999


@pytest.mark.slow
@needs_crf
def test_tools_test_with_crf_wrapper_in_the_config(tmp_path, demo_data,
                                                   trained_work_dir):
    """A config that wraps the model: the checkpoint of the plain model
    loads into it unchanged, and the test run evaluates refined masks."""
    config = tmp_path / 'crf.py'
    config.write_text(
        textwrap.dedent(f"""
        _base_ = [{str(TINY_CONFIG)!r}]
        custom_imports = dict(imports=['mmseg_gcn'],
                              allow_failed_imports=False)
        model = dict(_delete_=True, type='DenseCRFSegmentor',
                     module={{{{_base_.model}}}}, crf=dict(iterations=2))
    """).replace('{{{{', '{{').replace('}}}}', '}}'))
    result = run_tool([
        str(REPO / 'tools' / 'test.py'),
        str(config),
        str(trained_work_dir / 'iter_2.pth'), '--work-dir',
        str(tmp_path / 'work')
    ],
                      cwd=demo_data,
                      env={'OMP_NUM_THREADS': '1'})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert 'mIoU' in output
    assert 'missing keys' not in output and 'unexpected key' not in output
