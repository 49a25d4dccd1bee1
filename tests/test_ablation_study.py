"""The ablation study (tools/analysis/ablation_study.py): a --quick study end
to end with real data and the real Runner, resuming, and the table maths."""
import csv
import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import REPO, run_tool
from PIL import Image

from mmseg_gcn.analysis.ablation import (AblationError, StudyProgress,
                                         Variant, format_markdown,
                                         load_result, parse_variant,
                                         select_variants, summarize,
                                         summarize_runs)
from mmseg_gcn.paper_numbers import TABLE5_REGION_ACCURACY, VOC_VAL_MIOU
from mmseg_gcn.visualization import find_scalars_file, load_scalars

TOOL = str(REPO / 'tools' / 'analysis' / 'ablation_study.py')
QUICK_RUNS = [(variant, seed) for seed in (0, 1)
              for variant in ('1x1', 'gcn-k15')]


def _run_quick(cwd: Path, work_dir: Path):
    result = run_tool([TOOL, '--quick', '--work-dir', str(work_dir)], cwd=cwd)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout


def _result(work_dir: Path, variant: str, seed: int) -> dict:
    path = work_dir / 'runs' / 'context' / variant / f'seed{seed}' / 'result.json'
    return json.loads(path.read_text())


def _table_row(markdown: str, label: str) -> list:
    rows = [line for line in markdown.splitlines()
            if line.startswith(f'| {label} |')]
    assert rows, f'no row {label!r} in\n{markdown}'
    return [cell.strip() for cell in rows[0].strip('|').split('|')]


@pytest.fixture(scope='module')
def quick_study(tmp_path_factory):
    """One --quick study (2 variants x 2 seeds, tiny data, 2 iterations);
    (cwd, work dir, stdout)."""
    cwd = tmp_path_factory.mktemp('ablation')
    work_dir = cwd / 'study'
    return cwd, work_dir, _run_quick(cwd, work_dir)


@pytest.mark.slow
def test_quick_study_writes_table_plot_and_raw_results(quick_study):
    _, work_dir, out = quick_study
    # progress with ETA after each run, the last one complete
    assert re.search(r'\[#+\] 4/4 runs \| elapsed \S+ \| ETA 0s', out)
    assert re.search(r'\] 1/4 runs .*ETA \d', out)
    markdown = (work_dir / 'ablation_context.md').read_text()
    assert markdown in out  # printed as well
    assert '### Table 1: GCN kernel size k' in markdown
    for variant, label in (('1x1', '1x1 (base)'), ('gcn-k15', 'GCN k=15')):
        runs = [_result(work_dir, variant, seed) for seed in (0, 1)]
        mious = [r['metrics']['miou'] for r in runs]
        for run in runs:
            for key in ('miou', 'boundary_acc', 'internal_acc'):
                assert 0 <= run['metrics'][key] <= 100
            assert run['wall_time_s'] > 0
            assert run['settings']['iters'] == 2
        cells = _table_row(markdown, label)
        mean, std = map(float, re.fullmatch(r'(\S+) ± (\S+)', cells[1]).groups())
        assert 0 <= mean <= 100
        assert mean == pytest.approx(sum(mious) / 2, abs=0.051)
        assert std == pytest.approx(abs(mious[0] - mious[1]) / 2 ** 0.5,
                                    abs=0.051)
        assert cells[2] == f'{min(mious):.1f}..{max(mious):.1f}'
        assert cells[3] == '2/2'
        assert cells[5] == f"{runs[0]['head_params']:,}"
        assert cells[-1] == f'{VOC_VAL_MIOU[variant]:.1f}'
    # a 15 x 15 GCN has more parameters than a 1x1 conv
    assert (_result(work_dir, 'gcn-k15', 0)['classifier_params'] >
            _result(work_dir, '1x1', 0)['classifier_params'] * 10)
    with Image.open(work_dir / 'ablation_context.png') as image:
        image.verify()
        assert image.format == 'PNG' and min(image.size) > 300
    raw = json.loads((work_dir / 'ablation_context.json').read_text())
    assert len(raw['runs']) == 4 and set(raw['summary']) == {'1x1', 'gcn-k15'}
    with open(work_dir / 'ablation_context.csv', newline='') as f:
        rows = list(csv.DictReader(f))
    assert {(r['variant'], int(r['seed'])) for r in rows} == set(QUICK_RUNS)
    # seeds differ in data and initialisation
    losses = [load_scalars(find_scalars_file(str(
        work_dir / 'runs' / 'context' / 'gcn-k15' / f'seed{seed}')))[0]['loss']
        for seed in (0, 1)]
    assert losses[0] != losses[1]
    # one data set per seed, in the work dir
    for seed in (0, 1):
        val = (work_dir / 'data' / f'context-seed{seed}' / 'VOCdevkit' /
               'VOC2012' / 'ImageSets' / 'Segmentation' / 'val.txt')
        assert len(val.read_text().split()) == 8


