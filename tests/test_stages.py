"""Multi-stage training: miniatures of the real schedules (tiny backbone,
2 iterations a stage) on demo data made from the official download layouts
by the official converters; testing and server submissions of the result."""
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REPO, TINY_CONFIG, free_port, run_tool
from PIL import Image
from stages_helpers import TINY_OPTIONS, make_stage_data, to_cli

from mmseg_gcn.engine import load_local_checkpoint
from mmseg_gcn.engine.stages import (StageError, load_schedule,
                                     run_schedule)

CITYSCAPES = REPO / 'configs' / 'gcn' / 'gcn_r152-d32_cityscapes-2stage.py'
VOC = REPO / 'configs' / 'gcn' / 'gcn_r152-d32_voc12-3stage.py'
# demo Cityscapes frames are 64 x 128, demo VOC images at most 96 x 96
CITYSCAPES_OPTIONS = dict(TINY_OPTIONS,
                          **{'model.data_preprocessor.size': [64, 128]})
VOC_OPTIONS = dict(TINY_OPTIONS, **{'model.data_preprocessor.size': [96, 96]})


def weights(path: Path) -> dict:
    checkpoint = load_local_checkpoint(path)
    return checkpoint.get('state_dict', checkpoint)


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def train_iters(log: str) -> list:
    return [int(i) for i in re.findall(r'Iter\(train\) \[\s*(\d+)/\d+\]', log)]


@pytest.fixture(scope='module')
def stage_data(tmp_path_factory) -> Path:
    return make_stage_data(tmp_path_factory.mktemp('stages'))


@pytest.fixture(scope='module')
def cityscapes_run(stage_data, tmp_path_factory):
    """The two-stage Cityscapes schedule through tools/dist_train.sh, two
    processes."""
    work_dir = tmp_path_factory.mktemp('cityscapes') / 'work'
    result = run_tool(
        [str(REPO / 'tools' / 'dist_train.sh'), str(CITYSCAPES), '2',
         '--work-dir', str(work_dir), '--cfg-options',
         *to_cli(CITYSCAPES_OPTIONS)],
        cwd=stage_data, env={'PORT': str(free_port())})
    return work_dir, result.returncode, result.stdout + result.stderr


@pytest.mark.slow
def test_cityscapes_schedule_trains_both_stages(cityscapes_run):
    work_dir, returncode, log = cityscapes_run
    assert returncode == 0, log[-5000:]
    assert 'Distributed training: True' in log
    stage1, stage2 = (work_dir / 'stage1_coarse-fine', work_dir / 'stage2_fine')
    assert "stage 1/2 'coarse+fine': training" in log
    assert "stage 2/2 'fine': training" in log
    # stage 2 starts from stage 1's final weights, with a fresh schedule
    assert f'Load checkpoint from {stage1 / "final.pth"}' in log
    assert train_iters(log) == [1, 2, 1, 2]
    for stage in (stage1, stage2):
        marker = json.loads((stage / 'stage_done.json').read_text())
        assert marker['iter'] == 2
        final = load_local_checkpoint(stage / 'final.pth')
        assert final['meta']['dataset_meta']['classes'][0] == 'road'
        assert_same_weights(final['state_dict'],
                            weights(stage / 'iter_2.pth'))
    assert load_local_checkpoint(stage2 / 'iter_2.pth')['meta']['iter'] == 2


@pytest.mark.slow
def test_rerun_skips_finished_stages(cityscapes_run, stage_data):
    work_dir, returncode, _ = cityscapes_run
    assert returncode == 0
    finals = sorted(work_dir.glob('*/final.pth'))
    before = [p.stat().st_mtime_ns for p in finals]
    result = run_tool([str(REPO / 'tools' / 'train.py'),
                       str(CITYSCAPES), '--work-dir', str(work_dir)],
                      cwd=stage_data)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "stage 1/2 'coarse+fine': finished earlier, skipped" in log
    assert "stage 2/2 'fine': finished earlier, skipped" in log
    assert train_iters(log) == []
    assert [p.stat().st_mtime_ns for p in finals] == before


