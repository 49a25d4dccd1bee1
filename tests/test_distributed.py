"""tools/dist_train.sh trains with two CPU processes (gloo, DDP), and a
hung process ends the run with a clear error instead of a 30-minute wait."""
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import REPO, TINY_CONFIG, free_port, run_tool

from mmseg_gcn.engine import load_local_checkpoint


@pytest.mark.slow
def test_dist_train_two_cpu_processes(tmp_path, demo_data):
    work_dir = tmp_path / 'dist'
    result = run_tool([str(REPO / 'tools' / 'dist_train.sh'), str(TINY_CONFIG),
                       '2', '--work-dir', str(work_dir)],
                      cwd=demo_data, env={'PORT': str(free_port())})
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    assert 'Distributed training: True' in log
    assert 'replaced SyncBN by BN' in log
    checkpoint = load_local_checkpoint(work_dir / 'iter_2.pth')
    assert checkpoint['meta']['iter'] == 2
    # Only rank 0 writes checkpoints and logs.
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_2.pth']


@pytest.mark.slow
def test_dist_test_two_cpu_processes(tmp_path, demo_data, trained_work_dir):
    result = run_tool([str(REPO / 'tools' / 'dist_test.sh'), str(TINY_CONFIG),
                       str(trained_work_dir / 'iter_2.pth'), '2',
                       '--work-dir', str(tmp_path / 'test')],
                      cwd=demo_data, env={'PORT': str(free_port())})
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    assert 'Distributed training: True' in log
    # every val image is evaluated once, across both processes
    assert 'Iter(test) [2/2]' in log
    assert 'mIoU' in log


def _kill_processes_mentioning(text: str) -> None:
    """Kills every process whose command line contains ``text``."""
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open(f'/proc/{pid}/cmdline', 'rb') as f:
                cmdline = f.read().decode(errors='replace')
            if text in cmdline and int(pid) != os.getpid():
                os.kill(int(pid), signal.SIGKILL)
        except (OSError, ValueError):
            pass  # it ended meanwhile


@pytest.mark.slow
def test_a_stopped_process_ends_the_run_after_the_timeout(tmp_path,
                                                          demo_data):
    """Rank 1 stops (SIGSTOP) after its first iteration; rank 0 waits
    MMSEG_GCN_DIST_TIMEOUT seconds, then reports the timeout clearly."""
    timeout_s = 10
    config = tmp_path / 'stop_rank1.py'
    config.write_text(
        f'_base_ = [{str(TINY_CONFIG)!r}]\n'
        "custom_imports = dict(imports=['stages_helpers'], "
        'allow_failed_imports=False)\n'
        "custom_hooks = [dict(type='StopAtIterHook', rank=1, at_iter=1)]\n"
        'train_cfg = dict(max_iters=4, val_interval=4)\n')
    env = dict(os.environ, PYTHON=sys.executable, PYTHONUNBUFFERED='1',
               PYTHONPATH=str(REPO / 'tests'), PORT=str(free_port()),
               MMSEG_GCN_DIST_TIMEOUT=str(timeout_s))
    run = subprocess.Popen(
        ['bash', str(REPO / 'tools' / 'dist_train.sh'), str(config), '2',
         '--work-dir', str(tmp_path / 'work')],
        cwd=demo_data, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in run.stdout],
                     daemon=True).start()
    log, stopped_at, error = [], None, None
    deadline = time.monotonic() + 120
    try:
        while error is None and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                if run.poll() is not None and lines.empty():
                    break
                continue
            log.append(line)
            if 'StopAtIterHook: stopping rank 1' in line:
                stopped_at = time.monotonic()
                # torch's default would make rank 0 wait 30 minutes
                deadline = stopped_at + timeout_s + 30
            elif line.startswith('error: process 0 of 2:'):
                error, error_at = line, time.monotonic()
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # torchrun and its group
        run.wait()
        # torchrun starts each rank in a session of its own: end the stopped
        # one too, or it stays behind, holding its memory
        _kill_processes_mentioning(str(config))
    text = ''.join(log)
    assert stopped_at is not None, text[-5000:]
    assert error is not None, text[-5000:]
    assert 'a multi-process operation timed out after 10 s' in error
    assert 'another process of this run stopped, hung or died' in error
    assert 'MMSEG_GCN_DIST_TIMEOUT' in error
    # rank 0 may start waiting just before rank 1 says it stops
    assert 0 < error_at - stopped_at < timeout_s + 30


