"""Checkpoints load with weights_only=True; anything else in the pickle is
refused before it runs."""
import fractions
import os

import pytest
import torch
from conftest import REPO, TINY_CONFIG, run_tool
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint

from mmseg_gcn.engine import (SAFE_GLOBALS_ENV, UntrustedCheckpointError,
                              load_local_checkpoint)


class _Payload:
    """Pickles to a call of os.system, as a malicious checkpoint would."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def test_mmseg_gcn_loader_handles_local_files():
    assert CheckpointLoader._get_checkpoint_loader('/x.pth') is \
        load_local_checkpoint


def test_real_mmengine_checkpoint_needs_no_other_global(trained_work_dir):
    path = str(trained_work_dir / 'iter_2.pth')
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    checkpoint = _load_checkpoint(path, map_location='cpu')
    assert {'meta', 'state_dict', 'optimizer', 'message_hub'} <= set(checkpoint)


def test_malicious_checkpoint_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / 'payload_ran'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': _Payload(marker)}, path)

    with pytest.raises(UntrustedCheckpointError) as error:
        _load_checkpoint(str(path), map_location='cpu')
    assert str(path) in str(error.value)
    assert 'posix.system' in str(error.value)
    assert SAFE_GLOBALS_ENV in str(error.value)
    assert not marker.exists()


def test_malicious_load_from_stops_training(tmp_path, demo_data):
    marker = tmp_path / 'payload_ran'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': _Payload(marker)}, path)

    result = run_tool([str(REPO / 'tools' / 'train.py'), str(TINY_CONFIG),
                       '--work-dir', str(tmp_path / 'work'),
                       '--cfg-options', f'load_from={path}'], cwd=demo_data)
    assert result.returncode != 0
    assert 'UntrustedCheckpointError' in result.stderr
    assert str(path) in result.stderr
    assert not marker.exists()


def test_corrupt_checkpoint_is_named(tmp_path):
    path = tmp_path / 'truncated.pth'
    torch.save({'state_dict': {'w': torch.zeros(100)}}, path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(UntrustedCheckpointError, match='corrupt'):
        _load_checkpoint(str(path), map_location='cpu')


def test_opt_in_allows_a_trusted_global(tmp_path, monkeypatch):
    path = tmp_path / 'trusted.pth'
    torch.save({'state_dict': {}, 'ratio': fractions.Fraction(1, 3)}, path)
    with pytest.raises(UntrustedCheckpointError, match='fractions.Fraction'):
        _load_checkpoint(str(path), map_location='cpu')

    monkeypatch.setenv(SAFE_GLOBALS_ENV, 'fractions.Fraction')
    checkpoint = _load_checkpoint(str(path), map_location='cpu')
    assert checkpoint['ratio'] == fractions.Fraction(1, 3)


class _AttributeWalk:
    """Pickles to getattr(HistoryBuffer, '__init__'): the first step of a
    walk from an allowed class to arbitrary code."""

    def __reduce__(self):
        from mmengine.logging.history_buffer import HistoryBuffer
        return (getattr, (HistoryBuffer, '__init__'))


def test_getattr_is_limited_to_history_buffer_methods(tmp_path):
    path = tmp_path / 'walk.pth'
    torch.save({'state_dict': {}, 'x': _AttributeWalk()}, path)
    with pytest.raises(UntrustedCheckpointError, match="'__init__'") as error:
        _load_checkpoint(str(path), map_location='cpu')
    assert str(path) in str(error.value)