@pytest.mark.slow
def test_voc_schedule_resumes_a_killed_stage(stage_data, tmp_path):
    """Stage 2 of 3 is killed (SIGKILL) after its second iteration, before
    that iteration's checkpoint; the rerun skips stage 1, resumes stage 2 at
    iteration 1 and runs stage 3."""
    work_dir, record = tmp_path / 'work', tmp_path / 'record'
    hooks = [dict(type='RecordStartHook', out_dir=str(record))]
    kill = dict(type='KillAtIterHook', stage_folder='stage2_sbd-voc',
                at_iter=2)
    helper = str(REPO / 'tests' / 'stages_helpers.py')

    def run(custom_hooks):
        # no validation (the Cityscapes run validates): 2 < val_begin
        options = dict(VOC_OPTIONS, custom_hooks=custom_hooks,
                       **{'train_cfg.val_begin': 3})
        return subprocess.run(
            [sys.executable, helper, str(VOC), str(work_dir),
             json.dumps(options)],
            cwd=stage_data, capture_output=True, text=True, timeout=300)

    killed = run(hooks + [kill])
    log = killed.stdout + killed.stderr
    assert killed.returncode == -9, log[-5000:]
    stage1, stage2, stage3 = (work_dir / 'stage1_coco-sbd-voc',
                              work_dir / 'stage2_sbd-voc',
                              work_dir / 'stage3_voc')
    assert (stage1 / 'stage_done.json').is_file()
    assert not (stage2 / 'stage_done.json').exists()
    assert (stage2 / 'last_checkpoint').read_text().endswith('iter_1.pth')

    resumed = run(hooks)
    log = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, log[-5000:]
    assert "stage 1/3 'coco+sbd+voc': finished earlier, skipped" in log
    assert "stage 2/3 'sbd+voc': training" in log and 'resuming from' in log
    assert 'resumed epoch: 0, iter: 1' in log
    assert train_iters(log) == [2, 1, 2]  # stage 2 from 1 to 2, stage 3
    for stage in (stage2, stage3):
        assert json.loads((stage / 'stage_done.json').read_text())['iter'] == 2

    # each stage starts from the previous one's final weights
    assert_same_weights(weights(record / 'stage2_sbd-voc_iter0.pth'),
                        weights(stage1 / 'final.pth'))
    assert_same_weights(weights(record / 'stage3_voc_iter0.pth'),
                        weights(stage2 / 'final.pth'))
    # the resumed stage 2 continued from its iteration-1 checkpoint
    assert_same_weights(weights(record / 'stage2_sbd-voc_iter1.pth'),
                        weights(stage2 / 'iter_1.pth'))
    # the stages trained on their own data: COCO (3 demo images with VOC
    # classes) + VOC train (3) + aug (2), then train + aug, then train
    sizes = [json.loads((record / f'{s.name}.json').read_text())['dataset_len']
             for s in (stage1, stage2, stage3)]
    assert sizes == [8, 5, 3]
    final = load_local_checkpoint(stage3 / 'final.pth')
    assert final['meta']['dataset_meta']['classes'][1] == 'aeroplane'
    assert final['meta']['stage']['name'] == 'voc'


@pytest.fixture
def finished_cityscapes(cityscapes_run, tmp_path, monkeypatch, stage_data):
    """A copy of the finished Cityscapes work dir whose stage 2 is not yet
    run, from the data folder."""
    work_dir, returncode, _ = cityscapes_run
    assert returncode == 0
    copy = tmp_path / 'work'
    shutil.copytree(work_dir / 'stage1_coarse-fine',
                    copy / 'stage1_coarse-fine')
    monkeypatch.chdir(stage_data)
    return copy


@pytest.mark.slow
def test_missing_previous_weights_stop_with_their_name(finished_cityscapes):
    final = finished_cityscapes / 'stage1_coarse-fine' / 'final.pth'
    final.unlink()
    with pytest.raises(StageError) as error:
        run_schedule(str(CITYSCAPES), work_dir=str(finished_cityscapes),
                     cfg_options=CITYSCAPES_OPTIONS)
    message = str(error.value)
    assert str(final) in message and 'missing' in message
    assert 'stage_done.json' in message  # how to write it again
    assert not (finished_cityscapes / 'stage2_fine').exists()


@pytest.mark.slow
def test_corrupt_previous_weights_stop_with_their_name(finished_cityscapes):
    final = finished_cityscapes / 'stage1_coarse-fine' / 'final.pth'
    final.write_bytes(final.read_bytes()[:-1000])  # truncated
    with pytest.raises(StageError) as error:
        run_schedule(str(CITYSCAPES), work_dir=str(finished_cityscapes),
                     cfg_options=CITYSCAPES_OPTIONS)
    assert str(final) in str(error.value) and 'corrupt' in str(error.value)