@pytest.mark.slow
def test_rerun_skips_finished_runs_and_restarts_a_cut_off_one(
        quick_study, tmp_path):
    cwd, first_dir, _ = quick_study
    work_dir = tmp_path / 'study'
    shutil.copytree(first_dir, work_dir)
    # gcn-k15 seed 1 (the last run) was cut off: no result, a stray file
    cut = work_dir / 'runs' / 'context' / 'gcn-k15' / 'seed1'
    before = _result(work_dir, 'gcn-k15', 1)
    losses_before = load_scalars(find_scalars_file(str(cut)))[0]['loss']
    (cut / 'result.json').unlink()
    (cut / 'iter_2.pth').write_bytes(b'partial')
    finished = {run: sorted(p.name for p in (
        work_dir / 'runs' / 'context' / run[0] / f'seed{run[1]}').iterdir())
        for run in QUICK_RUNS[:3]}

    out = _run_quick(cwd, work_dir)
    assert '3 finished earlier (skipped), 1 to train' in out
    assert 'gcn-k15 seed 1: an earlier attempt was cut off' in out
    assert 'trained now: 1, finished earlier (skipped): 3' in out
    assert not (cut / 'iter_2.pth').exists()
    # trained alone in a fresh process, it gives what it gave after the
    # other runs: no state leaks from one run into the next
    assert _result(work_dir, 'gcn-k15', 1)['metrics'] == before['metrics']
    losses = load_scalars(find_scalars_file(str(cut)))[0]['loss']
    assert len(losses) == 2 and losses == losses_before
    for run, names in finished.items():  # the others were not retrained
        folder = work_dir / 'runs' / 'context' / run[0] / f'seed{run[1]}'
        assert sorted(p.name for p in folder.iterdir()) == names


@pytest.mark.slow
def test_results_of_other_settings_are_refused(quick_study):
    _, work_dir, _ = quick_study
    path = work_dir / 'runs' / 'context' / '1x1' / 'seed0' / 'result.json'
    settings = _result(work_dir, '1x1', 0)['settings']
    result, why = load_result(str(path), settings)
    assert result is not None and why == ''
    with pytest.raises(AblationError, match=r'iters: recorded 2, now 1500'):
        load_result(str(path), dict(settings, iters=1500))


@pytest.mark.slow
def test_unusable_results_are_trained_again(quick_study, tmp_path):
    _, work_dir, _ = quick_study
    good = _result(work_dir, '1x1', 0)
    path = tmp_path / 'result.json'
    assert load_result(str(path), good['settings']) == (None, 'no result yet')
    path.write_text('{"format": 1, "metr')
    result, why = load_result(str(path), good['settings'])
    assert result is None and 'unusable' in why and str(path) in why
    bad = dict(good, metrics=dict(good['metrics'], miou=250.0))
    path.write_text(json.dumps(bad))
    result, why = load_result(str(path), good['settings'])
    assert result is None and 'miou' in why


def _fake_result(variant: str, seed: int, miou: float) -> dict:
    return dict(settings=dict(variant=variant, seed=seed),
                metrics=dict(miou=miou, boundary_acc=miou - 10,
                             internal_acc=miou + 10),
                head_params=1000, classifier_params=100, wall_time_s=2.0)


def test_summary_over_seeds():
    s = summarize([74.0, 70.0, 72.0])
    assert (s.mean, s.min, s.max, s.n) == (72.0, 70.0, 74.0, 3)
    assert s.std == pytest.approx(2.0)  # sample std (n - 1), not 1.63
    assert s.format() == '72.0 ± 2.0'
    one = summarize([5.0])
    assert one.std is None and one.format() == '5.0'
    with pytest.raises(ValueError):
        summarize([])


