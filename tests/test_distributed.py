"""tools/dist_train.sh trains with two CPU processes (gloo, DDP)."""
import torch
from conftest import REPO, TINY_CONFIG, free_port, run_tool


def test_dist_train_two_cpu_processes(tmp_path, demo_data):
    work_dir = tmp_path / 'dist'
    result = run_tool([str(REPO / 'tools' / 'dist_train.sh'), str(TINY_CONFIG),
                       '2', '--work-dir', str(work_dir)],
                      cwd=demo_data, env={'PORT': str(free_port())})
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    assert 'Distributed training: True' in log
    assert 'replaced SyncBN by BN' in log
    checkpoint = torch.load(work_dir / 'iter_2.pth', weights_only=True)
    assert checkpoint['meta']['iter'] == 2
    # Only rank 0 writes checkpoints and logs.
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_2.pth']


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