class _RunsCode:
    """Unpickling it calls ``print``: code a checkpoint must not run."""

    def __reduce__(self):
        return (print, ('unpickling ran code',))


@pytest.mark.slow
def test_unsafe_previous_weights_are_refused(finished_cityscapes):
    stage1 = finished_cityscapes / 'stage1_coarse-fine'
    torch.save(dict(state_dict={}, payload=_RunsCode()), stage1 / 'final.pth')
    marker = json.loads((stage1 / 'stage_done.json').read_text())
    marker['sha256'] = hashlib.sha256(
        (stage1 / 'final.pth').read_bytes()).hexdigest()
    (stage1 / 'stage_done.json').write_text(json.dumps(marker))
    with pytest.raises(StageError) as error:
        run_schedule(str(CITYSCAPES), work_dir=str(finished_cityscapes),
                     cfg_options=CITYSCAPES_OPTIONS)
    assert str(stage1 / 'final.pth') in str(error.value)
    assert 'builtins.print' in str(error.value)


def test_schedule_errors_name_the_problem(tmp_path):
    schedule = tmp_path / 'schedule.py'
    schedule.write_text("stages = [dict(name='a', config='./missing.py')]")
    with pytest.raises(StageError, match='missing.py'):
        load_schedule(str(schedule))
    schedule.write_text('stages = []')
    with pytest.raises(StageError, match='non-empty list'):
        load_schedule(str(schedule))
    stages = load_schedule(str(CITYSCAPES))
    assert [s.name for s in stages] == ['coarse+fine', 'fine']
    assert stages[0].work_dir.endswith(
        'work_dirs/gcn_r152-d32_cityscapes-2stage/stage1_coarse-fine')


def test_missing_data_of_a_later_stage_stops_before_training(
        stage_data, tmp_path, monkeypatch):
    """Stage 1 of the VOC schedule needs the COCO labels: a missing folder is
    reported before any stage trains."""
    monkeypatch.chdir(stage_data)
    with pytest.raises(StageError) as error:
        run_schedule(str(VOC), work_dir=str(tmp_path / 'work'),
                     cfg_options=dict(VOC_OPTIONS, **{
                         'train_dataloader.dataset.datasets.0.data_root':
                         'data/no-coco'}))
    assert "stage 1/3 'coco+sbd+voc'" in str(error.value)
    assert 'data/no-coco' in str(error.value)
    assert not (tmp_path / 'work').exists()



def test_misspelt_override_stops_before_training(stage_data, tmp_path,
                                                monkeypatch):
    """--cfg-options apply to every stage: a key no stage config has is
    refused, naming the stage, before the first stage trains."""
    monkeypatch.chdir(stage_data)
    with pytest.raises(StageError) as error:
        run_schedule(str(CITYSCAPES), work_dir=str(tmp_path / 'work'),
                     cfg_options=dict(CITYSCAPES_OPTIONS,
                                      **{'train_cfg.max_iterss': 1}))
    assert "stage 1/2 'coarse+fine'" in str(error.value)
    assert 'max_iterss' in str(error.value)
    assert not (tmp_path / 'work').exists()


@pytest.mark.slow
def test_lost_final_weights_are_rebuilt_from_the_last_checkpoint(
        cityscapes_run, finished_cityscapes, capsys):
    """The fix the errors suggest: delete final.pth and stage_done.json; the
    stage's last checkpoint is at its end, so no training is needed."""
    work_dir, _, _ = cityscapes_run
    shutil.copytree(work_dir / 'stage2_fine', finished_cityscapes / 'stage2_fine')
    stage1 = finished_cityscapes / 'stage1_coarse-fine'
    (stage1 / 'final.pth').unlink()
    (stage1 / 'stage_done.json').unlink()
    run_schedule(str(CITYSCAPES), work_dir=str(finished_cityscapes),
                 cfg_options=CITYSCAPES_OPTIONS)
    out = capsys.readouterr().out
    assert "stage 1/2 'coarse+fine': training had ended at" in out
    assert "stage 2/2 'fine': finished earlier, skipped" in out
    assert_same_weights(weights(stage1 / 'final.pth'),
                        weights(stage1 / 'iter_2.pth'))
    assert json.loads((stage1 / 'stage_done.json').read_text())['iter'] == 2


