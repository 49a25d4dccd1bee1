"""The analysis tools: paper tables, valid receptive field, benchmark."""
import importlib.util
import json
import sys
import textwrap

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import REPO, TINY_CONFIG, VOC_SUBDIR, run_tool
from PIL import Image

import mmseg_gcn  # noqa: F401
from mmseg_gcn.analysis import (benchmark, benchmark_report, measure,
                                paper_tables)
from mmseg_gcn.analysis.valid_receptive_field import (
    compare_valid_receptive_fields, object_centre, occluder_boxes,
    occlusion_sensitivity)
from mmseg_gcn.paper_numbers import (TABLE2_CONV_PARAMS, TABLE2_GCN_PARAMS,
                                     TABLE4_STACK_PARAMS, TABLE11_GFLOPS)

TOOLS = REPO / 'tools' / 'analysis'
# one thread: the tools' runs are tiny, and other work may share the CPU
ONE_THREAD = {'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'}


def load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- tables --
@pytest.mark.slow
def test_paper_tables_tool_prints_the_paper_counts(tmp_path):
    result = run_tool([str(TOOLS / 'paper_tables.py'), '--no-flops'],
                      cwd=tmp_path,
                      env=ONE_THREAD)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for number in (*TABLE2_GCN_PARAMS.values(), *TABLE2_CONV_PARAMS.values(),
                   *TABLE4_STACK_PARAMS.values()):
        assert f'{number:,}' in out
    assert 'All numbers match the paper.' in out


@pytest.mark.slow
def test_table_11_flops_within_tolerance():
    """The pytorch-style numbers (4.11 G, 4.21 G) are checked in
    tests/models/test_resnet_gcn.py; here the caffe style."""
    rows = paper_tables.flops_rows(['caffe'])
    flops = {r.item: r for r in rows}
    assert flops['ResNet-50 (caffe) GFLOPs'].measured == pytest.approx(
        3.877, abs=1e-3)
    assert flops['ResNet50-GCN (caffe) GFLOPs'].measured == pytest.approx(
        3.610, abs=1e-3)
    gflops = [r for r in rows if r.paper is not None]
    assert len(gflops) == 2 and all(r.ok for r in rows)
    # caffe style is the closer to the paper's: within 5 % (4.8 %, 2.4 %)
    for row in gflops:
        assert row.paper == TABLE11_GFLOPS
        assert abs(row.measured - TABLE11_GFLOPS) < 0.05 * TABLE11_GFLOPS


def test_paper_tables_rows_are_exact():
    rows = paper_tables.parameter_rows()
    assert len(rows) == 12 and all(r.ok for r in rows)
    assert [r.measured for r in rows] == [
        count for k in TABLE2_GCN_PARAMS
        for count in (TABLE2_GCN_PARAMS[k], TABLE2_CONV_PARAMS[k])
    ] + list(TABLE4_STACK_PARAMS.values()) + [TABLE2_GCN_PARAMS[7]]


def test_paper_tables_tool_fails_on_a_mismatch(monkeypatch, capsys):
    tool = load_tool('paper_tables')
    paper = TABLE2_GCN_PARAMS[3]
    wrong = paper_tables.Row('Table 2', 'GCN k=3', paper + 1, paper)
    assert not wrong.ok and wrong.difference == '+1'
    monkeypatch.setattr(tool, 'parameter_rows', lambda: [wrong])
    monkeypatch.setattr(sys, 'argv', ['paper_tables.py', '--no-flops'])
    assert tool.main() == 1
    assert 'differ from the paper: GCN k=3' in capsys.readouterr().err


def test_flops_tolerance():
    row = paper_tables.Row('Table 11', 'x', 4.3, TABLE11_GFLOPS, 'G', 0.15)
    assert not row.ok
    assert paper_tables.Row('Table 11', 'x', 4.2, TABLE11_GFLOPS, 'G',
                            0.15).ok


# ---------------------------------------------------- receptive field --
def test_occlusion_marks_exactly_the_receptive_field():
    """A 3 x 3 mean filter: only occluders touching the 3 x 3 window around
    the unit change its score."""

    def forward(x):
        return F.avg_pool2d(x.sum(1, keepdim=True), 3, 1, 1)

    inputs = torch.ones(1, 2, 9, 11)
    result = occlusion_sensitivity(
        forward, inputs, (4, 6), patch=1, stride=1, progress=False)
    expected = np.zeros((9, 11), dtype=bool)
    expected[3:6, 5:8] = True
    np.testing.assert_array_equal(result['map'] > 0, expected)
    assert result['map'].max() == 1.0
    assert result['class_index'] == 0 and result['pixel'] == (4, 6)


