"""tools/deployment/pytorch2onnx.py: the demo-sized GCN exported once with a
dynamic size, then onnxruntime against mmseg's own inference at odd sizes,
and the errors for bad inputs.

Needs the deploy extra (onnx, onnxruntime), which `make setup` installs: the
tests fail, not skip, without it."""
import re
from pathlib import Path
from typing import Tuple

import numpy as np
import pytest
import torch
from checkpoint_crafting import Call, Global, dumps, write_zip_checkpoint
from conftest import REPO, run_tool

TOOL = REPO / 'tools' / 'deployment' / 'pytorch2onnx.py'
DEMO_CONFIG = (REPO / 'configs' / 'demo' /
               'gcn_r18-d32_1xb8-1k_demo-voc12aug-96x96.py')
BASELINE_CONFIG = (REPO / 'configs' / 'demo' /
                   'gcn-1x1-baseline_r18-d32_1xb8-1k_demo-voc12aug-96x96.py')
ONE_THREAD = {'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'}
# odd, not multiples of any stride of the network, none the export size
ODD_SIZES = ((97, 131), (75, 61), (33, 161))

pytestmark = pytest.mark.slow  # each test runs a tool in a new Python process


def require_onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        pytest.fail('onnxruntime is not installed: run `make setup` (it '
                    "installs the deploy extra, pip install -e '.[deploy]').")
    return onnxruntime


def build_demo_model(config: Path = DEMO_CONFIG) -> torch.nn.Module:
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    cfg = Config.fromfile(str(config))
    init_default_scope('mmseg')
    return revert_sync_batchnorm(MODELS.build(cfg.model))


def write_random_checkpoint(path: Path) -> None:
    """Random weights for the demo model, at the scale a trained model has:
    logits of order 1 (the initial head gives near-ties everywhere) and no
    zero-initialised BN scale (which would cut every residual branch)."""
    from mmengine.runner import save_checkpoint
    torch.manual_seed(0)
    model = build_demo_model()
    model.init_weights()
    for module in model.decode_head.modules():
        if isinstance(module, torch.nn.Conv2d):
            module.weight.data = (torch.randn(module.weight.shape) /
                                  module.weight[0].numel()**0.5)
    for module in model.backbone.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.weight.data = torch.rand(module.weight.shape) + 0.5
            module.bias.data = torch.randn(module.bias.shape) * 0.1
            module.running_mean.data = torch.randn(
                module.running_mean.shape) * 0.1
            module.running_var.data = torch.rand(
                module.running_var.shape) * 4 + 1
    save_checkpoint({'state_dict': model.state_dict(), 'meta': {}}, str(path))


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp('ckpt') / 'demo_random.pth'
    write_random_checkpoint(path)
    return path


@pytest.fixture(scope='module')
def exported(tmp_path_factory, checkpoint: Path) -> Tuple[Path, str]:
    """The demo model exported at 96 x 96 with a dynamic size."""
    require_onnxruntime()
    out = tmp_path_factory.mktemp('onnx') / 'demo.onnx'
    result = run_tool([
        str(TOOL),
        str(DEMO_CONFIG),
        str(checkpoint), '--out',
        str(out), '--shape', '96', '96', '--dynamic'
    ], cwd=out.parent, env=ONE_THREAD)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return out, result.stdout


def mmseg_predict(model: torch.nn.Module, rgb: np.ndarray):
    """mmseg's own test-time path for one RGB image (H x W x 3, uint8):
    the data preprocessor on the BGR image as mmcv loads it, then
    ``predict``. Returns (logits C x H x W, labels H x W)."""
    from mmseg.structures import SegDataSample
    height, width = rgb.shape[:2]
    bgr = torch.from_numpy(rgb[..., ::-1].copy()).permute(2, 0, 1)
    meta = dict(img_shape=(height, width), ori_shape=(height, width))
    data = model.data_preprocessor(
        dict(inputs=[bgr], data_samples=[SegDataSample(metainfo=meta)]),
        training=False)
    with torch.no_grad():
        sample = model.predict(data['inputs'], data['data_samples'])[0]
    return sample.seg_logits.data, sample.pred_sem_seg.data[0]


def test_tool_verifies_the_graph_at_three_sizes(exported):
    _, stdout = exported
    reported = re.findall(
        r'^(\d+)x(\d+): onnxruntime output \((1, 21, \d+, \d+)\), max abs '
        r'difference to torch (\S+) \(largest \|logit\| \S+\), 0 label\(s\) '
        r'differ$', stdout, re.M)
    assert [(int(h), int(w)) for h, w, _, _ in reported] == [(96, 96),
                                                             (97, 131),
                                                             (75, 61)]
    for h, w, shape, diff in reported:
        assert shape == f'1, 21, {h}, {w}'
        assert float(diff) <= 1e-4
    assert 'onnxruntime matches torch at 3 size(s).' in stdout