@pytest.mark.slow
def test_multi_scale_flip_test_of_the_final_model(cityscapes_run, stage_data,
                                                  tmp_path, monkeypatch):
    """The Cityscapes multi-scale + flip test config (sliding windows at
    each scale) evaluates the schedule's final weights."""
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    from mmseg_gcn.engine import load_run_config
    work_dir, returncode, _ = cityscapes_run
    assert returncode == 0
    monkeypatch.chdir(stage_data)
    options = {f'model.module.{k[len("model."):]}': v
               for k, v in CITYSCAPES_OPTIONS.items()
               if k.startswith('model.backbone') or k.startswith(
                   'model.decode_head')}
    options.update({'test_dataloader.num_workers': 0,
                    'test_dataloader.persistent_workers': False})
    cfg = load_run_config(
        str(REPO / 'configs' / 'gcn' /
            'gcn_r152-d32_cityscapes-2stage_test-ms-flip.py'),
        work_dir=str(tmp_path), cfg_options=options,
        dataloaders=('test_dataloader', ))
    cfg.load_from = str(work_dir / 'stage2_fine' / 'final.pth')
    with DefaultScope.overwrite_default_scope('mmseg'):
        runner = Runner.from_cfg(cfg)
        metrics = runner.test()
    assert 0 <= metrics['mIoU'] <= 100
    assert_same_weights(runner.model.module.state_dict(),
                        weights(work_dir / 'stage2_fine' / 'final.pth'))



@pytest.mark.slow
def test_test_py_on_the_schedule_tests_its_last_stage(cityscapes_run,
                                                      stage_data, tmp_path):
    """``tools/test.py SCHEDULE CKPT``, the config the user trained with,
    tests the config of the schedule's last stage (it ended in a bare
    ``KeyError: 'model'``)."""
    work_dir, returncode, _ = cityscapes_run
    assert returncode == 0
    options = {k: v for k, v in CITYSCAPES_OPTIONS.items()
               if k.startswith(('model.', 'test_dataloader.'))}
    result = run_tool(
        [str(REPO / 'tools' / 'test.py'), str(CITYSCAPES),
         str(work_dir / 'stage2_fine' / 'final.pth'), '--work-dir',
         str(tmp_path), '--cfg-options', *to_cli(options)], cwd=stage_data)
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert (f'{CITYSCAPES} is a multi-stage schedule; using the config of '
            "its last stage, stage 2/2 'fine': ") in log
    assert 'mIoU' in log

@pytest.fixture
def copied_cityscapes(cityscapes_run, tmp_path, monkeypatch, stage_data):
    """A copy of the whole finished Cityscapes work dir (its
    ``last_checkpoint`` files still name the original's checkpoints), whose
    stage 1 lost its final weights; run from the data folder."""
    work_dir, returncode, _ = cityscapes_run
    assert returncode == 0
    copy = tmp_path / 'copy'
    shutil.copytree(work_dir, copy)
    stage1 = copy / 'stage1_coarse-fine'
    (stage1 / 'final.pth').unlink()
    (stage1 / 'stage_done.json').unlink()
    monkeypatch.chdir(stage_data)
    return work_dir, copy


@pytest.mark.slow
def test_copied_work_dir_uses_only_its_own_checkpoints(copied_cityscapes,
                                                       capsys):
    """A copy's last_checkpoint names the original's iter_2.pth: the copy's
    own iter_2.pth is used, and without one the run stops and says why."""
    original, copy = copied_cityscapes
    stage1 = copy / 'stage1_coarse-fine'
    pointer = stage1 / 'last_checkpoint'
    original_iter2 = original / 'stage1_coarse-fine' / 'iter_2.pth'
    assert pointer.read_text() == str(original_iter2)
    # the copy's iter_2.pth differs from the original's: another intact
    # iteration-2 checkpoint of the same model
    other = original / 'stage2_fine' / 'iter_2.pth'
    shutil.copy(other, stage1 / 'iter_2.pth')
    assert weights(other).keys() == weights(original_iter2).keys()

    run_schedule(str(CITYSCAPES), work_dir=str(copy),
                 cfg_options=CITYSCAPES_OPTIONS)
    assert_same_weights(weights(stage1 / 'final.pth'), weights(other))
    out = capsys.readouterr().out
    assert f'names {original_iter2}, outside {stage1}' in out
    assert "stage 1/2 'coarse+fine': training had ended at" in out

    # without a namesake in the copy, the original is not used either
    for name in ('final.pth', 'stage_done.json', 'iter_2.pth'):
        (stage1 / name).unlink()
    with pytest.raises(StageError) as error:
        run_schedule(str(CITYSCAPES), work_dir=str(copy),
                     cfg_options=CITYSCAPES_OPTIONS)
    message = str(error.value)
    assert f'{pointer} names {original_iter2}, which is outside' in message
    assert f'delete {pointer}' in message  # how to fix it
    assert not (stage1 / 'final.pth').exists()


