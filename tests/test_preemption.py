"""Preemption: SIGTERM or SIGUSR1 stops a training run after the current
iteration with a checkpoint at that iteration, and ``--resume`` continues
with the losses of an uninterrupted run (one process, and two processes
through tools/dist_train.sh); a run restarted by torchrun resumes by
itself."""
import json
import signal

import pytest
from conftest import REPO, TINY_CONFIG, free_port, run_tool

from mmseg_gcn.engine import load_local_checkpoint
from mmseg_gcn.engine.preemption import (PREEMPTED_EXIT_CODE,
                                         clear_stop_request, restart_count,
                                         stop_requested, stop_signals_handled)

TRAIN = str(REPO / 'tools' / 'train.py')
DIST_TRAIN = str(REPO / 'tools' / 'dist_train.sh')
HELPERS = {'PYTHONPATH': str(REPO / 'tests')}


def write_config(path, max_iters, interval, hooks=()):
    """The tiny config, ``max_iters`` long, a checkpoint every
    ``interval`` iterations, validating only at the end."""
    path.write_text(
        f'_base_ = [{str(TINY_CONFIG)!r}]\n'
        "custom_imports = dict(imports=['preemption_helpers'], "
        'allow_failed_imports=False)\n'
        f'custom_hooks = {list(hooks)!r}\n'
        f'train_cfg = dict(max_iters={max_iters}, val_interval={max_iters})\n'
        f'default_hooks = dict(checkpoint=dict(interval={interval}))\n')
    return str(path)


def losses(work_dir) -> dict:
    """Iteration -> loss, from every run's scalars.json in ``work_dir``."""
    found = {}
    for scalars in sorted(work_dir.glob('*/vis_data/scalars.json')):
        for line in scalars.read_text().splitlines():
            entry = json.loads(line)
            if 'loss' in entry:
                found[entry['iter']] = entry['loss']
    return found


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory, demo_data):
    """Losses of a 6-iteration run of the tiny config, one process."""
    folder = tmp_path_factory.mktemp('uninterrupted')
    config = write_config(folder / 'plain.py', 6, 4)
    result = run_tool([TRAIN, config, '--work-dir', str(folder / 'work')],
                      cwd=demo_data, env=HELPERS)
    assert result.returncode == 0, result.stderr[-3000:]
    return losses(folder / 'work')


@pytest.fixture(scope='module')
def two_process_losses(tmp_path_factory, demo_data):
    """Losses of a 4-iteration two-process run of the tiny config, through
    tools/dist_train.sh."""
    folder = tmp_path_factory.mktemp('two_processes')
    config = write_config(folder / 'plain.py', 4, 4)
    result = run_tool([DIST_TRAIN, config, '2', '--work-dir',
                       str(folder / 'work')],
                      cwd=demo_data,
                      env=dict(HELPERS, PORT=str(free_port())))
    assert result.returncode == 0, result.stderr[-3000:]
    return losses(folder / 'work')


def test_stop_signals_are_recorded_only_while_handled():
    previous = signal.getsignal(signal.SIGUSR1)
    with stop_signals_handled():
        with stop_signals_handled():  # nested: one
            signal.raise_signal(signal.SIGUSR1)
        assert stop_requested() == signal.SIGUSR1
    assert signal.getsignal(signal.SIGUSR1) is previous
    clear_stop_request()
    assert stop_requested() == 0


def test_a_second_stop_signal_gets_the_previous_handler():
    seen = []
    previous = signal.signal(signal.SIGUSR1, lambda *a: seen.append(a[0]))
    try:
        with stop_signals_handled():
            signal.raise_signal(signal.SIGUSR1)
            assert seen == []
            signal.raise_signal(signal.SIGUSR1)  # e.g. a stuck process
            assert seen == [signal.SIGUSR1]
    finally:
        signal.signal(signal.SIGUSR1, previous)
        clear_stop_request()


def test_restart_count_reads_torchrun_and_slurm(monkeypatch):
    monkeypatch.delenv('TORCHELASTIC_RESTART_COUNT', raising=False)
    monkeypatch.delenv('SLURM_RESTART_COUNT', raising=False)
    assert restart_count() == 0
    monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', '2')
    monkeypatch.setenv('SLURM_RESTART_COUNT', '1')
    assert restart_count() == 2


def test_sigterm_saves_at_that_iteration_and_resume_continues(
        tmp_path, demo_data, uninterrupted):
    """SIGTERM in iteration 3 of 6 (checkpoints every 4): a checkpoint at 3,
    exit 75; --resume trains 4 to 6 with the uninterrupted run's losses."""
    config = write_config(tmp_path / 'sigterm.py', 6, 4, [
        dict(type='SignalAtIterHook', at_iter=3, signal='SIGTERM')])
    work_dir = tmp_path / 'work'
    stopped = run_tool([TRAIN, config, '--work-dir', str(work_dir)],
                       cwd=demo_data, env=HELPERS)
    log = stopped.stdout + stopped.stderr
    assert stopped.returncode == PREEMPTED_EXIT_CODE, log[-4000:]
    assert 'Traceback' not in log
    assert (f'preempted: stopped on SIGTERM after iteration 3 (checkpoint '
            f'{work_dir / "iter_3.pth"})') in stopped.stderr
    assert load_local_checkpoint(work_dir / 'iter_3.pth')['meta']['iter'] == 3
    assert (work_dir / 'last_checkpoint').read_text() == str(
        work_dir / 'iter_3.pth')
    assert sorted(losses(work_dir)) == [1, 2, 3]

    resumed = run_tool([TRAIN, config, '--work-dir', str(work_dir),
                        '--resume'], cwd=demo_data, env=HELPERS)
    log = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, log[-4000:]
    assert 'resumed epoch: 0, iter: 3' in log
    assert losses(work_dir) == uninterrupted
    # the preemption checkpoint gave way to the newer periodic ones
    assert sorted(p.name for p in work_dir.glob('*.pth')) == [
        'iter_4.pth', 'iter_6.pth']


