"""Every config under configs/ loads and builds its model, and is at most
three bases deep (each base ours or mmseg's; ours inherit only mmseg's); the
ablation configs build the heads the paper's tables count; the Cityscapes test
places the paper's four windows; data roots are the README's."""
import ast
import functools
import re
from pathlib import Path

import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope

import mmseg_gcn  # noqa: F401  (registers the components)
from mmseg_gcn.datasets import leaf_datasets
from mmseg_gcn.engine.stages import load_schedule
from mmseg_gcn.paper_numbers import (TABLE2_CONV_PARAMS, TABLE2_GCN_PARAMS,
                                     TABLE4_STACK_PARAMS)

CONFIG_ROOT = REPO / 'configs'
CONFIGS = sorted(p for p in CONFIG_ROOT.rglob('*.py')
                 if '_base_' not in p.relative_to(CONFIG_ROOT).parts)
ABLATIONS = CONFIG_ROOT / 'gcn' / 'ablations'
ABLATION_SUFFIX = '_r152-d32_1xb1-640k_voc12aug-512x512.py'

# Weights of the res-5 classifier (2048 -> 21), Tables 2 and 4, exact.
PAPER_CLASSIFIER_PARAMS = {
    **{f'gcn-res5-k{k}': n for k, n in TABLE2_GCN_PARAMS.items()},
    **{f'conv-res5-k{k}': n for k, n in TABLE2_CONV_PARAMS.items()},
    'stack-res5-k7': TABLE4_STACK_PARAMS[2048],
    'stack-res5-k7-m1024': TABLE4_STACK_PARAMS[1024],
    'stack-res5-k7-m210': TABLE4_STACK_PARAMS[210],
}


@pytest.fixture(autouse=True, scope='module')
def cached_base_lookup():
    """Remembers where ``mmseg::``/``mmpretrain::`` bases are: mmengine finds
    each by reading all ~160 metafiles of the package, every time."""
    original = Config._get_cfg_path
    Config._get_cfg_path = staticmethod(
        functools.lru_cache(maxsize=None)(original))
    yield
    Config._get_cfg_path = staticmethod(original)


def build_model(cfg: Config) -> torch.nn.Module:
    """Builds a config's model in its registry scope, on the meta device:
    every module is constructed, no memory is allocated and no weights are
    loaded (``init_weights`` is not called)."""
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmseg')), torch.device('meta'):
        return MODELS.build(cfg.model)


def base_files(path: Path) -> list:
    """The files ``path`` names in ``_base_`` (read, not executed): ours by
    their relative path, ``mmseg::``/``mmpretrain::`` ones in the installed
    package."""
    bases = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(
                getattr(t, 'id', None) == '_base_' for t in node.targets):
            names = ast.literal_eval(node.value)
            for name in [names] if isinstance(names, str) else names:
                bases.append(external_config(name) if '::' in name
                             else (path.parent / name).resolve())
    return bases


@functools.lru_cache(maxsize=None)
def external_config(name: str) -> Path:
    """The file of a ``package::path`` base, found as mmengine finds it."""
    return Path(Config._get_cfg_path(name, '')[0]).resolve()


def inheritance_depth(path: Path) -> int:
    """``_base_`` steps on the longest chain from ``path`` to a config with
    no bases (0: ``path`` has none). mmseg's own bases count: a reader opens
    them too (mmseg's PSPNet configs are 1 to 3 deep)."""
    return max((1 + inheritance_depth(base) for base in base_files(path)),
               default=0)


def inherited_files(path: Path) -> set:
    """Every file ``path`` inherits, directly or through its bases."""
    found = set()
    for base in base_files(path):
        found |= {base} | inherited_files(base)
    return found


def readme_datasets_section() -> str:
    text = (REPO / 'README.md').read_text()
    return text[text.index('\n## Datasets'):text.index('\n## Tests')]