@pytest.mark.slow
def test_custom_checkpoint_names_give_the_iteration_from_the_checkpoint(
        copied_cityscapes, capsys):
    """With CheckpointHook(filename_tmpl='ckpt_{}.pth') the last checkpoint
    is at the stage's end: its final weights are written, no training."""
    _, copy = copied_cityscapes
    stage1 = copy / 'stage1_coarse-fine'
    for i in (1, 2):
        (stage1 / f'iter_{i}.pth').rename(stage1 / f'ckpt_{i}.pth')
    (stage1 / 'last_checkpoint').write_text(str(stage1 / 'ckpt_2.pth'))
    run_schedule(str(CITYSCAPES), work_dir=str(copy),
                 cfg_options=dict(CITYSCAPES_OPTIONS, **{
                     'default_hooks.checkpoint.filename_tmpl': 'ckpt_{}.pth'
                 }))
    out = capsys.readouterr().out
    assert (f"stage 1/2 'coarse+fine': training had ended at "
            f"{stage1 / 'ckpt_2.pth'}") in out
    assert train_iters(out) == []
    assert_same_weights(weights(stage1 / 'final.pth'),
                        weights(stage1 / 'ckpt_2.pth'))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-1000])


@pytest.mark.slow
def test_truncated_last_checkpoint_gives_way_to_the_newest_intact_one(
        copied_cityscapes, capsys):
    _, copy = copied_cityscapes
    stage1 = copy / 'stage1_coarse-fine'
    (stage1 / 'last_checkpoint').write_text(str(stage1 / 'iter_2.pth'))
    truncate(stage1 / 'iter_2.pth')
    run_schedule(str(CITYSCAPES), work_dir=str(copy),
                 cfg_options=CITYSCAPES_OPTIONS)
    out = capsys.readouterr().out
    assert f"cannot resume from {stage1 / 'iter_2.pth'}" in out
    assert (f"Resuming from the newest intact checkpoint in {stage1} "
            f"instead, {stage1 / 'iter_1.pth'} (iteration 1)") in out
    assert train_iters(out) == [2]  # iteration 2 again, from iteration 1
    assert json.loads((stage1 / 'stage_done.json').read_text())['iter'] == 2
    assert_same_weights(weights(stage1 / 'final.pth'),
                        weights(stage1 / 'iter_2.pth'))


def schedule_error(work_dir: Path, stage_data: Path) -> str:
    """The Cityscapes schedule in ``work_dir`` through tools/train.py: it must
    stop with exit code 1 and a one-line error, no traceback; returns the
    line."""
    result = run_tool(
        [str(REPO / 'tools' / 'train.py'), str(CITYSCAPES), '--work-dir',
         str(work_dir), '--cfg-options', *to_cli(CITYSCAPES_OPTIONS)],
        cwd=stage_data)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    assert 'Traceback' not in result.stderr, result.stderr
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.slow
def test_train_reports_missing_previous_weights_in_one_line(
        finished_cityscapes, stage_data):
    final = finished_cityscapes / 'stage1_coarse-fine' / 'final.pth'
    final.unlink()
    error = schedule_error(finished_cityscapes, stage_data)
    assert error.startswith(
        "error: The final weights of stage 1/2 'coarse+fine', "
        f'{final}, are missing; the next stage starts from them.')
    assert 'stage_done.json' in error  # how to write it again
    assert not (finished_cityscapes / 'stage2_fine').exists()


@pytest.mark.slow
def test_train_reports_an_unusable_checkpoint_in_one_line(copied_cityscapes,
                                                         stage_data):
    """No intact checkpoint left: tools/train.py stops with a one-line
    error."""
    _, copy = copied_cityscapes
    stage1 = copy / 'stage1_coarse-fine'
    (stage1 / 'last_checkpoint').write_text(str(stage1 / 'iter_2.pth'))
    for i in (1, 2):
        truncate(stage1 / f'iter_{i}.pth')
    error = schedule_error(copy, stage_data)
    assert error.startswith(
        "error: stage 1/2 'coarse+fine' was interrupted: Cannot resume from "
        f"{stage1 / 'iter_2.pth'}")
    assert 'no other intact checkpoint' in error
    assert f"delete {stage1 / 'last_checkpoint'}" in error