def test_dist_timeout_default_and_overrides(monkeypatch):
    """The default, the environment variable, the config's own value (it
    wins) and bad values, which name their source."""
    import pytest
    from mmengine.config import Config

    from mmseg_gcn.engine.distributed import (DEFAULT_DIST_TIMEOUT,
                                              DistTimeoutValueError,
                                              describe_collective_timeout,
                                              set_dist_timeout)

    def timeout_of(env_cfg=None, launcher='pytorch'):
        cfg = Config(dict(env_cfg=env_cfg) if env_cfg else {})
        set_dist_timeout(cfg, launcher)
        return cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')

    monkeypatch.delenv('MMSEG_GCN_DIST_TIMEOUT', raising=False)
    assert timeout_of() == DEFAULT_DIST_TIMEOUT == 600
    assert timeout_of(dict(dist_cfg=dict(backend='nccl'))) == 600
    assert timeout_of(launcher='none') is None
    monkeypatch.setenv('MMSEG_GCN_DIST_TIMEOUT', '90')
    assert timeout_of(dict(dist_cfg=dict(backend='nccl'))) == 90
    assert timeout_of(dict(dist_cfg=dict(timeout=1800))) == 1800
    monkeypatch.setenv('MMSEG_GCN_DIST_TIMEOUT', '10min')
    with pytest.raises(DistTimeoutValueError, match=r'\$MMSEG_GCN_DIST_TIMEOUT'):
        timeout_of()
    with pytest.raises(DistTimeoutValueError,
                       match='env_cfg.dist_cfg.timeout is -1'):
        timeout_of(dict(dist_cfg=dict(timeout=-1)))

    gloo = RuntimeError('[gloo/transport/tcp/unbound_buffer.cc:81] Timed out '
                        'waiting 600000ms for recv operation to complete')
    message = describe_collective_timeout(gloo)
    assert message.startswith(
        'a multi-process operation timed out after 600 s ([gloo/')
    assert describe_collective_timeout(RuntimeError('CUDA out of memory')) \
        is None


def test_each_torchrun_attempt_reads_only_its_own_keys(monkeypatch):
    # torchrun's static rendezvous keeps one store over restarts: what the
    # processes of attempt 0 left there (their addresses) must not reach
    # the processes of attempt 1
    import datetime

    import torch.distributed as torch_dist

    from mmseg_gcn.engine import distributed

    port = free_port()
    timeout = datetime.timedelta(seconds=10)
    agent = torch_dist.TCPStore('127.0.0.1', port, 1, is_master=True,
                                timeout=timeout)
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', str(port))
    monkeypatch.setenv('WORLD_SIZE', '2')
    monkeypatch.setenv('TORCHELASTIC_USE_AGENT_STORE', 'False')
    assert distributed._this_attempts_store(timeout) is None

    monkeypatch.setenv('TORCHELASTIC_USE_AGENT_STORE', 'True')
    monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', '0')
    first = distributed._this_attempts_store(timeout)
    first.set('rank_1', 'old address')
    monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', '1')
    second = distributed._this_attempts_store(timeout)
    assert not second.check(['rank_1'])
    second.set('rank_1', 'new address')
    assert second.get('rank_1') == b'new address'
    assert first.get('rank_1') == b'old address'
    assert agent.check(['mmseg_gcn/attempt_0/rank_1',
                        'mmseg_gcn/attempt_1/rank_1'])