def test_every_file_under_configs_is_a_config_or_a_used_base():
    """Each file under configs/ is tested below as a config, or is a base
    that one of them inherits: no dead base."""
    used = set().union(*(inherited_files(path) for path in CONFIGS))
    files = {p.resolve() for p in CONFIG_ROOT.rglob('*.py')}
    assert files - used - {p.resolve() for p in CONFIGS} == set()
    # the name users type
    assert CONFIG_ROOT / 'gcn' / 'gcn_r152_voc.py' in CONFIGS


def test_configs_are_at_most_three_bases_deep():
    """As mmseg's: a config built from a model, a dataset and a schedule base
    is 2 deep, a variant of one such config 3."""
    depths = {str(path.relative_to(CONFIG_ROOT)): inheritance_depth(path)
              for path in CONFIGS}
    assert {name: d for name, d in depths.items() if d > 3} == {}
    assert inheritance_depth(CONFIG_ROOT / 'gcn' / 'gcn_r152_voc.py') == 2


def test_our_bases_override_at_most_one_primitive_base_of_ours():
    """A base of ours is read whole with mmseg's bases it names, or is a
    small override of one primitive base of ours (the other models of the
    ResNet-152 one, the long schedules of the 40k one, the demo's 1.2k of
    its 1k), which itself inherits none of ours."""
    ours = sorted((CONFIG_ROOT / '_base_').rglob('*.py'))
    assert ours

    def our_bases(path):
        return [b for b in base_files(path) if CONFIG_ROOT.resolve() in b.parents]

    overrides = {}
    for base in ours:
        parents = our_bases(base)
        assert len(parents) <= 1, base
        if parents:
            assert our_bases(parents[0]) == [], base
            overrides[base.name] = parents[0].name
    assert overrides == {
        'gcn_r18-s8_res3.py': 'gcn_r152.py',
        'gcn_r18.py': 'gcn_r152.py',
        'gcn_r50.py': 'gcn_r152.py',
        'gcn_resnet50-gcn.py': 'gcn_r152.py',
        'schedule_demo_sgd-m0.9_1.2k.py': 'schedule_demo_sgd-m0.9_1k.py',
        'schedule_sgd-m0.99_160k.py': 'schedule_sgd-m0.99_40k.py',
        'schedule_sgd-m0.99_320k.py': 'schedule_sgd-m0.99_40k.py',
        'schedule_sgd-m0.99_640k.py': 'schedule_sgd-m0.99_40k.py',
    }


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[str(p.relative_to(CONFIG_ROOT)) for p in CONFIGS])
def test_config_loads_and_builds_its_model(path: Path):
    cfg = Config.fromfile(path)
    if 'stages' in cfg:  # a schedule: its stage configs are tested too
        stages = load_schedule(str(path))
        assert len(stages) >= 2
        for stage in stages:
            assert Path(stage.config) in CONFIGS
        return
    assert 'mmseg_gcn' in cfg.custom_imports['imports']
    model = build_model(cfg)
    assert sum(p.numel() for p in model.parameters()) > 0
    # data in the layouts README's "Datasets" prepares
    documented = re.findall(r'`(data/[^`{ ]*)', readme_datasets_section())
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for dataset in leaf_datasets(cfg[key]['dataset']):
            root = dataset['data_root'].rstrip('/')
            assert any(root == d.rstrip('/') or (
                d.endswith('/') and root.startswith(d)) for d in documented), root


@pytest.mark.parametrize('name,expected',
                         sorted(PAPER_CLASSIFIER_PARAMS.items()))
def test_ablation_heads_have_the_papers_parameter_counts(name, expected):
    cfg = Config.fromfile(ABLATIONS / f'{name}{ABLATION_SUFFIX}')
    head = build_model(cfg).decode_head
    assert len(head.classifiers) == 1  # res-5 only
    weights = sum(p.numel() for n, p in head.classifiers.named_parameters()
                  if n.endswith('weight'))
    assert weights == expected


