"""Config mistakes are refused before a run starts: --cfg-options keys the
config does not have, and heads that expect other channels than the
backbone gives."""
import argparse

import pytest
from conftest import REPO, TINY_CONFIG, run_tool
from mmengine.config import Config, DictAction

from mmseg_gcn.engine import load_run_config
from mmseg_gcn.engine.cfg_options import CfgOptionsError, merge_cfg_options
from mmseg_gcn.engine.head_channels import HeadChannelsError

R50_GCN = (REPO / 'configs' / 'gcn' /
           'gcn_r50-d32_1xb1-640k_voc12aug-512x512.py')


@pytest.mark.slow
def test_head_in_channels_not_matching_the_backbone_are_refused():
    """The GCN head on ResNet-18 channels, but a ResNet-50 backbone: torch
    only failed at the first forward, naming no config key."""
    with pytest.raises(HeadChannelsError) as error:
        load_run_config(str(R50_GCN), cfg_options={
            'model.decode_head.in_channels': (64, 128, 256, 512)})
    message = str(error.value)
    assert 'model.decode_head.in_channels is (64, 128, 256, 512)' in message
    assert 'have (256, 512, 1024, 2048) channels' in message
    assert 'model.decode_head.in_channels=[256,512,1024,2048]' in message


@pytest.mark.slow
def test_auxiliary_head_and_in_index_are_checked():
    """The tiny config's ResNet-18 gives (8, 16, 32, 64) channels."""
    head = dict(type='FCNHead', in_index=2, in_channels=32, channels=8,
                num_classes=21)
    load_run_config(str(TINY_CONFIG),
                    cfg_options={'+model.auxiliary_head': head})
    with pytest.raises(HeadChannelsError,
                       match='model.auxiliary_head.in_channels is 16'):
        load_run_config(str(TINY_CONFIG), cfg_options={
            '+model.auxiliary_head': dict(head, in_channels=16)})
    with pytest.raises(HeadChannelsError, match='gives only 4 outputs'):
        load_run_config(str(TINY_CONFIG),
                        cfg_options={'model.decode_head.in_index': 4})


@pytest.mark.slow
def test_misspelt_cfg_option_stops_train_py_before_training(
        demo_data, tmp_path):
    work_dir = tmp_path / 'work'
    result = run_tool([str(REPO / 'tools' / 'train.py'), str(TINY_CONFIG),
                       '--work-dir', str(work_dir), '--cfg-options',
                       'train_cfg.max_iters=1', 'train_cfg.max_iterss=1'],
                      cwd=demo_data)
    assert result.returncode != 0
    assert ('train_cfg.max_iterss is not in the config'
            in result.stderr), result.stderr[-3000:]
    assert 'Did you mean train_cfg.max_iters?' in result.stderr
    assert '+train_cfg.max_iterss=' in result.stderr  # how to add it
    assert not list(work_dir.rglob('*.pth'))


@pytest.mark.parametrize('key, closest', [
    ('randomnes.seed', 'randomness'),
    ('default_hooks.checkpoint.intervall', 'default_hooks.checkpoint.interval'),
    ('train_dataloader.dataset.datasets.0.data_rot',
     'train_dataloader.dataset.datasets.0.data_root'),
])
def test_unknown_key_names_the_closest(key, closest):
    with pytest.raises(CfgOptionsError, match=f'Did you mean {closest}?'):
        merge_cfg_options(Config.fromfile(TINY_CONFIG), {key: 1})


def _parse(*options: str) -> dict:
    """``--cfg-options`` as the tools parse them."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options', *options]).cfg_options


@pytest.mark.slow
def test_plus_adds_a_new_key_on_purpose():
    cfg = merge_cfg_options(Config.fromfile(TINY_CONFIG), _parse(
        '+model.new_key=1', '+notes.run.tag=try'))
    assert cfg.model.new_key == 1 and cfg.notes.run.tag == 'try'
    assert '+model' not in cfg
    # a sibling of a new key is not new on purpose
    with pytest.raises(CfgOptionsError, match=r"start it with '\+'"):
        merge_cfg_options(Config.fromfile(TINY_CONFIG), _parse(
            '+notes.run.tag=try', 'notes.run.tga=x'))


def test_valid_keys_beyond_the_config_and_their_limits():
    cfg = merge_cfg_options(Config.fromfile(TINY_CONFIG), _parse(
        # arguments of the class the dict builds, absent from the config
        'model.backbone.with_cp=True', 'train_cfg.val_begin=2',
        # fixed dicts mmengine reads, and Runner settings
        'train_dataloader.pin_memory=True', 'randomness.deterministic=True',
        'work_dir=elsewhere', 'crf_cfg.iterations=5',
        'train_dataloader.dataset.datasets.1.data_root=other'))
    assert cfg.train_dataloader.dataset.datasets[1].data_root == 'other'
    assert cfg.crf_cfg == dict(iterations=5)
    with pytest.raises(CfgOptionsError, match='crf_cfg.iterations?'):
        merge_cfg_options(cfg, {'crf_cfg.iteration': 5})
    with pytest.raises(CfgOptionsError, match='a list of 2 items'):
        merge_cfg_options(cfg, {'train_dataloader.dataset.datasets.2.x': 1})
    with pytest.raises(CfgOptionsError, match='not a dict or list'):
        merge_cfg_options(cfg, {'crop_size.0': 64})


def test_keys_below_a_replaced_dict_are_not_checked():
    options = {
        'model.decode_head': dict(_delete_=True, type='FCNHead',
                                  in_channels=64, channels=8, num_classes=21),
        'model.decode_head.in_index': 3,
    }
    cfg = merge_cfg_options(Config.fromfile(TINY_CONFIG), options)
    assert 'concat_input' not in cfg.model.decode_head
    assert cfg.model.decode_head.in_index == 3
    assert '_delete_' in options['model.decode_head']  # options untouched
