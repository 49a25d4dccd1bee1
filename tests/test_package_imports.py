"""``import mmseg_gcn`` registers the package's components and nothing more:
the tools' modules (synthetic data generators, analysis, figures) are
imported only where used."""
import json
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO

# each test starts a fresh interpreter that imports torch and mmseg
pytestmark = pytest.mark.slow

#: Modules (and their submodules) that ``import mmseg_gcn`` must not load.
TOOL_MODULES = ('mmseg_gcn.datasets.synthetic', 'mmseg_gcn.datasets.coco_to_voc',
                'mmseg_gcn.analysis', 'mmseg_gcn.visualization')


def _loaded_after(statement: str) -> dict:
    """Runs ``statement`` in a fresh interpreter; returns the ``mmseg_gcn``
    modules it loaded and the module that registers ``DenseCRFSegmentor``."""
    probe = textwrap.dedent(f"""
        import json, sys
        {statement}
        from mmseg.registry import MODELS
        crf = MODELS.get('DenseCRFSegmentor')
        print(json.dumps(dict(
            modules=sorted(m for m in sys.modules if m.startswith('mmseg_gcn')),
            crf=crf and crf.__module__)))
    """)
    result = subprocess.run([sys.executable, '-c', probe], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _tool_modules(modules) -> list:
    return [m for m in modules
            if any(m == t or m.startswith(t + '.') for t in TOOL_MODULES)]


def test_import_mmseg_gcn_leaves_the_generators_unimported():
    loaded = _loaded_after('import mmseg_gcn')
    assert _tool_modules(loaded['modules']) == []
    # the dense CRF wrapper is a segmentor, registered with the models
    assert loaded['crf'] == 'mmseg_gcn.models.segmentors.dense_crf'


def test_the_generators_load_where_used():
    loaded = _loaded_after('from mmseg_gcn.datasets.synthetic import generate_voc_aug')
    assert _tool_modules(loaded['modules']) == [
        'mmseg_gcn.datasets.synthetic', 'mmseg_gcn.datasets.synthetic.cityscapes',
        'mmseg_gcn.datasets.synthetic.context',
        'mmseg_gcn.datasets.synthetic.dataset_root',
        'mmseg_gcn.datasets.synthetic.drawing', 'mmseg_gcn.datasets.synthetic.sampling',
        'mmseg_gcn.datasets.synthetic.voc'
    ]


_SIDE_EFFECTS = textwrap.dedent("""
    import json
    import torch
    import mmengine.runner.checkpoint as ckpt
    # what the package's dependencies allow-list themselves (torch's DTensor)
    import mmpretrain.models, mmseg.datasets, mmseg.evaluation, mmseg.models
    names = lambda: sorted(map(repr, torch.serialization.get_safe_globals()))
    before, schemes = names(), dict(ckpt.CheckpointLoader._schemes)
    load_url = ckpt.load_url
    import mmseg_gcn
    local = ckpt.CheckpointLoader._get_checkpoint_loader('/x.pth')
    print(json.dumps(dict(
        before=before, after=names(), local=local.__module__,
        # mmengine's loaders where they were, or which ones were replaced
        kept=sorted(prefix for prefix, loader in schemes.items()
                    if ckpt.CheckpointLoader._schemes[prefix] is loader),
        wrapped=sorted(prefix for prefix, loader in schemes.items()
                       if getattr(ckpt.CheckpointLoader._schemes[prefix],
                                  '__wrapped__', None) is loader),
        load_url_kept=ckpt.load_url is load_url)))
""")


def _import_side_effects(**env) -> dict:
    """Imports mmseg_gcn in a fresh interpreter with ``env`` added."""
    import os
    result = subprocess.run([sys.executable, '-c', _SIDE_EFFECTS], cwd=REPO,
                            env=dict(os.environ, **env), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_installs_the_loaders_and_leaves_torch_allow_list():
    """The checkpoint safety is the one other effect of the import, and it
    does not touch torch's allow-list (MMSEG_GCN_SAFE_GLOBALS included)."""
    found = _import_side_effects(MMSEG_GCN_SAFE_GLOBALS='fractions.Fraction')
    assert found['after'] == found['before']
    assert found['local'] == 'mmseg_gcn.engine.checkpoint'
    assert found['kept'] == []
    assert 'http://' in found['wrapped'] and 'pavi://' in found['wrapped']
    assert len(found['wrapped']) == 10  # every scheme but local files
    assert found['load_url_kept'] is False


def test_safe_checkpoints_off_leaves_mmengine_loaders_alone():
    found = _import_side_effects(MMSEG_GCN_SAFE_CHECKPOINTS='0')
    assert found['after'] == found['before']
    assert found['local'] == 'mmengine.runner.checkpoint'
    assert found['wrapped'] == [] and len(found['kept']) == 11
    assert found['load_url_kept'] is True


@pytest.mark.parametrize('env, message', [
    (dict(MMSEG_GCN_SAFE_CHECKPOINTS='no'),
     "MMSEG_GCN_SAFE_CHECKPOINTS='no': set it to 0"),
    (dict(MMSEG_GCN_SAFE_GLOBALS='numpy.ndarray'),
     'MMSEG_GCN_SAFE_GLOBALS: numpy.ndarray is loaded through a checked'),
])
def test_wrong_safety_settings_fail_at_import(env, message):
    import os
    result = subprocess.run([sys.executable, '-c', 'import mmseg_gcn'],
                            cwd=REPO, env=dict(os.environ, **env),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert message in result.stderr
