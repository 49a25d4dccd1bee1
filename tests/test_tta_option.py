"""tools/test.py --tta wraps a model once, and refuses to wrap it twice."""
import pytest
from conftest import REPO
from mmengine.config import Config

from mmseg_gcn.engine import use_test_time_augmentation

GCN_CONFIGS = REPO / 'configs' / 'gcn'


def test_tta_wraps_the_model_and_uses_the_tta_pipeline():
    cfg = Config.fromfile(GCN_CONFIGS / 'gcn_r152_voc.py')
    model = cfg.model
    use_test_time_augmentation(cfg)
    assert cfg.model.type == 'SegTTAModel'
    assert cfg.model.module == model
    assert cfg.test_dataloader.dataset.pipeline == cfg.tta_pipeline


def test_tta_on_a_config_that_already_has_it_is_refused():
    cfg = Config.fromfile(GCN_CONFIGS /
                          'gcn_r152-d32_voc12-3stage_test-ms-flip.py')
    with pytest.raises(ValueError, match='run it without --tta'):
        use_test_time_augmentation(cfg)
