"""The whole-model benchmark: the tool end to end, the published mIoU read
from mmseg's metafiles, the MFU arithmetic and the checks of its options."""
import importlib.util
import json
import os.path as osp
import re

import pytest
import torch
from conftest import REPO, run_tool

from mmseg_gcn.analysis import model_benchmark as mb
from mmseg_gcn.analysis.benchmark_report import format_whole_model_markdown
from mmseg_gcn.analysis.flops_utilisation import (model_flops_utilisation,
                                                  peak_tflops)
from mmseg_gcn.analysis.model_specs import MODEL_SPECS, model_config
from mmseg_gcn.analysis.published_accuracy import (mmseg_configs_dir,
                                                   metafile_miou,
                                                   published_miou)

TOOL = REPO / 'tools' / 'analysis' / 'benchmark.py'
ONE_THREAD = {'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'}
# parameters of the randomly initialised models (auxiliary head included)
GCN_R50_PARAMS = 26_053_988
FCN_R50_D8_PARAMS = 49_499_274


def load_tool():
    spec = importlib.util.spec_from_file_location('benchmark_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------ end to end --
@pytest.mark.slow
def test_quick_whole_model_run_writes_table_json_and_plot(tmp_path):
    out = tmp_path / 'out'
    result = run_tool([
        str(TOOL), '--whole-model', '--quick', '--models', 'gcn-r50-d32',
        'fcn-r50-d8', '--device', 'cpu', '--threads', '1', '--out-dir',
        str(out)
    ],
                      cwd=tmp_path,
                      env=ONE_THREAD)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = (out / 'table.md').read_text()
    assert table.strip() in result.stdout
    assert '**64 x 64**' in table and '**64 x 128**' in table
    assert '| GCN-R50-d32 | 26.1 (1.00x) |' in table
    assert '| FCN-R50-d8 | 49.5 (1.90x) |' in table
    assert '72.30 (paper)' in table and '66.97 (mmseg)' in table
    assert 'Ratios (in brackets) are to GCN-R50-d32' in table
    assert 'Decode head (% of forward)' in table

    data = json.loads((out / 'results.json').read_text())
    assert data['models'] == ['gcn-r50-d32', 'fcn-r50-d8']
    assert data['repeats'] == 1 and data['batch'] == 2
    assert [s['size'] for s in data['sizes']] == [[64, 64], [64, 128]]
    for size in data['sizes']:
        gcn, fcn = size['models']
        assert (gcn['params'], fcn['params']) == (GCN_R50_PARAMS,
                                                  FCN_R50_D8_PARAMS)
        for model in (gcn, fcn):
            assert model['forward_ms'] > 0 and model['train_ms'] > 0
            assert model['forward_peak'] > 0 and model['train_peak'] > 0
            assert len(model['forward_times']) == 1
            # the decode head runs inside the timed forward, so it takes a
            # part of it
            assert len(model['head_times']) == 1
            assert 0 < model['head_ms'] < model['forward_ms']
        # the dilated backbone costs more than the stride-32 one
        assert fcn['flops'] > 5 * gcn['flops'] > 0
    # twice the pixels, about twice the FLOPs
    assert data['sizes'][1]['models'][1]['flops'] == pytest.approx(
        2 * data['sizes'][0]['models'][1]['flops'], rel=0.02)
    assert data['published']['fcn-r50-d8']['miou'] == 66.97
    assert data['published']['gcn-r50-d32']['source'] == 'paper'

    png = (out / 'accuracy_vs_cost.png').read_bytes()
    assert png[:8] == b'\x89PNG\r\n\x1a\n' and len(png) > 10_000
    # a progress line with an ETA after every measured run of every model
    for model in ('gcn-r50-d32', 'fcn-r50-d8'):
        for phase in ('forward', 'train'):
            lines = [
                line for line in result.stderr.splitlines()
                if f'{phase} round 1/1 {model}:' in line and 'ETA' in line
            ]
            assert len(lines) == 2, result.stderr[-3000:]


def test_amp_channels_last_and_mfu_on_cpu():
    result = mb.run_whole_model_benchmark(models=['gcn-r50-d32'],
                                          sizes=[(64, 64)],
                                          device='cpu',
                                          warmup=1,
                                          repeats=1,
                                          precisions=['bf16'],
                                          channels_last=True,
                                          peak_tflops_per_s=0.5)
    assert result.precisions == ['bf16'] and result.channels_last
    model = result.sizes[0].models[0]
    assert (model.precision, model.engine) == ('bf16', 'torch')
    assert model.forward_mfu == pytest.approx(
        2 * model.flops / (model.forward_ms / 1e3) / 0.5e12)
    assert model.train_mfu == pytest.approx(2 * 3 * 2 * model.flops /
                                            (model.train_ms / 1e3) / 0.5e12)
    table = format_whole_model_markdown(result)
    assert 'bf16 (torch.autocast), channels_last' in table
    assert '| Forward MFU | Train MFU |' in table
    assert 'over a peak of 0.5 TFLOP/s (bf16)' in table
    # one variant: rows carry no variant and no variants table
    assert '| GCN-R50-d32 | 26.1 (1.00x) |' in table
    assert 'variants over' not in table


@pytest.mark.slow
def test_fp32_bf16_and_onnxruntime_in_one_interleaved_run(monkeypatch):
    order = []
    real_time_once = mb.time_once

    def recording_time_once(fn, device):
        order.append(fn)
        return real_time_once(fn, device)

    monkeypatch.setattr(mb, 'time_once', recording_time_once)
    result = mb.run_whole_model_benchmark(models=['gcn-r50-d32',
                                                  'fcn-r50-d8'],
                                          sizes=[(64, 64)],
                                          device='cpu',
                                          warmup=1,
                                          repeats=2,
                                          precisions=['fp32', 'bf16'],
                                          onnxruntime=True)
    assert result.precisions == ['fp32', 'bf16'] and result.onnxruntime
    rows = result.sizes[0].models
    assert [(r.model, r.variant) for r in rows] == [
        ('gcn-r50-d32', 'fp32'), ('gcn-r50-d32', 'bf16'),
        ('gcn-r50-d32', 'onnxruntime fp32'), ('fcn-r50-d8', 'fp32'),
        ('fcn-r50-d8', 'bf16'), ('fcn-r50-d8', 'onnxruntime fp32')
    ]
    # forward rounds: each of the 6 variants once per round, in turn; then
    # training rounds of the 4 torch variants
    assert len(order) == 2 * 6 + 2 * 4
    for r in rows:
        assert len(r.forward_times) == 2 and r.forward_ms > 0
        assert r.flops == next(x.flops for x in rows if x.model == r.model)
        if r.engine == 'onnxruntime':
            assert r.train_ms is None and r.train_times == []
            assert r.forward_peak is None and r.head_ms is None
        else:
            assert r.train_ms > 0 and 0 < r.head_ms < r.forward_ms
    fp32 = [r for r in rows if r.variant == 'fp32']
    assert all(r.same_labels is None for r in fp32)
    # the exported graph computes the same logits: every label the same
    for r in rows:
        if r.engine == 'onnxruntime':
            assert r.same_labels >= 99.0
        elif r.precision == 'bf16':
            assert 0.0 <= r.same_labels <= 100.0

    table = format_whole_model_markdown(result)
    assert 'fp32, bf16 (torch.autocast), onnxruntime fp32' in table
    assert '| GCN-R50-d32 · fp32 | 26.1 (1.00x) |' in table
    assert '| GCN-R50-d32 · onnxruntime fp32 | 26.1 (1.00x) |' in table
    assert "Each model's variants over the same model in fp32 (torch)" \
        in table
    gcn = {r.variant: r for r in rows if r.model == 'gcn-r50-d32'}
    ratio = gcn['bf16'].forward_ms / gcn['fp32'].forward_ms
    assert f'| 64 x 64 | GCN-R50-d32 | bf16 | {ratio:.2f}x |' in table
    assert '| 64 x 64 | FCN-R50-d8 | onnxruntime fp32 |' in table
    assert 'Ratios (in brackets) are to GCN-R50-d32 in fp32' in table


@pytest.mark.slow
def test_a_model_the_onnx_exporter_refuses_keeps_its_torch_rows(capfd):
    # PSPNet's pyramid pools to 3x3 and 6x6 bins, which do not divide its
    # 8x8 feature map here; torch's ONNX exporter refuses that pooling
    result = mb.run_whole_model_benchmark(models=['pspnet-r50-d8'],
                                          sizes=[(64, 64)],
                                          device='cpu',
                                          warmup=1,
                                          repeats=1,
                                          flops=False,
                                          onnxruntime=True)
    torch_row, ort_row = result.sizes[0].models
    assert torch_row.forward_ms > 0 and torch_row.train_ms > 0
    assert ort_row.forward_ms is None and ort_row.forward_times == []
    assert ort_row.note.startswith('no ONNX graph: Unsupported: ONNX export '
                                   'of operator adaptive_avg_pool2d')
    assert '\n' not in ort_row.note
    # nor does the exporter print the whole graph
    assert 'Torch IR graph' not in capfd.readouterr().out
    table = format_whole_model_markdown(result)
    assert ('[1] PSPNet-R50-d8 · onnxruntime fp32 at 64 x 64: no ONNX '
            'graph: Unsupported') in table


# -------------------------------------------------------------- configs --
def test_model_configs_are_stripped_for_a_cpu_benchmark():
    for name in MODEL_SPECS:
        text = json.dumps(model_config(name, num_classes=19))
        assert 'SyncBN' not in text and 'Pretrained' not in text
        assert '"pretrained"' not in text
    psp = model_config('pspnet-r101-d8', num_classes=19)
    assert psp['backbone']['type'] == 'ResNetV1c'
    assert psp['backbone']['depth'] == 101
    assert psp['backbone']['dilations'] == (1, 1, 2, 4)
    assert psp['auxiliary_head']['num_classes'] == 19
    assert psp['decode_head']['num_classes'] == 19
    gcn = model_config('gcn-r101-d32')
    assert gcn['backbone']['depth'] == 101
    assert gcn['decode_head']['type'] == 'GCNHead'
    assert 'auxiliary_head' not in gcn


# ------------------------------------------------------------ metafiles --
@pytest.mark.parametrize('model, miou', [
    ('fcn-r101-d8', 69.91),
    ('pspnet-r101-d8', 78.52),
    ('deeplabv3-r101-d8', 77.92),
    ('deeplabv3plus-r101-d8', 78.62),
    ('upernet-r101', 77.43),
    ('pspnet-r50-d8', 77.29),
])
def test_published_miou_of_mmseg_models(model, miou):
    published = published_miou(model, MODEL_SPECS[model].mmseg_config)
    assert published.miou == miou and published.source == 'mmseg'
    assert published.reference.endswith('_4xb4-40k_voc12aug-512x512')


def test_published_miou_of_gcn_is_the_papers():
    assert published_miou('gcn-r152-d32', None).miou == 74.7
    assert published_miou('gcn-r50-d32', None).miou == 72.3
    assert published_miou('gcn-r152-d32', None).source == 'paper'
    assert published_miou('gcn-r101-d32', None) is None


def test_metafile_entry_is_picked_by_name_and_dataset():
    metafile = osp.join(mmseg_configs_dir(), 'pspnet', 'metafile.yaml')
    assert metafile_miou(metafile,
                         'pspnet_r101-d8_4xb4-20k_voc12aug-512x512') == 78.47
    # the Cityscapes entry has no VOC result
    with pytest.raises(ValueError, match="gives no mIoU on 'Pascal VOC"):
        metafile_miou(metafile, 'pspnet_r101-d8_4xb2-40k_cityscapes-512x1024')
    with pytest.raises(ValueError, match="has no entry named 'nope'"):
        metafile_miou(metafile, 'nope')


def test_metafile_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        metafile_miou(str(tmp_path / 'missing.yaml'), 'x')
    listing = tmp_path / 'list.yaml'
    listing.write_text('- 1\n- 2\n')
    with pytest.raises(ValueError, match='not an mmseg metafile'):
        metafile_miou(str(listing), 'x')
    hostile = tmp_path / 'hostile.yaml'
    hostile.write_text('Models: !!python/object/apply:os.system ["echo hi"]\n')
    with pytest.raises(ValueError, match='not plain YAML data'):
        metafile_miou(str(hostile), 'x')


# ------------------------------------------------------------------ MFU --
def test_mfu_arithmetic():
    # 100 GMAC in 0.5 ms = 400 TFLOP/s achieved
    assert model_flops_utilisation(100e9, 0.5e-3,
                                   989.0) == pytest.approx(400 / 989)
    # a training step: three forward passes' worth
    assert model_flops_utilisation(100e9, 1.5e-3, 989.0,
                                   3) == pytest.approx(400 / 989)
    for bad in (dict(macs=0.0), dict(seconds=-1.0),
                dict(peak_tflops_per_s=float('nan'))):
        kwargs = {**dict(macs=1e9, seconds=1.0, peak_tflops_per_s=1.0), **bad}
        with pytest.raises(ValueError, match='must be > 0'):
            model_flops_utilisation(**kwargs)


def test_gpu_peak_table():
    assert peak_tflops('NVIDIA H100 80GB HBM3', 'bf16') == 989.0
    assert peak_tflops('NVIDIA H100 PCIe', 'bf16') == 756.0
    assert peak_tflops('NVIDIA H200', 'tf32') == 494.0
    assert peak_tflops('NVIDIA H200', 'fp32') == 67.0
    assert peak_tflops('NVIDIA A100-SXM4-80GB', 'fp32') == 19.5
    assert peak_tflops('NVIDIA L40S', 'bf16') == 362.0
    assert peak_tflops('Tesla V100-SXM2-16GB', 'bf16') is None
    assert peak_tflops('NVIDIA GeForce GTX 1080', 'fp32') is None
    with pytest.raises(ValueError, match="unknown precision 'int8'"):
        peak_tflops('NVIDIA H200', 'int8')


# ---------------------------------------------------------- bad options --
@pytest.mark.parametrize('argv, message', [
    (['--sizes', '512by512'], "size '512by512' is not HxW"),
    (['--sizes', '16x64'], "size '16x64' is not HxW with H, W >= 32"),
    (['--models', 'segformer'], r"unknown model\(s\) \['segformer'\]"),
    (['--repeats', '0'], 'repeats must be an integer >= 1, got 0'),
    (['--warmup', '0'], 'warmup must be an integer >= 1, got 0'),
    (['--batch', '0'], 'batch must be an integer >= 1, got 0'),
    (['--peak-tflops', '-1'], 'peak TFLOP/s must be > 0, got -1'),
    (['--device', 'tpu'], "device 'tpu': only cpu and cuda"),
    (['--out-dir', '/proc/no/such'], "--out-dir '/proc/no/such' cannot be"),
    (['--precisions', 'fp32', 'bf16', '--peak-tflops', '100'
      ], 'a peak TFLOP/s of 100 holds for one precision'),
    (['--onnxruntime', '--device', 'cuda:0'],
     'CUDA is not available here|onnxruntime is timed in its CPU session'),
])
def test_bad_whole_model_options_fail_before_any_compute(
        argv, message, tmp_path, capsys, monkeypatch):
    tool = load_tool()
    built = []
    monkeypatch.setattr(mb, '_Contestant',
                        lambda *a, **k: built.append(a))  # must not run
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as error:
        tool.main(['--whole-model', '--quick', *argv])
    assert built == []
    if 'out-dir' not in message:  # nothing written for bad options
        assert list(tmp_path.iterdir()) == []
    assert str(error.value).startswith('error: ')
    assert re.search(message, str(error.value)), str(error.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason='a GPU is present')
def test_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match='CUDA is not available here'):
        mb.run_whole_model_benchmark(device='cuda')


@pytest.mark.parametrize('argv, message', [
    (['--heads', 'fcn', '--whole-model'
      ], '--heads: only used without --whole-model'),
    (['--amp', '--channels-last'
      ], '--amp, --channels-last: only used with --whole-model'),
    (['--whole-model', '--amp', '--precisions', 'fp32'
      ], '--amp is --precisions bf16; give one of them'),
])
def test_options_of_the_other_mode_are_refused(argv, message, capsys):
    tool = load_tool()
    with pytest.raises(SystemExit) as error:
        tool.parse_args(argv)
    assert error.value.code == 2
    assert message in capsys.readouterr().err


def test_size_parsing():
    assert mb.parse_size('512x1024') == (512, 1024)
    assert mb.parse_size('512X512') == (512, 512)
    assert mb.parse_size('640') == (640, 640)
