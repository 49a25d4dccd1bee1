"""Checkpoints are written atomically: a full disk during a checkpoint is one
error line and leaves the previous checkpoint loadable (``--resume``
continues from it); a process killed while writing leaves the previous
checkpoint intact; wall-time checkpoints replace each other."""
import errno
import subprocess
import uuid

import pytest
from conftest import run_tool
from mmengine.config import Config
from test_preemption import HELPERS, TRAIN, losses, write_config

from mmseg_gcn.engine import load_local_checkpoint
from mmseg_gcn.engine.checkpoint_hook import (SAFE_HOOK_TYPE,
                                              use_safe_checkpoint_hook)
from mmseg_gcn.engine.checkpoint_writing import (CheckpointWriteError,
                                                 describe_write_failure,
                                                 remove_stale_temp_files,
                                                 save_atomically)

KEEP_ONE = ['--cfg-options', 'default_hooks.checkpoint.max_keep_ckpts=1']


@pytest.fixture
def small_disk(tmp_path):
    """An 8 MiB tmpfs (a checkpoint of the tiny model is 1.6 MB)."""
    disk = tmp_path / f'disk-{uuid.uuid4().hex[:6]}'
    disk.mkdir()
    mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=8m',
                              'tmpfs', str(disk)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip('a full disk needs a small tmpfs, and mounting one is '
                    f'not permitted here: {mounted.stderr.strip()}')
    yield disk
    subprocess.run(['umount', '-l', str(disk)], check=False)


def test_a_full_disk_is_one_error_and_resume_continues(tmp_path, demo_data,
                                                       small_disk):
    """Another job fills the disk after the checkpoint of iteration 1: the
    checkpoint of iteration 2 fails with one line naming it, without a
    traceback or a partial file; iteration 1's loads and --resume continues
    from it."""
    filler = small_disk / 'other_job.bin'
    config = write_config(tmp_path / 'full.py', 3, 1, [
        dict(type='FillDiskAfterIterHook', at_iter=1, path=str(filler),
             leave_bytes=500_000)])
    work_dir = small_disk / 'work'
    failed = run_tool([TRAIN, config, '--work-dir', str(work_dir)],
                      cwd=demo_data, env=HELPERS)
    assert failed.returncode == 1, (failed.stdout + failed.stderr)[-4000:]
    assert 'Traceback' not in failed.stderr
    error = [line for line in failed.stderr.splitlines()
             if line.startswith('error:')]
    assert len(error) == 1, failed.stderr[-3000:]
    assert error[0].startswith(
        f'error: could not write checkpoint {work_dir / "iter_2.pth"}: no '
        'space left on device (1.5 MiB needed, ')
    assert error[0].endswith(f' free on {small_disk})')
    assert sorted(p.name for p in work_dir.iterdir() if 'iter_' in p.name) \
        == ['iter_1.pth']  # no temporary file left
    assert load_local_checkpoint(work_dir / 'iter_1.pth')['meta']['iter'] == 1
    assert (work_dir / 'last_checkpoint').read_text() == str(
        work_dir / 'iter_1.pth')

    filler.unlink()  # the other job ends
    resumed = run_tool([TRAIN, config, '--work-dir', str(work_dir),
                        '--resume'], cwd=demo_data, env=HELPERS)
    log = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, log[-4000:]
    assert 'resumed epoch: 0, iter: 1' in log
    assert sorted(losses(work_dir)) == [1, 2, 3]
    assert sorted(p.name for p in work_dir.glob('*.pth')) == [
        'iter_1.pth', 'iter_2.pth', 'iter_3.pth']


