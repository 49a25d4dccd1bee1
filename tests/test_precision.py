"""``--amp`` without a GPU: bf16 autocast on CPU with fp32 weights and
optimizer state, in training, testing and inference, and one warning where
the CPU has no bf16 units."""
import re

import pytest
import torch
from conftest import REPO, TINY_CONFIG, VOC_SUBDIR, run_tool
from mmengine.config import Config
from torch import nn

import mmseg_gcn  # noqa: F401  (registers the components)
from mmseg_gcn.engine import precision
from mmseg_gcn.engine.precision import (CPUAmpOptimWrapper,
                                        cpu_has_bf16_units, enable_amp,
                                        inference_autocast)

pytestmark = pytest.mark.skipif(torch.cuda.is_available(),
                                reason='the CPU path; a GPU takes fp16')


@pytest.mark.parametrize('text, expected', [
    ('processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_bf16\n', True),
    ('processor\t: 0\nflags\t\t: fpu sse2 avx512f amx_bf16 amx_tile\n', True),
    ('processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_vnni\n', False),
    ('processor\t: 0\nFeatures\t: fp asimd bf16 i8mm\n', True),
    ('processor\t: 0\nFeatures\t: fp asimd\n', False),
])
def test_bf16_units_are_read_from_the_cpu_flags(tmp_path, text, expected):
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text(text)
    assert cpu_has_bf16_units(str(cpuinfo)) is expected
    assert cpu_has_bf16_units(str(tmp_path / 'missing')) is None


@pytest.fixture
def no_bf16_units(monkeypatch):
    monkeypatch.setattr(precision, 'cpu_has_bf16_units', lambda: False)
    monkeypatch.setattr(precision, '_warned', False)


def test_amp_on_cpu_is_bf16_training_and_validation(no_bf16_units,
                                                    monkeypatch):
    said = []
    monkeypatch.setattr(precision, 'print_log',
                        lambda message, **kwargs: said.append(message))
    cfg = Config.fromfile(TINY_CONFIG)
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'CPUAmpOptimWrapper'
    assert 'loss_scale' not in cfg.optim_wrapper  # bf16 needs none
    assert cfg.val_cfg.fp16 and cfg.test_cfg.fp16
    enable_amp(Config.fromfile(TINY_CONFIG))
    warnings = [m for m in said if 'this CPU has no bf16 units' in m]
    assert len(warnings) == 1  # once per process
    assert 'bf16 is emulated' in warnings[0]


@pytest.mark.parametrize('onednn, cost', [
    (True, 'bf16 is emulated, which is slower than fp32 (2-3x'),
    (False, 'torch runs its reference convolution, tens of times slower'),
])
def test_the_warning_says_what_emulated_bf16_costs(no_bf16_units,
                                                  monkeypatch, onednn,
                                                  cost):
    said = []
    monkeypatch.setattr(precision, 'print_log',
                        lambda message, **kwargs: said.append(message))
    monkeypatch.setattr(precision, '_warned', False)
    monkeypatch.setattr(precision, 'onednn_has_bf16', lambda: onednn)
    precision.warn_if_bf16_is_emulated()
    assert len(said) == 1 and cost in said[0], said
    assert 'Leave out --amp here' in said[0]


def test_another_optimizer_wrapper_is_refused():
    cfg = Config.fromfile(TINY_CONFIG)
    cfg.optim_wrapper.type = 'MyWrapper'
    with pytest.raises(ValueError, match="'MyWrapper'"):
        enable_amp(cfg)


def test_cpu_amp_wrapper_computes_in_bf16_and_keeps_fp32_state():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.LazyLinear(2))
    model(torch.rand(1, 3, 8, 8))
    wrapper = CPUAmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    before = [p.detach().clone() for p in model.parameters()]
    with wrapper.optim_context(model):
        features = model[0](torch.rand(2, 3, 8, 8))
        loss = model[2](model[1](features)).float().square().mean()
    assert features.dtype == torch.bfloat16
    wrapper.update_params(loss)
    for param, old in zip(model.parameters(), before):
        assert param.dtype == torch.float32
        assert not torch.equal(param, old)  # it trained
    for state in wrapper.optimizer.state.values():
        assert state['momentum_buffer'].dtype == torch.float32


def test_inference_autocast_is_bf16_on_cpu_and_off_when_not_asked():
    conv = nn.Conv2d(3, 4, 3)
    with inference_autocast(True):
        assert conv(torch.rand(1, 3, 8, 8)).dtype == torch.bfloat16
    with inference_autocast(False):
        assert conv(torch.rand(1, 3, 8, 8)).dtype == torch.float32


@pytest.mark.slow
def test_train_and_test_with_amp_on_cpu(demo_data, tmp_path):
    work_dir = tmp_path / 'work'
    result = run_tool([str(REPO / 'tools' / 'train.py'), str(TINY_CONFIG),
                       '--amp', '--work-dir', str(work_dir)], cwd=demo_data)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    losses = [float(x) for x in re.findall(r' loss: ([\d.]+)', log)]
    assert len(losses) == 2 and all(0 < x < 100 for x in losses)
    assert 'mIoU' in log
    dumped = Config.fromfile(work_dir / 'fcn_tiny_demo-voc.py')
    assert dumped.optim_wrapper.type == 'CPUAmpOptimWrapper'
    checkpoint = work_dir / 'iter_2.pth'
    from mmseg_gcn.engine import load_local_checkpoint
    weights = load_local_checkpoint(checkpoint)['state_dict']
    assert {v.dtype for v in weights.values() if v.is_floating_point()} == {
        torch.float32
    }
    result = run_tool([str(REPO / 'tools' / 'test.py'), str(TINY_CONFIG),
                       str(checkpoint), '--amp', '--work-dir',
                       str(tmp_path / 'test')], cwd=demo_data)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'mIoU' in result.stdout + result.stderr
    assert (demo_data / VOC_SUBDIR).is_dir()