def test_markdown_table_from_results():
    results = [_fake_result('gcn-k3', 1, 60.0), _fake_result('1x1', 0, 40.0),
               _fake_result('gcn-k3', 0, 64.0), _fake_result('1x1', 1, 44.0)]
    summaries = summarize_runs(results)
    assert summaries['gcn-k3'].seeds == [0, 1]
    assert summaries['gcn-k3'].boundary_acc.mean == pytest.approx(52.0)
    variants = select_variants(['1'])
    markdown = format_markdown(summaries, variants, ['1'], ['# header'], 2)
    base = _table_row(markdown, '1x1 (base)')
    assert base[1:5] == ['42.0 ± 2.8', '40.0..44.0', '2/2', '100']
    assert base[6:] == ['32.0 ± 2.8', '52.0 ± 2.8',
                        f"{VOC_VAL_MIOU['1x1']:.1f}"]
    assert _table_row(markdown, 'GCN k=3')[1] == '62.0 ± 2.8'
    assert _table_row(markdown, 'GCN k=15')[1:4] == ['–', '–', '0/2']
    table5 = format_markdown(summaries, select_variants(['5']), ['5'], [],
                             2)
    assert '### Table 5' in table5 and '### Table 1' not in table5
    assert _table_row(table5, '1x1 (base)')[-3:] == [
        f'{paper:.1f}' for paper in (VOC_VAL_MIOU['1x1'],
                                     *TABLE5_REGION_ACCURACY['1x1'])]


def test_progress_eta_from_trained_runs():
    now = [100.0]
    progress = StudyProgress(6, width=6, clock=lambda: now[0])
    progress.skipped = 2
    assert 'ETA ? ' in progress.line()
    progress.times += [10.0, 30.0]
    now[0] = 140.0
    assert progress.eta() == pytest.approx(40.0)  # 2 left x 20 s
    assert progress.line() == ('[####--] 4/6 runs | elapsed 40s | ETA 40s '
                               '(20 s/run)')


def test_variant_names():
    for name in ('1x1', '1x1-br', 'gcn-k15', 'conv-k3', 'stack-k11-br'):
        assert parse_variant(name).name == name
    assert parse_variant('stack-k7') == Variant('stack', 7, False)
    assert parse_variant('gcn-k15-br').head_overrides() == dict(
        classifier='gcn', use_br=True, kernel_size=15)
    for bad in ('gcn', 'gcn-k4', 'gcn-k1', 'conv-k7-BR', 'fcn-k3', '1x1-k3'):
        with pytest.raises(ValueError, match='variant'):
            parse_variant(bad)
    names = [v.name for v in select_variants(['1', '5'])]
    assert names[:2] == ['1x1', 'gcn-k3'] and len(names) == len(set(names))
    assert set(names) >= {'1x1-br', 'gcn-k15-br'}
    assert len(select_variants(['1', '3', '5'])) == 18


def _load_tool():
    spec = importlib.util.spec_from_file_location('ablation_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('argv, message', [
    (['--variants', 'gcn-k4'], 'k must be odd'),
    (['--variants', 'gcn15'], 'unknown variant'),
    (['--seeds', '0', '0'], 'lists a seed twice'),
    (['--seeds', '-1'], 'must be >= 0'),
    (['--iters', '0'], '--iters must be >= 1'),
    (['--tables', '2'], 'invalid choice'),
])
def test_bad_command_lines_are_refused(argv, message, capsys):
    tool = _load_tool()
    with pytest.raises(SystemExit) as exit_info:
        tool.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_command_line_defaults():
    tool = _load_tool()
    full = tool.parse_args([])
    assert len(full.variants) == 18 and full.seeds == [0, 1, 2]
    assert full.iters is None and full.work_dir == 'work_dirs/ablation'
    quick = tool.parse_args(['--quick'])
    assert [v.name for v in quick.variants] == ['1x1', 'gcn-k15']
    assert (quick.seeds, quick.iters) == ([0, 1], 2)
    chosen = tool.parse_args(['--tables', '5', '--variants', 'gcn-k9'])
    assert [v.name for v in chosen.variants] == [
        '1x1', '1x1-br', 'gcn-k15', 'gcn-k15-br', 'gcn-k9']