@pytest.mark.slow
def test_two_processes_stop_together_and_resume(tmp_path, demo_data,
                                                two_process_losses):
    """SIGUSR1 reaches rank 1 only, in iteration 2 of 4: both ranks stop
    there, rank 0 writes iter_2.pth; --resume through dist_train.sh trains
    3 and 4 with the losses of an uninterrupted two-process run."""
    config = write_config(tmp_path / 'usr1.py', 4, 4, [
        dict(type='SignalAtIterHook', at_iter=2, signal='SIGUSR1', rank=1)])
    work_dir = tmp_path / 'work'
    stopped = run_tool([DIST_TRAIN, config, '2', '--work-dir', str(work_dir)],
                       cwd=demo_data,
                       env=dict(HELPERS, PORT=str(free_port())))
    log = stopped.stdout + stopped.stderr
    assert 'SignalAtIterHook: SIGUSR1 to rank 1 at iteration 2' in log
    assert 'SIGUSR1 to rank 0' not in log
    # both processes ended with the preemption status (torchrun, without
    # restarts, reports them as failed)
    assert stopped.returncode != 0
    assert log.count(f'exitcode  : {PREEMPTED_EXIT_CODE}') == 2, log[-5000:]
    assert ('preempted: stopped on SIGUSR1 after iteration 2 (checkpoint '
            f'{work_dir / "iter_2.pth"})') in log
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_2.pth']
    assert load_local_checkpoint(work_dir / 'iter_2.pth')['meta']['iter'] == 2

    resumed = run_tool([DIST_TRAIN, config, '2', '--work-dir', str(work_dir),
                        '--resume'], cwd=demo_data,
                       env=dict(HELPERS, PORT=str(free_port())))
    log = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, log[-5000:]
    assert 'resumed epoch: 0, iter: 2' in log
    assert losses(work_dir) == two_process_losses


@pytest.mark.slow
def test_a_run_torchrun_restarts_resumes_by_itself(tmp_path, demo_data,
                                                   two_process_losses):
    """Rank 1 of a two-process run is killed (SIGKILL, as a lost process)
    in iteration 3 of 4; torchrun (MAX_RESTARTS=1) restarts both, and they
    resume from iter_2.pth without --resume and end with the losses of an
    uninterrupted run."""
    config = write_config(tmp_path / 'killed.py', 4, 1, [
        dict(type='SignalAtIterHook', at_iter=3, signal='SIGKILL', rank=1,
             attempt=0)])
    work_dir = tmp_path / 'work'
    result = run_tool([DIST_TRAIN, config, '2', '--work-dir', str(work_dir)],
                      cwd=demo_data,
                      env=dict(HELPERS, PORT=str(free_port()),
                               MAX_RESTARTS='1', SHUTDOWN_TIMEOUT='30'))
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    assert 'SignalAtIterHook: SIGKILL to rank 1 at iteration 3' in log
    assert 'restart 1 of this job' in log, log[-5000:]
    assert 'resumed epoch: 0, iter: 2' in log, log[-5000:]
    assert load_local_checkpoint(work_dir / 'iter_4.pth')['meta']['iter'] == 4
    assert losses(work_dir) == two_process_losses


def test_importing_the_package_leaves_the_signals_alone():
    import subprocess
    import sys
    code = ('import signal, mmseg_gcn, mmseg_gcn.engine.training; '
            'print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, '
            'signal.getsignal(signal.SIGUSR1) is signal.SIG_DFL)')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.split() == ['True', 'True'], result.stderr[-2000:]


def test_a_preempted_stage_resumes_in_that_stage(tmp_path, demo_data):
    """SIGTERM in iteration 1 of stage 2 of 2: stage 1 finished, stage 2
    is not; the rerun skips stage 1 and resumes stage 2 at iteration 1."""
    write_config(tmp_path / 'first.py', 2, 2)
    write_config(tmp_path / 'second.py', 2, 2, [
        dict(type='SignalAtIterHook', at_iter=1, signal='SIGTERM')])
    schedule = tmp_path / 'schedule.py'
    schedule.write_text(
        "stages = [dict(name='first', config='./first.py'), "
        "dict(name='second', config='./second.py')]\n")
    work_dir = tmp_path / 'work'
    command = [TRAIN, str(schedule), '--work-dir', str(work_dir)]
    stopped = run_tool(command, cwd=demo_data, env=HELPERS)
    log = stopped.stdout + stopped.stderr
    assert stopped.returncode == PREEMPTED_EXIT_CODE, log[-4000:]
    stage1, stage2 = work_dir / 'stage1_first', work_dir / 'stage2_second'
    assert (stage1 / 'stage_done.json').is_file()
    assert not (stage2 / 'stage_done.json').exists()
    assert not (stage2 / 'final.pth').exists()
    assert (stage2 / 'last_checkpoint').read_text() == str(
        stage2 / 'iter_1.pth')

    resumed = run_tool(command, cwd=demo_data, env=HELPERS)
    log = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, log[-4000:]
    assert "stage 1/2 'first': finished earlier, skipped" in log
    assert 'resumed epoch: 0, iter: 1' in log
    assert sorted(losses(stage1)) == [1, 2]
    assert sorted(losses(stage2)) == [1, 2]
    assert (stage2 / 'stage_done.json').is_file()