@pytest.mark.slow
def test_ablations_cover_the_papers_tables():
    names = {p.name[:-len(ABLATION_SUFFIX)] for p in ABLATIONS.glob(
        f'*{ABLATION_SUFFIX}')}
    expected = ({f'gcn-res5-k{k}' for k in (3, 5, 7, 9, 11, 13, 15)}
                | {f'conv-res5-k{k}' for k in (3, 5, 7, 9)}
                | {f'stack-res5-k{k}' for k in (3, 5, 7, 9, 11)}
                | {'stack-res5-k7-m1024', 'stack-res5-k7-m210'}
                | {'base-res5', 'gcn-res5-k15-br'})
    assert names == expected
    for name in names:
        head = Config.fromfile(ABLATIONS / f'{name}{ABLATION_SUFFIX}'
                               ).model.decode_head
        assert head.in_index == (3, ) and head.in_channels == (2048, )
        assert head.use_br == name.endswith('-br')
    table6 = {p.name for p in ABLATIONS.glob('*_r50-*.py')}
    assert table6 == {f'{h}_{b}_1xb1-640k_voc12aug-512x512.py'
                      for h in ('base-res5', 'gcn-res5-k15-br')
                      for b in ('r50-d32', 'r50-gcn-d32')}


def test_cityscapes_test_places_four_windows():
    """mmseg's slide inference with the config's test_cfg covers a
    1024 x 2048 image with exactly four 1024 x 1024 windows."""
    cfg = Config.fromfile(CONFIG_ROOT / 'gcn' /
                          'gcn_r152-d32_1xb1-160k_cityscapes-800x800-ft.py')
    model = build_model(cfg)
    windows = []

    def encode_decode(crop, metas):
        # the image holds each pixel's column: the crop's first is its x
        windows.append((int(crop[0, 0, 0, 0]), tuple(crop.shape[-2:])))
        return crop.new_zeros((1, model.out_channels, *crop.shape[-2:]))

    model.encode_decode = encode_decode
    image = torch.arange(2048.).expand(1, 3, 1024, 2048)
    logits = model.slide_inference(image, [dict(img_shape=(1024, 2048))])
    assert windows == [(x, (1024, 1024)) for x in (0, 342, 684, 1024)]
    assert logits.shape == (1, 19, 1024, 2048)


def test_ms_flip_test_configs_wrap_the_trained_model():
    for name in ('gcn_r152-d32_cityscapes-2stage_test-ms-flip.py',
                 'gcn_r152-d32_voc12-3stage_test-ms-flip.py'):
        cfg = Config.fromfile(CONFIG_ROOT / 'gcn' / name)
        assert cfg.model.type == 'SegTTAModel'
        assert cfg.model.module.type == 'EncoderDecoder'
        transforms = cfg.test_dataloader.dataset.pipeline[1]['transforms']
        assert len(transforms[0]) == 6 and len(transforms[1]) == 2
        # one branch each: the label is loaded, then checked, once per view
        assert [[t['type'] for t in group] for group in transforms[2:]] == [
            ['LoadAnnotations'], ['CheckSegMap'], ['PackSegInputs']]
        # validation during training is untouched (mmseg's loading names)
        assert cfg.val_dataloader.dataset.pipeline[0]['type'] == \
            'LoadImageFromFile'
        assert 'transforms' not in cfg.val_dataloader.dataset.pipeline[1]


@pytest.mark.parametrize('config', CONFIGS, ids=str)
def test_every_gcn_model_runs_its_head_channels_last(config):
    # the speed switch (same maths) is on wherever the package builds GCNHead
    cfg = Config.fromfile(str(config))
    if 'stages' in cfg:  # a schedule: its stage configs are checked
        return
    if 'resnet50_gcn' in str(config):  # ImageNet pre-training: no head
        assert 'decode_head' not in cfg.model
        return
    model = cfg.model.module if cfg.model.type == 'SegTTAModel' else cfg.model
    head = model.decode_head
    assert head.type == 'GCNHead' and head.channels_last is True
