"""Checkpoints load with weights_only=True; anything else in the pickle is
refused before it runs, and no text from a checkpoint is ever executed.

One test (or group) per point of the checkpoint part of issue 10; the crafted
files of :mod:`test_hostile_checkpoints` cover the attacks more broadly."""
import fractions
import os
import pickle
import re
import subprocess
import sys
import textwrap

import pytest
import torch
from checkpoint_crafting import (DTYPE, GETATTR, HISTORY_BUFFER, NDARRAY,
                                 RECONSTRUCT, Build, Call, Get, Global, New,
                                 Put, dumps, write_zip_checkpoint)
from conftest import REPO, TINY_CONFIG, run_tool
import mmengine.runner.checkpoint as mmengine_checkpoint
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint

from mmseg_gcn.engine import (MMENGINE_CHECKPOINT_GLOBALS, SAFE_GLOBALS_ENV,
                              UntrustedCheckpointError,
                              allow_checkpoint_globals,
                              install_safe_checkpoint_loading,
                              load_local_checkpoint, safe_checkpoint_globals,
                              uninstall_safe_checkpoint_loading)
from mmseg_gcn.engine import checkpoint as checkpoint_module

TRAIN = str(REPO / 'tools' / 'train.py')


def _allow_list() -> set:
    """torch's process-wide allow-list of globals for ``weights_only``
    loading, as extended by ``add_safe_globals``."""
    return set(torch.serialization.get_safe_globals())


@pytest.fixture(scope='module')
def allow_list_before_module() -> set:
    """The allow-list as the first test of this module found it."""
    return _allow_list()


@pytest.fixture(autouse=True)
def restore_allowed_globals(monkeypatch):
    """``allow_checkpoint_globals`` (and ``MMSEG_GCN_SAFE_GLOBALS``, read
    once) widen what the package's loads accept for the rest of the process:
    each test starts from the package's list as it was, with the variable
    unread, so that no later test loads with globals it did not allow."""
    monkeypatch.setattr(checkpoint_module, '_ALLOWED_GLOBALS',
                        list(checkpoint_module._ALLOWED_GLOBALS))
    monkeypatch.setattr(checkpoint_module, '_env_globals_read', False)
    monkeypatch.delenv(SAFE_GLOBALS_ENV, raising=False)


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
    with safe_checkpoint_globals():  # beyond the stand-ins
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


@pytest.mark.slow
def test_malicious_load_from_stops_training(tmp_path, demo_data):
    marker = tmp_path / 'payload_ran'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': _Payload(marker)}, path)

    result = run_tool([TRAIN, str(TINY_CONFIG),
                       '--work-dir', str(tmp_path / 'work'),
                       '--cfg-options', f'load_from={path}'], cwd=demo_data)
    assert result.returncode != 0
    assert f'Refused to load checkpoint {str(path)!r}' in result.stderr
    assert 'posix.system' in result.stderr
    assert not marker.exists()


