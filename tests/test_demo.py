"""The demo (tools/demo.py, shortened) and the figure helpers it uses."""
import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, run_tool
from PIL import Image

from mmseg_gcn.engine import load_local_checkpoint
from mmseg_gcn.visualization import (GridRow, colorize_mask,
                                     find_scalars_file, load_scalars,
                                     save_prediction_grid,
                                     save_training_curves)

DEMO = str(REPO / 'tools' / 'demo.py')
TINY_DATA = ['--num-train', '8', '--num-val', '4']


def _load_demo_module():
    spec = importlib.util.spec_from_file_location('demo_tool', DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_demo(cwd: Path, work_dir: str, *extra: str):
    result = run_tool([DEMO, '--iters', '4', '--num-vis', '2', '--work-dir',
                       work_dir, *TINY_DATA, *extra], cwd=cwd)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result


@pytest.fixture(scope='module')
def short_demo(tmp_path_factory):
    """One demo run of 4 iterations a model on a tiny context set;
    (cwd, stdout)."""
    cwd = tmp_path_factory.mktemp('demo_run')
    return cwd, _run_demo(cwd, 'work_dirs/demo').stdout


@pytest.mark.slow
def test_short_demo_writes_all_outputs(short_demo):
    cwd, out = short_demo
    work_dir = cwd / 'work_dirs' / 'demo'
    # the context set, generated on the way, in the default place
    root = cwd / 'data/context/VOCdevkit/VOC2012'
    assert len((root / 'ImageSets/Segmentation/val.txt').read_text().split()) == 4
    assert json.loads((root / '.synthetic_demo_data.json').read_text())[
        'generator'] == 'voc_context'
    # progress: iteration, loss, ETA, for each of the two models
    assert len(re.findall(r'Iter\(train\) \[\s*4/4\].*eta: .*loss: [\d.]+',
                          out)) == 2
    # mmseg's per-class IoU table, and the boundary / internal accuracy
    assert 'per class results' in out
    assert re.search(r'\|\s+disc\s+\|', out)  # the context set's names
    assert 'aeroplane' not in out
    assert 'boundary/internal_acc' in out
    for folder in ('gcn', '1x1'):
        checkpoint = load_local_checkpoint(work_dir / folder / 'iter_4.pth')
        assert checkpoint['meta']['iter'] == 4
        with Image.open(work_dir / folder / 'training_curves.png') as image:
            assert image.format == 'PNG'
    # the GCN's classifier has k x 1 and 1 x k kernels (k = 15), the baseline's
    # none: each folder holds its own model
    kernel_sizes = {
        folder: {max(v.shape[-2:]) for k, v in load_local_checkpoint(
            work_dir / folder / 'iter_4.pth')[
                'state_dict'].items() if k.startswith('decode_head')
            and v.ndim == 4}
        for folder in ('gcn', '1x1')}
    assert 15 in kernel_sizes['gcn'] and 15 not in kernel_sizes['1x1']
    for name in ('predictions.png', 'vrf.png'):
        with Image.open(work_dir / name) as image:
            assert image.format == 'PNG' and min(image.size) > 200
    summary = [line for line in out.splitlines() if line.startswith('GCN + BR')]
    assert len(summary) == 1
    assert re.match(
        r'GCN \+ BR \d+\.\d mIoU \| 1x1 \+ BR baseline \d+\.\d mIoU \| '
        r'gain [+-]\d+\.\d on 4 held-out context-set images \| valid '
        r'receptive field covers \d+% vs \d+% of the object', summary[0])
    for path in ('predictions.png', 'vrf.png', 'gcn/iter_4.pth',
                 '1x1/iter_4.pth'):
        assert str(Path('work_dirs/demo') / path) in summary[0]


@pytest.mark.slow
def test_short_demo_is_deterministic(short_demo):
    """A second run with the same seed logs the same losses and mIoU."""
    cwd, out = short_demo
    _run_demo(cwd, 'work_dirs/again')
    for folder in ('gcn', '1x1'):
        first = load_scalars(find_scalars_file(
            str(cwd / 'work_dirs/demo' / folder)))
        second = load_scalars(find_scalars_file(
            str(cwd / 'work_dirs/again' / folder)))
        assert first[0]['loss'] == second[0]['loss']
        assert first[1]['mIoU'] == second[1]['mIoU']


def _args(demo, tmp_path, *argv):
    return demo.parse_args(['--data-root', str(tmp_path), *argv])


def test_prepare_data_reuses_or_regenerates(tmp_path, capsys):
    demo = _load_demo_module()
    small = ['--num-train', '3', '--num-val', '2']
    root = demo.prepare_data(_args(demo, tmp_path, *small))
    marker = Path(root) / '.synthetic_demo_data.json'
    written = marker.stat().st_mtime_ns
    assert demo.prepare_data(_args(demo, tmp_path, *small)) == root
    assert marker.stat().st_mtime_ns == written
    assert 'using' in capsys.readouterr().out
    demo.prepare_data(_args(demo, tmp_path, '--num-train', '4', '--num-val', '2'))
    assert 'regenerating' in capsys.readouterr().out
    val = (Path(root) / 'ImageSets/Segmentation/val.txt').read_text().split()
    assert len(val) == 2
    # the control set goes through the same path, with its own generator
    control = demo.prepare_data(_args(demo, tmp_path / 'control', '--dataset',
                                      'control', *small))
    assert json.loads((Path(control) / '.synthetic_demo_data.json').read_text())[
        'generator'] == 'voc_aug'


def test_prepare_data_never_overwrites_other_data(tmp_path):
    demo = _load_demo_module()
    root = tmp_path / 'VOCdevkit' / 'VOC2012'
    root.mkdir(parents=True)
    (root / 'mine.txt').write_text('real data')
    with pytest.raises(FileExistsError):
        demo.prepare_data(_args(demo, tmp_path, '--num-train', '3'))
    assert (root / 'mine.txt').read_text() == 'real data'


@pytest.mark.slow
@pytest.mark.parametrize('dataset', ['context', 'control'])
def test_the_two_models_differ_only_in_the_classifier(tmp_path, dataset):
    demo = _load_demo_module()
    args = _args(demo, tmp_path, '--dataset', dataset, '--num-train', '2',
                 '--num-val', '1')
    data_root = demo.prepare_data(args)
    configs = {folder: demo.build_config(args, data_root, folder, head)
               for folder, _, head in demo.MODELS}
    gcn, base = configs['gcn'].model, configs['1x1'].model
    assert gcn.decode_head.classifier == 'gcn'
    assert base.decode_head.classifier == '1x1'
    assert gcn.decode_head.use_br and base.decode_head.use_br
    assert {**base.decode_head, 'classifier': 'gcn'} == dict(gcn.decode_head)
    assert base.backbone == gcn.backbone
    assert configs['gcn'].train_cfg == configs['1x1'].train_cfg


def test_colorize_mask_uses_the_palette_and_void_colour():
    palette = [(0, 0, 0), (128, 0, 0), (0, 128, 0)]
    mask = np.array([[0, 1], [2, 255]])
    rgb = colorize_mask(mask, palette)
    assert rgb.dtype == np.uint8 and rgb.shape == (2, 2, 3)
    assert rgb[0, 1].tolist() == [128, 0, 0]
    assert rgb[1, 0].tolist() == [0, 128, 0]
    assert rgb[1, 1].tolist() == [224, 224, 192]
    with pytest.raises(ValueError, match=r'\[3\]'):
        colorize_mask(np.array([[3]]), palette)


def test_prediction_grid_rejects_mismatched_sizes(tmp_path):
    row = GridRow(np.zeros((4, 5, 3), np.uint8), np.zeros((4, 5), int),
                  np.zeros((5, 4), int), 'x')
    with pytest.raises(ValueError, match="row 'x'"):
        save_prediction_grid([row], ['a'], [(0, 0, 0)],
                             str(tmp_path / 'g.png'))


def test_prediction_grid_of_images_of_different_sizes(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for height, width in ((30, 50), (41, 23)):
        gt = rng.integers(0, 3, (height, width))
        gt[0] = 255
        rows.append(GridRow(
            rng.integers(0, 256, (height, width, 3), dtype=np.uint8), gt,
            rng.integers(0, 3, (height, width)), f'{height}x{width}'))
    out = save_prediction_grid(rows, ['bg', 'a', 'b'],
                               [(0, 0, 0), (128, 0, 0), (0, 128, 0)],
                               str(tmp_path / 'sub' / 'grid.png'))
    assert Image.open(out).format == 'PNG'


def test_training_curves_from_a_scalars_file(tmp_path):
    run = tmp_path / '20240101_000000' / 'vis_data'
    run.mkdir(parents=True)
    records = [dict(lr=0.01, loss=2.1 - 0.1 * i, iter=i, step=i)
               for i in range(1, 11)]
    records.insert(5, dict(aAcc=80.0, mIoU=40.0, mAcc=50.0, step=5))
    records.append(dict(aAcc=90.0, mIoU=60.0, mAcc=70.0, step=10))
    (run / 'scalars.json').write_text(
        '\n'.join(json.dumps(r) for r in records) + '\n')
    scalars = find_scalars_file(str(tmp_path))
    train, val = load_scalars(scalars)
    assert len(train['loss']) == 10 and train['loss'][0] == (1, 2.0)
    assert val['mIoU'] == [(5, 40.0), (10, 60.0)]
    out = save_training_curves(scalars, str(tmp_path / 'curves.png'))
    assert Image.open(out).format == 'PNG'
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        find_scalars_file(str(tmp_path / 'nothing'))
