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