@pytest.mark.slow
def test_train_resume_uses_only_its_work_dir(trained_work_dir, demo_data,
                                             tmp_path):
    """tools/train.py --resume in a copied work dir whose own checkpoint is
    gone does not resume from the original's."""
    copy = tmp_path / 'copy'
    shutil.copytree(trained_work_dir, copy)
    (copy / 'iter_2.pth').unlink()
    result = run_tool([str(REPO / 'tools' / 'train.py'), str(TINY_CONFIG),
                       '--work-dir', str(copy), '--resume'], cwd=demo_data)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    assert 'Traceback' not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(
        f"error: {copy / 'last_checkpoint'} names "
        f"{trained_work_dir / 'iter_2.pth'}, which is outside {copy}")


@pytest.mark.slow
def test_format_only_writes_cityscapes_label_ids_the_official_evaluator_scores(
        cityscapes_run, stage_data, tmp_path):
    """``tools/test.py --format-only --out DIR`` on the Cityscapes schedule
    writes the server's label-id PNGs, one per image, named after it; they
    are the train-id predictions mapped by ``cityscapesscripts``' own table,
    and its own evaluator gives the per-class IoU the package's metric
    gives."""
    from cityscapesscripts.helpers.labels import labels, trainId2label
    from mmseg.evaluation.metrics import IoUMetric

    from mmseg_gcn.evaluation import official_class_iou

    work_dir, returncode, _ = cityscapes_run
    assert returncode == 0
    options = {k: v for k, v in CITYSCAPES_OPTIONS.items()
               if k.startswith(('model.', 'test_dataloader.'))}
    command = [str(REPO / 'tools' / 'test.py'), str(CITYSCAPES),
               str(work_dir / 'stage2_fine' / 'final.pth'), '--cfg-options',
               *to_cli(options)]
    for name, extra in (('train_ids', []), ('server', ['--format-only'])):
        result = run_tool(command + ['--out', str(tmp_path / name),
                                     '--work-dir', str(tmp_path / f'w{name}'),
                                     *extra], cwd=stage_data)
        assert result.returncode == 0, result.stderr[-3000:]
    gt_dir = stage_data / 'data' / 'cityscapes' / 'gtFine' / 'val'
    images = sorted((stage_data / 'data' / 'cityscapes' / 'leftImg8bit' /
                     'val').rglob('*_leftImg8bit.png'))
    written = sorted((tmp_path / 'server').glob('*.png'))
    assert [p.name for p in written] == [p.name for p in images]
    to_label_id = np.zeros(256, np.uint8)
    for train_id, label in trainId2label.items():
        if 0 <= train_id < 255:
            to_label_id[train_id] = label.id
    ours = IoUMetric()
    ours.dataset_meta = dict(classes=[trainId2label[t].name
                                      for t in range(19)])
    predictions, ground_truths = [], []
    for path in written:
        train_ids = np.array(Image.open(tmp_path / 'train_ids' / path.name))
        label_ids = np.array(Image.open(path))
        assert np.array_equal(label_ids, to_label_id[train_ids])
        stem = path.name.replace('_leftImg8bit.png', '')
        city = stem.split('_')[0]
        ground_truths.append(str(gt_dir / city / f'{stem}_gtFine_labelIds.png'))
        predictions.append(str(path))
        gt_train_ids = np.array(Image.open(
            gt_dir / city / f'{stem}_gtFine_labelTrainIds.png'))
        ours.results.append(ours.intersect_and_union(
            torch.from_numpy(train_ids).long(),
            torch.from_numpy(gt_train_ids).long(), 19, 255))
    area = [sum(r[i] for r in ours.results) for i in range(4)]
    iou = (100 * area[0] / area[1]).numpy()
    official = official_class_iou(predictions, ground_truths)
    assert list(official) == [trainId2label[t].name for t in range(19)]
    evaluated = [label for label in labels if label.trainId in range(19)]
    for label in evaluated:
        ours_iou, theirs = iou[label.trainId], official[label.name]
        assert (np.isnan(ours_iou) and np.isnan(theirs)) or \
            ours_iou == pytest.approx(theirs, abs=1e-4), label.name
    print('class IoU, package | official:', {
        label.name: (round(float(iou[label.trainId]), 2),
                     round(official[label.name], 2))
        for label in evaluated})