def test_a_kill_while_writing_leaves_the_previous_checkpoint(tmp_path,
                                                             demo_data):
    """SIGKILL half-way through the file of iteration 2 (max_keep_ckpts=1):
    iteration 1's checkpoint and last_checkpoint are intact, and --resume
    removes the half-written file and continues from iteration 1."""
    config = write_config(tmp_path / 'kill.py', 3, 1,
                          [dict(type='KillDuringWriteHook', at_save=2)])
    work_dir = tmp_path / 'work'
    killed = run_tool([TRAIN, config, '--work-dir', str(work_dir), *KEEP_ONE],
                      cwd=demo_data, env=HELPERS)
    assert killed.returncode == -9, (killed.stdout + killed.stderr)[-4000:]
    assert 'KillDuringWriteHook: killed writing' in killed.stdout
    assert load_local_checkpoint(work_dir / 'iter_1.pth')['meta']['iter'] == 1
    assert (work_dir / 'last_checkpoint').read_text() == str(
        work_dir / 'iter_1.pth')
    assert not (work_dir / 'iter_2.pth').exists()
    partial = list(work_dir.glob('iter_2.pth.*.tmp'))
    assert len(partial) == 1

    resumable = write_config(tmp_path / 'resume.py', 3, 1)
    resumed = run_tool([TRAIN, resumable, '--work-dir', str(work_dir),
                        '--resume', *KEEP_ONE], cwd=demo_data, env=HELPERS)
    log = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, log[-4000:]
    assert 'resumed epoch: 0, iter: 1' in log
    assert f'Removed {partial[0]}, the unfinished write' in log
    assert not partial[0].exists()


def test_wall_time_checkpoints_replace_each_other(tmp_path, demo_data):
    """interval_minutes saves between the iteration intervals; only the
    newest such checkpoint is kept."""
    config = write_config(tmp_path / 'minutes.py', 3, 100)
    work_dir = tmp_path / 'work'
    result = run_tool(
        [TRAIN, config, '--work-dir', str(work_dir), '--cfg-options',
         'default_hooks.checkpoint.interval_minutes=0.0001'],
        cwd=demo_data, env=HELPERS)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert 'Saving checkpoint at 1 iterations (0.0001 minutes since' in log
    assert 'Saving checkpoint at 2 iterations (0.0001 minutes since' in log
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_3.pth']


def test_the_tools_use_the_safe_hook_unless_told_otherwise():
    cfg = Config(dict(default_hooks=dict(
        checkpoint=dict(type='CheckpointHook', interval=5))))
    use_safe_checkpoint_hook(cfg)
    assert cfg.default_hooks.checkpoint == dict(type=SAFE_HOOK_TYPE,
                                                interval=5)
    cfg = Config(dict(default_hooks=dict(
        checkpoint=dict(type='mmengine.CheckpointHook'))))
    use_safe_checkpoint_hook(cfg)
    assert cfg.default_hooks.checkpoint.type == 'mmengine.CheckpointHook'


def test_write_errors_name_the_file_and_the_reason(tmp_path):
    path = str(tmp_path / 'iter_9.pth')
    full = describe_write_failure(path, OSError(errno.ENOSPC, 'x'), 3 << 20)
    assert full.startswith(f'could not write checkpoint {path}: no space '
                           'left on device (3.0 MiB needed, ')
    assert ' free on /' in full
    assert describe_write_failure(path, OSError(errno.EROFS, 'x')) == (
        f'could not write checkpoint {path}: read-only file system')

    missing = tmp_path / 'no_such_folder' / 'final.pth'
    with pytest.raises(CheckpointWriteError,
                       match='could not write checkpoint .*final.pth: no '
                       'such file or directory'):
        save_atomically({'a': 1}, str(missing))
    assert not missing.parent.exists()


def test_stale_temporary_files_are_removed(tmp_path):
    for name in ('iter_2.pth.123.tmp', 'iter_2.pth', 'notes.123.tmp',
                 'last_checkpoint.5.tmp'):
        (tmp_path / name).write_text('x')
    removed = remove_stale_temp_files(str(tmp_path))
    assert removed == [str(tmp_path / 'iter_2.pth.123.tmp')]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'iter_2.pth', 'last_checkpoint.5.tmp', 'notes.123.tmp']