def test_corrupt_checkpoint_is_named(tmp_path):
    path = tmp_path / 'truncated.pth'
    torch.save({'state_dict': {'w': torch.zeros(100)}}, path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(UntrustedCheckpointError, match='truncated') as error:
        _load_checkpoint(str(path), map_location='cpu')
    assert str(path) in str(error.value)


def test_opt_in_allows_a_trusted_global(tmp_path, monkeypatch):
    path = tmp_path / 'trusted.pth'
    torch.save({'state_dict': {}, 'ratio': fractions.Fraction(1, 3)}, path)
    with pytest.raises(UntrustedCheckpointError, match='fractions.Fraction'):
        _load_checkpoint(str(path), map_location='cpu')

    # the variable is read once, at the first load after the fixture reset it
    monkeypatch.setattr(checkpoint_module, '_env_globals_read', False)
    monkeypatch.setenv(SAFE_GLOBALS_ENV, 'fractions.Fraction')
    before = _allow_list()
    checkpoint = _load_checkpoint(str(path), map_location='cpu')
    assert checkpoint['ratio'] == fractions.Fraction(1, 3)
    # allowed for this package's loads, not added to torch's allow-list
    assert checkpoint_module._ALLOWED_GLOBALS[-1] is fractions.Fraction
    assert _allow_list() == before
    assert fractions.Fraction not in torch.serialization.get_safe_globals()


def test_opt_in_cannot_replace_a_checked_stand_in(tmp_path, monkeypatch):
    """Allowing the real numpy.ndarray would reopen the object-array hole."""
    path = tmp_path / 'plain.pth'
    torch.save({'state_dict': {}}, path)
    monkeypatch.setenv(SAFE_GLOBALS_ENV, 'numpy.ndarray')
    with pytest.raises(ValueError, match='numpy.ndarray'):
        _load_checkpoint(str(path), map_location='cpu')
    import numpy as np
    with pytest.raises(ValueError, match='ndarray is loaded through a checked stand-in'):
        allow_checkpoint_globals([np.ndarray])


def test_real_numpy_allowed_by_other_code_stops_loading(trained_work_dir):
    """Allow-listed by other code of the process, the real numpy.ndarray
    would take the stand-in's place: loading stops, saying so."""
    import numpy as np
    with torch.serialization.safe_globals([np.ndarray]):
        with pytest.raises(UntrustedCheckpointError,
                           match='allow-listed numpy.ndarray'):
            _load_checkpoint(str(trained_work_dir / 'iter_2.pth'),
                             map_location='cpu')
    assert _load_checkpoint(str(trained_work_dir / 'iter_2.pth'),
                            map_location='cpu')['meta']['iter'] == 2


class _AttributeWalk:
    """Pickles to getattr(HistoryBuffer, '__init__'): the first step of a
    walk from an allowed class to arbitrary code."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


def test_getattr_is_limited_to_history_buffer_methods(tmp_path):
    path = tmp_path / 'walk.pth'
    torch.save({'state_dict': {}, 'x': _AttributeWalk()}, path)
    with pytest.raises(UntrustedCheckpointError, match="'__init__'") as error:
        _load_checkpoint(str(path), map_location='cpu')
    assert str(path) in str(error.value)


# 1. No text from a checkpoint is executed -----------------------------------

def _with_config_text(source, target, code: str) -> None:
    """Copies a real checkpoint, putting ``code`` wherever mmengine looks
    for a config text to execute."""
    checkpoint = load_local_checkpoint(str(source), map_location='cpu')
    checkpoint['meta']['config'] = code  # Runner.resume
    checkpoint['meta']['cfg'] = code  # BaseInferencer, without a config
    checkpoint['message_hub']['runtime_info']['cfg'] = code  # likewise
    torch.save(checkpoint, target)


@pytest.mark.slow
def test_resume_never_executes_the_config_text_of_a_checkpoint(
        trained_work_dir, demo_data, tmp_path):
    marker = tmp_path / 'config_ran'
    work_dir = tmp_path / 'resumed'
    work_dir.mkdir()
    checkpoint = work_dir / 'iter_2.pth'
    _with_config_text(trained_work_dir / 'iter_2.pth', checkpoint,
                      f"x = __import__('os').system('touch {marker}')")
    (work_dir / 'last_checkpoint').write_text(str(checkpoint))

    result = run_tool([TRAIN, str(TINY_CONFIG), '--work-dir', str(work_dir),
                       '--resume', '--cfg-options', 'train_cfg.max_iters=3'],
                      cwd=demo_data)
    log = result.stdout + result.stderr
    assert not marker.exists()
    assert result.returncode == 0, log[-4000:]
    assert 'resumed epoch: 0, iter: 2' in log
    # the logger's smoothed loss comes from the resumed HistoryBuffers
    assert re.search(r'Iter\(train\) \[3/3\].* loss: \d', log), log[-4000:]


def test_config_text_is_kept_where_nothing_executes_it(trained_work_dir,
                                                       tmp_path):
    marker = tmp_path / 'config_ran'
    path = tmp_path / 'with_config.pth'
    code = f"x = __import__('os').system('touch {marker}')"
    _with_config_text(trained_work_dir / 'iter_2.pth', path, code)

    checkpoint = _load_checkpoint(str(path), map_location='cpu')
    meta = checkpoint['meta']
    assert 'config' not in meta and 'cfg' not in meta
    assert meta['config_text'] == meta['cfg_text'] == code
    assert 'cfg' not in checkpoint['message_hub']['runtime_info']

    # mmengine's inferencer, given no config, executes the checkpoint's
    from mmseg.apis import MMSegInferencer
    with pytest.raises(ValueError, match='Cannot find the config'):
        MMSegInferencer(model=None, weights=str(path), device='cpu')
    assert not marker.exists()


# 2. No object arrays, no memory corruption ----------------------------------

def _object_dtype():
    return Build(Call(DTYPE, 'O8', False, True),
                 (3, '|', None, None, None, -1, -1, 63))


#: Pickles that make numpy arrays hold (forged) object pointers, and what
#: the refusal says.
OBJECT_ARRAYS = {
    # numpy.ndarray called directly: an object array over the bytes 'AAAA'
    'ndarray_call': (Call(NDARRAY, (4, ), 'O', b'A' * 32),
                     'numpy.ndarray(...) directly'),
    # a float dtype whose BUILD sets the flags of an object dtype
    'dtype_flags': (Build(
        Call(RECONSTRUCT, NDARRAY, (0, ), b'b'),
        (1, (2, ), Build(Call(DTYPE, 'f8', False, True),
                         (3, '<', None, None, None, -1, -1, 63)),
         False, b'A' * 16)), 'not that of a plain numeric dtype'),
    # _reconstruct + BUILD with an object dtype and a list of callables
    'reconstruct_objects': (Build(
        Call(RECONSTRUCT, NDARRAY, (0, ), b'b'),
        (1, (2, ), _object_dtype(), False, [HISTORY_BUFFER, GETATTR])),
                            "numpy dtype 'O8'"),
}

_LOAD_EACH = textwrap.dedent("""
    import gc, sys
    import mmseg_gcn
    from mmengine.runner.checkpoint import _load_checkpoint
    for path in sys.argv[1:]:
        try:
            checkpoint = _load_checkpoint(path, map_location='cpu')
            print('loaded', path, repr(checkpoint)[:200], flush=True)
            del checkpoint
            gc.collect()
        except Exception as error:
            print('refused', path, type(error).__name__,
                  str(error).replace(chr(10), ' '), flush=True)
""")


@pytest.mark.slow
def test_no_object_array_by_any_route(tmp_path):
    """In a child process: an object array over forged pointers crashes the
    process that loaded it (at the latest when it is freed)."""
    paths = []
    for name, (payload, _) in OBJECT_ARRAYS.items():
        path = tmp_path / f'{name}.pth'
        write_zip_checkpoint(path, dumps({'state_dict': {}, 'x': payload}))
        paths.append(str(path))
    result = subprocess.run([sys.executable, '-c', _LOAD_EACH, *paths],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (result.returncode, result.stdout,
                                    result.stderr[-2000:])
    lines = [line for line in result.stdout.splitlines()
             if line.startswith(('loaded', 'refused'))]
    assert len(lines) == len(paths), result.stdout
    for path, (_, reason), line in zip(paths, OBJECT_ARRAYS.values(), lines):
        assert line.startswith(f'refused {path} UntrustedCheckpointError'), line
        assert reason in line


# 3. The checkpoint cannot widen the restricted getattr ----------------------

def test_history_buffer_state_cannot_widen_getattr(tmp_path):
    """A HistoryBuffer BUILD whose statistics methods name '__class__' etc.
    (mmengine's __setstate__ writes them into the class) and then a getattr
    of '__class__'."""
    statistics = {name: Call(GETATTR, Get('HistoryBuffer'), 'min')
                  for name in ('__class__', '__init__', '__base__')}
    statistics['mean'] = Call(GETATTR, Get('HistoryBuffer'), 'max')
    buffer = Build(New(Put('HistoryBuffer', HISTORY_BUFFER)),
                   {'max_length': 10, 'statistics_methods': statistics})
    path = tmp_path / 'widen.pth'
    write_zip_checkpoint(path, dumps({
        'state_dict': {}, 'buffer': buffer,
        'walk': Call(GETATTR, Get('HistoryBuffer'), '__class__')}))
    methods_before = dict(HistoryBuffer._statistics_methods)

    with pytest.raises(UntrustedCheckpointError) as error:
        _load_checkpoint(str(path), map_location='cpu')
    assert str(path) in str(error.value)
    assert HistoryBuffer._statistics_methods == methods_before
    assert HistoryBuffer._statistics_methods.get('mean') in (None,
                                                            HistoryBuffer.mean)


# 4. Every failure while loading names the file ------------------------------

FAILING_PICKLES = {
    # BUILD makes __setstate__ an attribute, the next BUILD calls it
    'non_callable_setstate': Build(
        Build(New(HISTORY_BUFFER), {'__setstate__': 1}), {'max_length': 1}),
    # an allowed function called with the wrong arguments
    'wrong_arguments': Call(Global('torch._utils', '_rebuild_tensor_v2')),
}


@pytest.mark.parametrize('name', sorted(FAILING_PICKLES))
def test_every_loading_failure_is_an_untrusted_checkpoint_error(
        tmp_path, name):
    path = tmp_path / f'{name}.pth'
    write_zip_checkpoint(path, dumps({'state_dict': {},
                                      'x': FAILING_PICKLES[name]}))
    with pytest.raises(UntrustedCheckpointError) as error:
        _load_checkpoint(str(path), map_location='cpu')
    assert str(path) in str(error.value)


# 5. Legacy files load; other files are refused for what they are -----------

def test_harmless_legacy_checkpoint_loads(trained_work_dir, tmp_path):
    real = load_local_checkpoint(str(trained_work_dir / 'iter_2.pth'))
    path = tmp_path / 'legacy.pth'
    torch.save(real, path, _use_new_zipfile_serialization=False)
    with safe_checkpoint_globals():
        assert torch.load(path, weights_only=True)['meta']['iter'] == 2

    checkpoint = _load_checkpoint(str(path), map_location='cpu')
    assert checkpoint['meta']['iter'] == 2
    for name, tensor in real['state_dict'].items():
        assert torch.equal(checkpoint['state_dict'][name], tensor), name
    loss = checkpoint['message_hub']['log_scalars']['train/loss']
    assert isinstance(loss, HistoryBuffer)
    assert loss.mean() == real['message_hub']['log_scalars'][
        'train/loss'].mean()


def test_a_directory_is_reported_as_a_directory(tmp_path):
    path = tmp_path / 'x.pth'
    path.mkdir()
    with pytest.raises(UntrustedCheckpointError,
                       match='is a directory') as error:
        _load_checkpoint(str(path), map_location='cpu')
    assert str(path) in str(error.value)


@pytest.mark.timeout(60)
def test_a_fifo_is_reported_without_blocking(tmp_path):
    path = tmp_path / 'x.pth'
    os.mkfifo(path)
    with pytest.raises(UntrustedCheckpointError,
                       match='named pipe') as error:
        _load_checkpoint(str(path), map_location='cpu')
    assert str(path) in str(error.value)


def test_a_missing_file_is_reported_as_missing(tmp_path):
    path = tmp_path / 'x.pth'
    with pytest.raises(FileNotFoundError, match='does not exist'):
        _load_checkpoint(str(path), map_location='cpu')


# 6. Loading changes nothing else: torch's allow-list, mmengine's loaders --

def test_a_load_leaves_torch_allow_list_as_it_was(trained_work_dir,
                                                  tmp_path):
    """The stand-ins and the allowed globals are allow-listed during a load
    only; an entry torch's list had already stays there."""
    path = tmp_path / 'trusted.pth'
    torch.save({'state_dict': {}, 'ratio': fractions.Fraction(1, 3)}, path)
    evil = tmp_path / 'evil.pth'
    torch.save({'meta': _Payload(tmp_path / 'ran')}, evil)
    before = _allow_list()
    assert not set(MMENGINE_CHECKPOINT_GLOBALS) & before

    assert _load_checkpoint(str(trained_work_dir / 'iter_2.pth'),
                            map_location='cpu')['meta']['iter'] == 2
    assert _allow_list() == before
    with pytest.raises(UntrustedCheckpointError, match='posix.system'):
        _load_checkpoint(str(evil), map_location='cpu')
    assert _allow_list() == before
    allow_checkpoint_globals(['fractions.Fraction'])
    with safe_checkpoint_globals():
        assert set(MMENGINE_CHECKPOINT_GLOBALS) | {fractions.Fraction} \
            <= _allow_list()
    assert _allow_list() == before

    with torch.serialization.safe_globals([fractions.Fraction]):
        ratio = _load_checkpoint(str(path), map_location='cpu')['ratio']
        assert _allow_list() == before | {fractions.Fraction}
    assert ratio == fractions.Fraction(1, 3)
    assert _allow_list() == before


def test_installing_twice_is_installing_once():
    schemes = dict(CheckpointLoader._schemes)
    load_url = mmengine_checkpoint.load_url
    install_safe_checkpoint_loading()
    assert CheckpointLoader._schemes == schemes
    assert all(CheckpointLoader._schemes[prefix] is loader
               for prefix, loader in schemes.items())
    assert mmengine_checkpoint.load_url is load_url
    # one wrapper around mmengine's own loader, not two
    assert CheckpointLoader._schemes['http://'].__wrapped__ is \
        mmengine_checkpoint.load_from_http


def test_uninstall_puts_mmengine_loaders_back(trained_work_dir):
    from mmengine.utils.dl_utils import load_url
    path = str(trained_work_dir / 'iter_2.pth')
    uninstall_safe_checkpoint_loading()
    try:
        assert CheckpointLoader._get_checkpoint_loader('/x.pth') is \
            mmengine_checkpoint.load_from_local
        assert CheckpointLoader._schemes['http://'] is \
            mmengine_checkpoint.load_from_http
        assert mmengine_checkpoint.load_url is load_url
        # what the docs say: torch >= 2.6 refuses mmengine's own checkpoints
        with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
            _load_checkpoint(path, map_location='cpu')
        uninstall_safe_checkpoint_loading()  # not installed: nothing to do
    finally:
        install_safe_checkpoint_loading()
    assert CheckpointLoader._get_checkpoint_loader('/x.pth') is \
        load_local_checkpoint
    assert _load_checkpoint(path, map_location='cpu')['meta']['iter'] == 2


# Last in this module: pytest runs a module's tests in file order ------------

def test_allow_list_is_as_before_this_module(allow_list_before_module):
    """Nothing above widened torch's allow-list for other modules' tests
    (the opt-in widens the package's own list, which the fixture restores)."""
    assert _allow_list() == allow_list_before_module