def test_occluder_positions():
    grid = occluder_boxes((10, 20), patch=4, stride=5)
    assert len(grid) == 2 * 4
    assert grid.min() >= 0 and grid[:, 1].max() <= 10
    assert grid[:, 3].max() <= 20
    rand = occluder_boxes((10, 20), patch=4, num=7, seed=1)
    assert len(rand) == 7
    np.testing.assert_array_equal(
        rand, occluder_boxes((10, 20), patch=4, num=7, seed=1))
    with pytest.raises(ValueError, match='exactly one of stride'):
        occluder_boxes((10, 20), 4, stride=2, num=3)
    with pytest.raises(ValueError, match='patch must be an integer >= 1'):
        occluder_boxes((10, 20), 0, stride=2)


def test_object_centre_is_inside_the_largest_object():
    label = np.zeros((20, 30), dtype=np.uint8)
    label[2:4, 2:4] = 5  # small object
    label[5:16, 8:29] = 3  # the largest: centre (10, 18)
    label[0, :] = 255
    assert object_centre(label) == (10, 18)
    with pytest.raises(ValueError, match='no object in the label map'):
        object_centre(np.zeros((4, 4), dtype=np.uint8))


@pytest.fixture(scope='module')
def tiny_gcn(tmp_path_factory):
    """A tiny GCN segmentor config and an untrained checkpoint of it."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    folder = tmp_path_factory.mktemp('tiny_gcn')
    config = folder / 'gcn_tiny.py'
    config.write_text(
        textwrap.dedent(f"""
        _base_ = [{str(TINY_CONFIG)!r}]
        custom_imports = dict(imports=['mmseg_gcn'],
                              allow_failed_imports=False)
        model = dict(decode_head=dict(
            _delete_=True, type='GCNHead', in_channels=(8, 16, 32, 64),
            in_index=(0, 1, 2, 3), kernel_size=3, num_classes=21))
    """))
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(Config.fromfile(config).model)
    model.init_weights()
    checkpoint = folder / 'gcn_tiny.pth'
    classes = tuple(f'class{i}' for i in range(21))
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=dict(classes=classes))), checkpoint)
    return config, checkpoint


@pytest.fixture
def small_image(tmp_path, demo_data):
    """A 40 x 48 crop of a demo image and a label with one object."""
    name = sorted((demo_data / VOC_SUBDIR / 'JPEGImages').iterdir())[0].stem
    image = Image.open(demo_data / VOC_SUBDIR / 'JPEGImages' / f'{name}.jpg')
    box = (0, 0, 48, 40)
    image.crop(box).save(tmp_path / 'image.png')
    crop = np.zeros((40, 48), dtype=np.uint8)
    crop[10:30, 12:36] = 7  # one object, centre (19, 23)
    Image.fromarray(crop).save(tmp_path / 'label.png')
    return tmp_path / 'image.png', tmp_path / 'label.png'


@pytest.mark.slow
def test_vrf_tool_writes_a_figure_of_two_models(tmp_path, small_image,
                                                trained_work_dir, tiny_gcn):
    image, label = small_image
    out = tmp_path / 'figs' / 'vrf.png'
    result = run_tool([
        str(TOOLS / 'valid_receptive_field.py'), '--model',
        str(TINY_CONFIG),
        str(trained_work_dir / 'iter_2.pth'), '--model',
        str(tiny_gcn[0]),
        str(tiny_gcn[1]), '--names', 'FCN', 'GCN', '--image',
        str(image), '--object-centre',
        str(label), '--patch', '8', '--stride', '8', '--out',
        str(out)
    ],
                      cwd=tmp_path,
                      env=ONE_THREAD)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert 'saved to' in result.stdout and '(y=19, x=23)' in result.stdout
    assert '100%' in result.stderr  # the progress bar
    figure = Image.open(out)
    assert figure.format == 'PNG' and figure.size[0] > figure.size[1]


@pytest.mark.slow
def test_vrf_random_occluders_and_class_by_name(tmp_path, small_image,
                                                tiny_gcn):
    image, _ = small_image
    result = compare_valid_receptive_fields(
        [tuple(map(str, tiny_gcn))] * 2,
        str(image),
        str(tmp_path / 'vrf.png'),
        pixel=(5, 7),
        class_name='class3',
        patch=6,
        stride=None,
        num=10,
        batch_size=5,
        progress=False)
    assert [r['class_index'] for r in result['results']] == [3, 3]
    assert result['results'][0]['map'].shape == (40, 48)
    np.testing.assert_array_equal(result['results'][0]['raw'],
                                  result['results'][1]['raw'])
    assert (tmp_path / 'vrf.png').is_file()


@pytest.mark.slow
@pytest.mark.parametrize('kwargs, error, match', [
    (dict(pixel=(40, 0)), ValueError, r'pixel \(y=40, x=0\) is outside the '
     r'40 x 48 image'),
    (dict(pixel=(1, 1), class_name='zebra'), ValueError, 'unknown class'),
    (dict(pixel=(1, 1), object_label='x.png'), ValueError, 'exactly one'),
    (dict(object_label='missing.png'), FileNotFoundError, 'missing.png'),
])
def test_vrf_bad_input(tmp_path, small_image, tiny_gcn, kwargs, error, match):
    image, _ = small_image
    with pytest.raises(error, match=match):
        compare_valid_receptive_fields([tuple(map(str, tiny_gcn))],
                                       str(image),
                                       str(tmp_path / 'o.png'),
                                       progress=False,
                                       **kwargs)


def test_vrf_missing_checkpoint(tmp_path, small_image, tiny_gcn):
    image, _ = small_image
    with pytest.raises(
            FileNotFoundError,
            match="checkpoint file '.*nope.pth' does not exist"):
        compare_valid_receptive_fields([(str(tiny_gcn[0]), 'nope.pth')],
                                       str(image),
                                       str(tmp_path / 'o.png'),
                                       pixel=(1, 1))


# ------------------------------------------------------------ benchmark --
@pytest.mark.slow
def test_benchmark_tool_runs_a_tiny_configuration(tmp_path):
    md, js = tmp_path / 'bench.md', tmp_path / 'bench.json'
    result = run_tool([
        str(TOOLS / 'benchmark.py'), '--backbone', 'r50', '--size', '32', '32',
        '--batch', '2', '--heads', 'fcn', '--warmup', '0', '--repeats', '1',
        '--device', 'cpu', '--threads', '1', '--no-flops', '--markdown',
        str(md), '--json',
        str(js)
    ],
                      cwd=tmp_path,
                      env=ONE_THREAD)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = md.read_text()
    assert '| GCNHead | 2.55 (1.00x) |' in table
    assert '| FCNHead | 23.61 (9.27x) |' in table
    assert 'ResNet-50 (output stride 32), input 2 x 3 x 32 x 32, cpu' in table
    data = json.loads(js.read_text())
    assert [h['head'] for h in data['heads']] == ['gcn', 'fcn']
    for head in data['heads']:
        assert head['forward_ms'] > 0 and head['train_ms'] > 0
        assert head['forward_peak'] > 0 and head['train_peak'] > 0


@pytest.mark.slow
def test_benchmark_batch_one_reports_no_training_step():
    result = benchmark.run_benchmark(
        'r50', (32, 32), batch=1, heads=['gcn'], warmup=0, repeats=1)
    head = result.heads[0]
    assert head.train_ms is None and 'one value per channel' in head.note
    assert 0 < head.head_flops < head.flops
    table = benchmark_report.format_markdown(result)
    assert '| GCNHead [1] |' in table and 'n/a' in table


def test_cpu_peak_memory_follows_the_allocations():

    def work():
        a = torch.empty(1_000_000)  # 4 MB
        b = torch.empty(2_000_000)  # 8 MB
        del a
        c = torch.empty(500_000)  # 2 MB
        return b, c

    assert measure.cpu_peak_bytes(work) == 12_000_000


@pytest.mark.parametrize('kwargs, match', [
    (dict(backbone='r18'), "unknown backbone 'r18'"),
    (dict(heads=['segformer']), r"unknown head\(s\) \['segformer'\]"),
    (dict(batch=0), 'batch must be an integer >= 1'),
    (dict(size=(16, 64)), 'size must be'),
    (dict(repeats=0), 'repeats must be an integer >= 1'),
])
def test_benchmark_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        benchmark.run_benchmark(**kwargs)


def test_benchmark_head_configs_build():
    for head in benchmark.HEADS:
        assert benchmark.head_config(head)['type'] == \
            benchmark.HEAD_NAMES[head]
    with pytest.raises(ValueError, match='unknown head'):
        benchmark.head_config('deeplab')