def test_onnxruntime_equals_mmseg_at_odd_sizes(exported, checkpoint):
    ort = require_onnxruntime()
    from mmengine.runner import load_checkpoint
    path, _ = exported
    model = build_demo_model().eval()
    load_checkpoint(model, str(checkpoint), map_location='cpu', strict=True)
    session = ort.InferenceSession(
        str(path), providers=['CPUExecutionProvider'])
    rng = np.random.default_rng(0)
    for height, width in ODD_SIZES:
        rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        logits, labels = mmseg_predict(model, rgb)
        image = rgb.transpose(2, 0, 1)[None].astype(np.float32)
        got = torch.from_numpy(session.run(None, {'image': image})[0][0])
        assert got.shape == (21, height, width)
        assert float((got - logits).abs().max()) <= 1e-4
        assert torch.equal(got.argmax(0), labels)
        # not trivially equal: the model predicts several classes
        assert len(labels.unique()) > 1


def test_label_output_static_graph(tmp_path, checkpoint):
    ort = require_onnxruntime()
    out = tmp_path / 'labels.onnx'
    result = run_tool([
        str(TOOL),
        str(DEMO_CONFIG),
        str(checkpoint), '--out',
        str(out), '--shape', '75', '61', '--output', 'labels'
    ], cwd=tmp_path, env=ONE_THREAD)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert '75x61: onnxruntime output (1, 75, 61), 0 label(s) differ' in (
        result.stdout)
    session = ort.InferenceSession(str(out),
                                   providers=['CPUExecutionProvider'])
    (output, ) = session.get_outputs()
    assert (output.name, output.type, output.shape) == ('labels',
                                                         'tensor(int64)',
                                                         [1, 75, 61])


def test_missing_and_bad_checkpoint_are_refused(tmp_path):
    require_onnxruntime()
    out = tmp_path / 'model.onnx'
    missing = tmp_path / 'nowhere.pth'
    result = run_tool(
        [str(TOOL),
         str(DEMO_CONFIG),
         str(missing), '--out',
         str(out)], cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: CHECKPOINT '{missing}' does not exist; give a .pth file "
        'written by training (e.g. work_dirs/<config>/iter_*.pth).')
    not_a_checkpoint = tmp_path / 'notes.pth'
    not_a_checkpoint.write_text('not a checkpoint\n')
    result = run_tool([
        str(TOOL),
        str(DEMO_CONFIG),
        str(not_a_checkpoint), '--out',
        str(out)
    ], cwd=tmp_path)
    assert result.returncode == 1
    assert str(not_a_checkpoint) in result.stderr
    assert 'Traceback' not in result.stderr
    assert not out.exists()


def test_a_checkpoint_that_would_run_code_is_refused(tmp_path):
    # a pickle calling os.system: refused by name, and the command never runs
    require_onnxruntime()
    marker = tmp_path / 'ran'
    hostile = tmp_path / 'hostile.pth'
    write_zip_checkpoint(hostile, dumps({
        'meta': {'iter': 1},
        'state_dict': {},
        'payload': Call(Global('os', 'system'), f'touch {marker}')
    }))
    out = tmp_path / 'model.onnx'
    result = run_tool([str(TOOL), str(DEMO_CONFIG), str(hostile), '--out',
                       str(out)], cwd=tmp_path)
    assert result.returncode == 1
    assert str(hostile) in result.stderr
    assert 'Traceback' not in result.stderr
    assert not marker.exists() and not out.exists()


def test_checkpoint_of_another_config_is_refused(tmp_path, checkpoint):
    require_onnxruntime()
    out = tmp_path / 'model.onnx'
    result = run_tool([
        str(TOOL),
        str(BASELINE_CONFIG),
        str(checkpoint), '--out',
        str(out)
    ], cwd=tmp_path)
    assert result.returncode == 1
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith(
        f"error: CHECKPOINT '{checkpoint}' does not fit CONFIG "
        f"'{BASELINE_CONFIG}': the checkpoint does not fit the model of the "
        'config (')
    assert 'Give the config the checkpoint was trained with' in message
    assert 'Traceback' not in result.stderr
    assert not out.exists()


def test_sizes_the_tool_cannot_take(tmp_path, checkpoint):
    require_onnxruntime()
    out = tmp_path / 'model.onnx'
    base = [str(TOOL), str(DEMO_CONFIG), str(checkpoint), '--out', str(out)]
    result = run_tool(base + ['--shape', '0', '64'], cwd=tmp_path)
    assert result.returncode == 2
    assert '--shape must be two sizes >= 1 (H W), got 0 64' in result.stderr
    result = run_tool(base + ['--verify-shape', '75', '61'], cwd=tmp_path)
    assert result.returncode == 2
    assert '--verify-shape needs --dynamic' in result.stderr
    assert not out.exists()


def test_a_difference_above_atol_fails_the_export(tmp_path, checkpoint):
    """The comparison can fail: float32 ONNX and torch kernels differ by a
    few 1e-6, so a tolerance of 0 is not met."""
    require_onnxruntime()
    out = tmp_path / 'model.onnx'
    result = run_tool([
        str(TOOL),
        str(DEMO_CONFIG),
        str(checkpoint), '--out',
        str(out), '--shape', '33', '47', '--atol', '0', '--rtol', '0'
    ], cwd=tmp_path, env=ONE_THREAD)
    assert result.returncode == 1, result.stdout + result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1].startswith(
        'error: the ONNX graph does not match torch at 33x47 (--atol 0, '
        '--rtol 0);')
