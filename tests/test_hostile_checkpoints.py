"""A suite of crafted hostile checkpoints, each carrying a payload that
touches a marker file if it ever runs; and legitimate files that must load.

Every hostile file goes through mmengine's own loader (``CheckpointLoader``
via ``_load_checkpoint``, as ``load_from``, ``--resume``, ``init_cfg``
Pretrained, tools/test.py and tools/infer.py do); the most dangerous ones
also through ``tools/train.py`` with ``load_from`` and ``--resume``."""
import os
import pickle
import shutil
import struct
import zipfile
from pathlib import Path
from typing import Callable, Dict, Tuple

import numpy as np
import pytest
import torch
from checkpoint_crafting import (DTYPE, GETATTR, HISTORY_BUFFER, NDARRAY,
                                 REBUILD_FROM_TYPE, RECONSTRUCT,
                                 RECONSTRUCT_NUMPY1, SCALAR, Build, Call, Get,
                                 Global, New, PersistentId, Put, Raw, dumps,
                                 float32_bytes, storage_tensor,
                                 write_legacy_checkpoint, write_zip_checkpoint)
from conftest import REPO, TINY_CONFIG, run_tool
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint

from mmseg_gcn.engine import (UntrustedCheckpointError, load_local_checkpoint,
                              safe_checkpoint_globals)

TRAIN = str(REPO / 'tools' / 'train.py')


def command(marker: Path) -> str:
    return f'touch {marker}'


def checkpoint_with(payload) -> dict:
    """A checkpoint-shaped pickle tree with ``payload`` inside."""
    return {'meta': {'iter': 1}, 'state_dict': {}, 'payload': payload}


def dtype(name: str, byteorder: str = '<', flags: int = 0) -> Build:
    return Build(Call(DTYPE, name, False, True),
                 (3, byteorder, None, None, None, -1, -1, flags))


def array(shape, dtype_node, data, reconstruct=RECONSTRUCT) -> Build:
    return Build(Call(reconstruct, NDARRAY, (0, ), b'b'),
                 (1, shape, dtype_node, False, data))


def history_buffer(state: dict) -> Build:
    return Build(New(Put('HistoryBuffer', HISTORY_BUFFER)), state)


def zip_file(tree) -> Callable[[Path], None]:
    return lambda path: write_zip_checkpoint(path, dumps(tree))


def legacy_file(tree) -> Callable[[Path], None]:
    return lambda path: write_legacy_checkpoint(path, dumps(tree))


# --- the hostile files --------------------------------------------------------
# name -> (writer(path, marker), what the refusal says)

def _code_execution(marker):
    return zip_file(checkpoint_with(
        Call(Global('os', 'system'), command(marker))))


def _eval(marker):
    return zip_file(checkpoint_with(Call(
        Global('builtins', 'eval'),
        f"__import__('os').system({command(marker)!r})")))


def _import_module(marker):
    os_module = Call(Global('importlib', 'import_module'), 'os')
    return zip_file(checkpoint_with(
        Call(Call(GETATTR, os_module, 'system'), command(marker))))


def _legacy_code_execution(marker):
    return legacy_file(checkpoint_with(
        Call(Global('subprocess', 'call'), ['sh', '-c', command(marker)])))


def _legacy_object_array(marker):
    return legacy_file(checkpoint_with(
        array((1, ), dtype('O8', '|', 63), [command(marker)])))


def _getattr_walk(marker):
    """getattr(HistoryBuffer.__init__, '__globals__'): from an allowed class
    to a module's namespace, and on to os.system."""
    init = Call(GETATTR, Get('HistoryBuffer'), '__init__')
    init_globals = Call(GETATTR, init, '__globals__')
    return zip_file(checkpoint_with([
        history_buffer({'max_length': 1}), init_globals, command(marker)]))


def _getattr_on_numpy(marker):
    return zip_file(checkpoint_with([
        Call(GETATTR, DTYPE, '__class__'),
        Call(GETATTR, NDARRAY, '__reduce_ex__'), command(marker)]))


def _getattr_through_tensor_rebuild(marker):
    """torch's allowed _rebuild_from_type_v2 calls any object on the stack:
    here the restricted getattr, asking for HistoryBuffer.__init__."""
    return zip_file(checkpoint_with(Call(
        REBUILD_FROM_TYPE, GETATTR, Global('torch', 'Tensor'),
        (HISTORY_BUFFER, '__init__'), {'payload': command(marker)})))


def _call_a_statistics_method(marker):
    """Calls what getattr(HistoryBuffer, 'mean') returns, through
    _rebuild_from_type_v2, on a HistoryBuffer the pickle controls."""
    method = Call(GETATTR, HISTORY_BUFFER, 'mean')
    return zip_file(checkpoint_with(Call(
        REBUILD_FROM_TYPE, method, Global('torch', 'Tensor'),
        (command(marker), ), {})))


def _ndarray_call(marker):
    return zip_file(checkpoint_with(
        [Call(NDARRAY, (4, ), 'O', b'A' * 32), command(marker)]))


def _reconstruct_object_dtype(marker):
    return zip_file(checkpoint_with(array(
        (2, ), dtype('O8', '|', 63), [HISTORY_BUFFER, command(marker)],
        reconstruct=RECONSTRUCT_NUMPY1)))


def _dtype_flags(marker):
    return zip_file(checkpoint_with(
        [array((2, ), dtype('f8', '<', 63), b'A' * 16), command(marker)]))


def _structured_dtype(marker):
    fields = Build(Call(DTYPE, 'V16', False, True),
                   (3, '|', None, ('a', ), {'a': (dtype('O8', '|', 63), 0)},
                    16, 8, 63))
    return zip_file(checkpoint_with([array((1, ), fields, b'A' * 16),
                                     command(marker)]))


def _object_scalar(marker):
    return zip_file(checkpoint_with(
        Call(SCALAR, dtype('O8', '|', 63), command(marker))))


def _dtype_used_before_built(marker):
    """A dtype made with NEWOBJ (no name) used by an array."""
    return zip_file(checkpoint_with(
        [array((1, ), New(DTYPE), b'A' * 8), command(marker)]))


def _huge_declared_array(marker):
    return zip_file(checkpoint_with(
        [array((10**12, 10**6), dtype('f8'), b'A' * 16), command(marker)]))


def _history_buffer_class_state(marker):
    """mmengine's HistoryBuffer.__setstate__ writes statistics_methods into
    the class; a later getattr then finds '__class__' allowed."""
    methods = {'__class__': Call(GETATTR, Get('HistoryBuffer'), 'min'),
               'mean': Call(GETATTR, Get('HistoryBuffer'), 'max')}
    return zip_file(checkpoint_with([
        history_buffer({'max_length': 1, 'statistics_methods': methods}),
        Call(GETATTR, Get('HistoryBuffer'), '__class__'), command(marker)]))


def _history_buffer_dunder_state(marker):
    return zip_file(checkpoint_with(history_buffer(
        {'__class__': NDARRAY, '__dict__': {'cmd': command(marker)},
         'max_length': 1})))


def _history_buffer_called(marker):
    """HistoryBuffer(log_history, ...) runs np.array(log_history): an
    object array of whatever the pickle lists."""
    return zip_file(checkpoint_with(
        Call(HISTORY_BUFFER, [command(marker), None], [1, 1])))


def _history_buffer_object_history(marker):
    return zip_file(checkpoint_with(history_buffer(
        {'max_length': 10, '_log_history': [command(marker)],
         '_count_history': array((1, ), dtype('f8'), b'\0' * 8)})))


def _history_buffer_state_twice(marker):
    """BUILD sets __setstate__ as an attribute, a second BUILD calls it."""
    return zip_file(checkpoint_with(Build(
        history_buffer({'__setstate__': command(marker)}), {})))


def _huge_bytes(marker):
    return zip_file(checkpoint_with(
        [Call(Global('builtins', 'bytes'), 10**12), command(marker)]))


def _tensor_constructor(marker):
    return zip_file(checkpoint_with(
        [Call(Global('torch', 'Tensor'), 10**12), command(marker)]))


def _legacy_tensor_class(marker):
    return zip_file(checkpoint_with(
        [New(Global('torch', 'FloatTensor'), 10**12), command(marker)]))


def _storage_constructor(marker):
    return zip_file(checkpoint_with([
        Call(Global('torch.storage', 'UntypedStorage'), 10**12),
        command(marker)]))


def _tensor_through_rebuild_from_type(marker):
    return zip_file(checkpoint_with([
        Call(REBUILD_FROM_TYPE, Global('torch', 'Tensor'),
             Global('torch', 'Tensor'), (10**12, ), {}), command(marker)]))


def _bytearray_size(marker):
    return zip_file(checkpoint_with(
        [Call(Global('builtins', 'bytearray'), 10**11), command(marker)]))


def _bytearray_numpy_int(marker):
    size = Call(SCALAR, dtype('i8'), np.int64(10**11).tobytes())
    return zip_file(checkpoint_with(
        [Call(Global('builtins', 'bytearray'), size), command(marker)]))


def _legacy_view_larger_than_storage(marker):
    tensor = Call(Global('torch._utils', '_rebuild_tensor_v2'), PersistentId(
        ('storage', Global('torch', 'FloatStorage'), '0', 'cpu', 2, None)),
                  0, (10**11, ), (1, ), False,
                  Call(Global('collections', 'OrderedDict')))
    return lambda path: write_legacy_checkpoint(
        path, dumps(checkpoint_with([tensor, command(marker)])),
        {'0': float32_bytes([1.0, 2.0])})


def _nested_tensor(marker):
    return zip_file(checkpoint_with([Call(
        Global('torch._utils', '_rebuild_nested_tensor'), None, None, None,
        None), command(marker)]))


def _legacy_huge_storage(marker):
    storage = ('storage', Global('torch', 'FloatStorage'), '0', 'cpu',
               2**40, None)
    return legacy_file(checkpoint_with(
        [PersistentId(storage), command(marker)]))


def _zip_huge_storage(marker):
    tensor = storage_tensor('0', [0.0] * 2**20)
    return lambda path: write_zip_checkpoint(
        path, dumps(checkpoint_with([tensor, command(marker)])),
        {'0': b'\0' * 8})


def _huge_declared_string(marker):
    tree = dumps(checkpoint_with(command(marker)))
    # a BINUNICODE of 4 GiB - 1 bytes, the file ending right after its header
    return lambda path: write_legacy_checkpoint(
        path, tree[:-1] + pickle.BINUNICODE + struct.pack('<I', 2**32 - 1))


def _compressed_zip(marker):
    """A zip record can declare far more data than the file holds."""
    tree = dumps(checkpoint_with([None] * 100_000 + [command(marker)]))
    return lambda path: write_zip_checkpoint(path, tree,
                                             compression=zipfile.ZIP_DEFLATED)


def _self_containing(marker):
    return zip_file(checkpoint_with([Raw(
        pickle.EMPTY_LIST + pickle.BINPUT + b'\xf0' + pickle.BINGET
        + b'\xf0' + pickle.APPEND), command(marker)]))


def _truncated_zip(marker):

    def write(path):
        torch.save({'state_dict': {'w': torch.zeros(1000)},
                    'cmd': command(marker)}, path)
        path.write_bytes(path.read_bytes()[:-500])
    return write


def _truncated_legacy(marker):

    def write(path):
        torch.save({'state_dict': {'w': torch.zeros(1000)},
                    'cmd': command(marker)}, path,
                   _use_new_zipfile_serialization=False)
        path.write_bytes(path.read_bytes()[:-500])
    return write


def _zero_bytes(marker):
    return lambda path: path.write_bytes(b'')


def _plain_pickle(marker):
    return lambda path: path.write_bytes(
        dumps(Call(Global('os', 'system'), command(marker))))


def _symlink_to_hostile(marker):

    def write(path):
        target = path.with_name('target.pth')
        _code_execution(marker)(target)
        path.symlink_to(target)
    return write


def _fifo(marker):
    return lambda path: os.mkfifo(path)


def _directory(marker):

    def write(path):
        path.mkdir()
        _code_execution(marker)(path / 'iter_1.pth')
    return write


HOSTILE: Dict[str, Tuple[Callable, str]] = {
    'code_execution': (_code_execution, 'os.system'),
    'eval': (_eval, 'builtins.eval'),
    'import_module': (_import_module, 'importlib.import_module'),
    'legacy_code_execution': (_legacy_code_execution, 'subprocess.call'),
    'legacy_object_array': (_legacy_object_array, "numpy dtype 'O8'"),
    'getattr_walk': (_getattr_walk, "getattr(HistoryBuffer, '__init__')"),
    'getattr_on_numpy': (_getattr_on_numpy, "getattr(numpy.dtype, '__class__')"),
    'getattr_through_tensor_rebuild': (_getattr_through_tensor_rebuild,
                                       "getattr(HistoryBuffer, '__init__')"),
    'call_a_statistics_method': (_call_a_statistics_method,
                                 'not callable'),
    'ndarray_call': (_ndarray_call, 'numpy.ndarray(...) directly'),
    'reconstruct_object_dtype': (_reconstruct_object_dtype,
                                 "numpy dtype 'O8'"),
    'dtype_flags': (_dtype_flags, 'not that of a plain numeric dtype'),
    'structured_dtype': (_structured_dtype, "numpy dtype 'V16'"),
    'object_scalar': (_object_scalar, "numpy dtype 'O8'"),
    'dtype_used_before_built': (_dtype_used_before_built, 'never built'),
    'huge_declared_array': (_huge_declared_array, 'which need'),
    'history_buffer_class_state': (_history_buffer_class_state,
                                   "getattr(HistoryBuffer, '__class__')"),
    'history_buffer_dunder_state': (_history_buffer_dunder_state,
                                    "sets '__class__', '__dict__'"),
    'history_buffer_called': (_history_buffer_called,
                              'HistoryBuffer(...) directly'),
    'history_buffer_object_history': (_history_buffer_object_history,
                                      'not a 1-d numeric numpy array'),
    'history_buffer_state_twice': (_history_buffer_state_twice,
                                   "sets '__setstate__'"),
    'huge_bytes': (_huge_bytes, 'calls bytes(...) with arguments'),
    'tensor_constructor': (_tensor_constructor, 'calls torch.Tensor(...)'),
    'legacy_tensor_class': (_legacy_tensor_class,
                            'calls torch.FloatTensor(...)'),
    'storage_constructor': (_storage_constructor,
                            'calls torch.storage.UntypedStorage(...)'),
    'tensor_through_rebuild_from_type': (_tensor_through_rebuild_from_type,
                                         'calls torch.Tensor(...)'),
    'bytearray_size': (_bytearray_size, 'calls bytearray with (100000000000'),
    'bytearray_numpy_int': (_bytearray_numpy_int, 'instead of bytes'),
    'legacy_view_larger_than_storage': (_legacy_view_larger_than_storage,
                                        'over a storage of 8 bytes'),
    'nested_tensor': (_nested_tensor, 'torch._utils._rebuild_nested_tensor'),
    'legacy_huge_storage': (_legacy_huge_storage,
                            '4398046511104 bytes of tensor data'),
    'zip_huge_storage': (_zip_huge_storage, 'which holds 8 bytes'),
    'huge_declared_string': (_huge_declared_string,
                             'a string of 4294967295 bytes'),
    'compressed_zip': (_compressed_zip, 'is compressed'),
    'self_containing': (_self_containing, 'contains itself'),
    'truncated_zip': (_truncated_zip, 'truncated'),
    'truncated_legacy': (_truncated_legacy, 'truncated'),
    'zero_bytes': (_zero_bytes, 'empty (0 bytes)'),
    'plain_pickle': (_plain_pickle, 'not one written by torch.save'),
    'symlink_to_hostile': (_symlink_to_hostile, 'os.system'),
    'fifo': (_fifo, 'a named pipe (FIFO)'),
    'directory': (_directory, 'a directory'),
}


def write_hostile(name: str, folder: Path) -> Tuple[Path, Path]:
    """Writes the hostile file ``name``; returns it and its marker."""
    marker = folder / f'{name}.ran'
    path = folder / f'{name}.pth'
    HOSTILE[name][0](marker)(path)
    return path, marker


@pytest.mark.timeout(60)
@pytest.mark.parametrize('name', sorted(HOSTILE))
def test_hostile_checkpoint_is_refused_through_checkpoint_loader(
        tmp_path, name):
    path, marker = write_hostile(name, tmp_path)
    methods_before = dict(HistoryBuffer._statistics_methods)

    with pytest.raises(UntrustedCheckpointError) as error:
        _load_checkpoint(str(path), map_location='cpu')
    message = str(error.value)
    assert str(path) in message
    assert HOSTILE[name][1] in message
    assert not marker.exists()
    assert HistoryBuffer._statistics_methods == methods_before


def test_hostile_suite_is_large_enough():
    assert len(HOSTILE) >= 15


# --- through tools/train.py ----------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize('name', ['legacy_code_execution', 'ndarray_call'])
def test_hostile_load_from_stops_training(tmp_path, demo_data, name):
    path, marker = write_hostile(name, tmp_path)
    result = run_tool([TRAIN, str(TINY_CONFIG),
                       '--work-dir', str(tmp_path / 'work'),
                       '--cfg-options', f'load_from={path}'], cwd=demo_data)
    assert result.returncode == 1, result.stderr[-3000:]
    assert str(path) in result.stderr
    assert HOSTILE[name][1] in result.stderr
    assert not marker.exists()
    assert 'Iter(train)' not in result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize('name', ['code_execution',
                                  'history_buffer_class_state'])
def test_hostile_resume_stops_training(tmp_path, demo_data, trained_work_dir,
                                       name):
    """A copied work dir whose last checkpoint was replaced."""
    work_dir = tmp_path / 'work'
    shutil.copytree(trained_work_dir, work_dir)
    hostile, marker = write_hostile(name, tmp_path)
    checkpoint = work_dir / 'iter_2.pth'
    shutil.copyfile(hostile, checkpoint)
    (work_dir / 'last_checkpoint').write_text(str(checkpoint))

    result = run_tool([TRAIN, str(TINY_CONFIG), '--work-dir', str(work_dir),
                       '--resume', '--cfg-options', 'train_cfg.max_iters=3'],
                      cwd=demo_data)
    assert result.returncode == 1, result.stderr[-3000:]
    assert str(checkpoint) in result.stderr
    assert HOSTILE[name][1] in result.stderr
    assert not marker.exists()
    assert 'Iter(train)' not in result.stdout + result.stderr


# --- legitimate files load ---------------------------------------------------------

NUMPY_VALUES = {
    'f8': np.array([0.5, -1.25, 3.0]),
    'f4_big_endian': np.array([1.5, 2.5], dtype='>f4'),
    'i8_fortran': np.asfortranarray(np.arange(6, dtype=np.int64).reshape(2, 3)),
    'u1': np.arange(5, dtype=np.uint8),
    'b1': np.array([True, False]),
    'c16': np.array([1 + 2j]),
    'f2_empty': np.zeros((0, 3), dtype=np.float16),
    'scalar_f8': np.float64(0.25),
    'scalar_i4': np.int32(-7),
    'scalar_bool': np.bool_(True),
    'dtype': np.dtype('>i2'),
}


def _history_buffer() -> HistoryBuffer:
    buffer = HistoryBuffer(max_length=5)
    for value in (1.0, 2.0, 4.0):
        buffer.update(value)
    return buffer


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_numpy_values_and_history_buffers_load_as_themselves(tmp_path,
                                                             legacy):
    path = tmp_path / 'legit.pth'
    saved = {'state_dict': {'w': torch.arange(4.0)},
             'meta': dict(NUMPY_VALUES, iter=3),
             'message_hub': {'log_scalars': {'loss': _history_buffer()}}}
    torch.save(saved, path, _use_new_zipfile_serialization=not legacy)

    loaded = _load_checkpoint(str(path), map_location='cpu')
    for key, value in NUMPY_VALUES.items():
        got = loaded['meta'][key]
        assert type(got) is type(value), key
        if isinstance(value, np.ndarray):
            assert got.dtype == value.dtype, key
            assert got.flags.f_contiguous == value.flags.f_contiguous, key
            np.testing.assert_array_equal(got, value)
        else:
            assert got == value, key
    buffer = loaded['message_hub']['log_scalars']['loss']
    assert type(buffer) is HistoryBuffer
    assert buffer.max_length == 5
    assert buffer.statistics('mean') == pytest.approx(7 / 3)
    assert buffer.statistics('max') == 4.0
    # saved again, it refers to nothing of mmseg_gcn
    assert b'mmseg_gcn' not in pickle.dumps(loaded, protocol=2)


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_tensor_views_and_shared_storages_load(tmp_path, legacy):
    base = torch.arange(12.0).reshape(3, 4)
    saved = {'base': base, 'row': base[1], 'column': base[:, 2],
             'transposed': base.t(), 'tail': base.view(-1)[7:],
             'scalar': torch.tensor(3), 'empty': torch.zeros(0, 5),
             'expanded': torch.ones(1).expand(4),
             'parameter': torch.nn.Parameter(torch.ones(2, 2)),
             'half': torch.ones(3, dtype=torch.float16)}
    if not legacy:  # torch's legacy format cannot hold uint16 (no storage type)
        saved['uint16'] = torch.tensor([1, 2, 3]).to(torch.uint16)
    path = tmp_path / 'views.pth'
    torch.save(saved, path, _use_new_zipfile_serialization=not legacy)
    loaded = _load_checkpoint(str(path), map_location='cpu')
    for key, tensor in saved.items():
        assert loaded[key].dtype == tensor.dtype, key
        assert torch.equal(loaded[key], tensor), key
    assert isinstance(loaded['parameter'], torch.nn.Parameter)


def test_numpy1_names_load(tmp_path):
    path = tmp_path / 'numpy1.pth'
    write_zip_checkpoint(path, dumps({'x': array(
        (2, ), dtype('f8'), np.array([1.0, 2.0]).tobytes(),
        reconstruct=RECONSTRUCT_NUMPY1), 'y': Call(
            Global('numpy.core.multiarray', 'scalar'), dtype('i4'),
            np.int32(3).tobytes())}))
    loaded = _load_checkpoint(str(path), map_location='cpu')
    np.testing.assert_array_equal(loaded['x'], [1.0, 2.0])
    assert loaded['y'] == 3


def test_crafted_legacy_file_with_storages_loads(tmp_path):
    path = tmp_path / 'legacy.pth'
    tree = {'state_dict': {'w': storage_tensor('0', [1.0, 2.0], legacy=True)}}
    write_legacy_checkpoint(path, dumps(tree), {'0': float32_bytes([1, 2])})
    loaded = _load_checkpoint(str(path), map_location='cpu')
    assert torch.equal(loaded['state_dict']['w'], torch.tensor([1.0, 2.0]))


def test_symlink_to_a_real_checkpoint_loads(trained_work_dir, tmp_path):
    link = tmp_path / 'latest.pth'
    link.symlink_to(trained_work_dir / 'iter_2.pth')
    checkpoint = _load_checkpoint(str(link), map_location='cpu')
    assert checkpoint['meta']['iter'] == 2


def test_real_checkpoint_keeps_its_history_buffers(trained_work_dir):
    """The statistics of a real training run survive loading."""
    checkpoint = load_local_checkpoint(str(trained_work_dir / 'iter_2.pth'))
    scalars = checkpoint['message_hub']['log_scalars']
    assert 'train/loss' in scalars
    for name, buffer in scalars.items():
        assert type(buffer) is HistoryBuffer, name
        logs, counts = buffer.data
        assert len(logs) == len(counts) >= 1, name
        assert buffer.statistics('current') == logs[-1], name
        assert buffer.statistics('mean') == pytest.approx(
            logs.sum() / counts.sum()), name
    assert HistoryBuffer._statistics_methods['mean'] is HistoryBuffer.mean


def test_plain_torch_load_result_saves_as_a_standard_checkpoint(
        trained_work_dir, tmp_path):
    """torch.load(weights_only=True) called directly (with the stand-ins
    allowed) returns stand-ins; saved again, they are numpy arrays and
    HistoryBuffers. Without them torch refuses the file, as it does by
    default."""
    original = trained_work_dir / 'iter_2.pth'
    path = tmp_path / 'resaved.pth'
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        torch.load(original, weights_only=True)
    with safe_checkpoint_globals():
        torch.save(torch.load(original, weights_only=True), path)
    assert b'mmseg_gcn' not in path.read_bytes()

    expected = load_local_checkpoint(str(original))
    loaded = _load_checkpoint(str(path), map_location='cpu')
    for name, buffer in expected['message_hub']['log_scalars'].items():
        resaved = loaded['message_hub']['log_scalars'][name]
        assert type(resaved) is HistoryBuffer, name
        for got, want in zip(resaved.data, buffer.data):
            np.testing.assert_array_equal(got, want)


def _assert_same_weights(model, other) -> None:
    mine, theirs = model.state_dict(), other.state_dict()
    assert mine.keys() == theirs.keys()
    for name, tensor in mine.items():
        assert torch.equal(tensor, theirs[name]), name


def test_torchvision_and_plain_state_dicts_load_into_models(tmp_path):
    """``torch.save(model.state_dict())``, torchvision's weights format (an
    OrderedDict with ``_metadata``, int64 ``num_batches_tracked``), through
    mmengine's ``load_checkpoint``."""
    import torchvision
    from mmengine.runner import load_checkpoint
    torch.manual_seed(0)
    saved = torchvision.models.resnet18()
    path = tmp_path / 'resnet18.pth'
    torch.save(saved.state_dict(), path)
    torch.manual_seed(1)
    model = torchvision.models.resnet18()
    checkpoint = load_checkpoint(model, str(path), map_location='cpu',
                                 strict=True)
    _assert_same_weights(model, saved)
    assert checkpoint['bn1.num_batches_tracked'].dtype == torch.int64
    assert checkpoint._metadata['layer1.0.bn1']['version'] == 2


def test_mmpretrain_checkpoint_hook_checkpoint_loads(tmp_path):
    """An mmpretrain classifier saved the way mmengine's Runner (and its
    CheckpointHook) saves one: meta with the config text and dataset meta,
    optimizer state, a message hub with HistoryBuffers, scheduler states."""
    import mmengine
    from mmengine.logging import MessageHub
    from mmengine.optim import MultiStepLR
    from mmengine.registry import DefaultScope
    from mmengine.runner import load_checkpoint
    from mmengine.runner.checkpoint import save_checkpoint
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    cfg = dict(type='ImageClassifier',
               backbone=dict(type='ResNet', depth=18),
               neck=dict(type='GlobalAveragePooling'),
               head=dict(type='LinearClsHead', num_classes=2, in_channels=512))
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model, other = PRETRAIN_MODELS.build(cfg), PRETRAIN_MODELS.build(cfg)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.rand(2, 3, 32, 32), mode='tensor').sum().backward()
    optimizer.step()
    scheduler = MultiStepLR(optimizer, milestones=[2])
    hub = MessageHub.get_instance('mmpretrain_checkpoint_test')
    for loss in (1.0, 0.5):
        hub.update_scalar('train/loss', loss)
    hub.update_info('iter', 2)
    path = tmp_path / 'epoch_1.pth'
    save_checkpoint({
        'meta': dict(epoch=1, iter=2, cfg="model = dict(type='ImageClassifier')",
                     seed=0, experiment_name='cls', time='20261202_120000',
                     mmengine_version=mmengine.__version__,
                     dataset_meta=dict(classes=('cat', 'dog'))),
        'state_dict': model.state_dict(),
        'message_hub': hub.state_dict(),
        'optimizer': optimizer.state_dict(),
        'param_schedulers': [scheduler.state_dict()],
    }, str(path))

    checkpoint = load_checkpoint(other, str(path), map_location='cpu',
                                 strict=True)
    _assert_same_weights(other, model)
    assert checkpoint['meta']['dataset_meta']['classes'] == ('cat', 'dog')
    assert checkpoint['meta']['cfg_text'].startswith('model = dict(')
    loss = checkpoint['message_hub']['log_scalars']['train/loss']
    assert type(loss) is HistoryBuffer and loss.mean() == 0.75
    assert checkpoint['message_hub']['runtime_info']['iter'] == 2
    assert checkpoint['param_schedulers'][0]['milestones'] == {2: 1}
    momentum = checkpoint['optimizer']['state'][0]['momentum_buffer']
    assert torch.equal(momentum, optimizer.state_dict()['state'][0][
        'momentum_buffer'])


# --- mmengine's other schemes --------------------------------------------------

@pytest.fixture
def web_folder(tmp_path, monkeypatch):
    """A folder served over http on localhost, and an empty torch hub cache;
    yields (folder, base URL)."""
    import functools
    import http.server
    import threading
    folder = tmp_path / 'site'
    folder.mkdir()
    monkeypatch.setattr(torch.hub, '_hub_dir', str(tmp_path / 'hub'))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    server.server_close()


def test_url_checkpoints_are_checked_like_local_ones(web_folder,
                                                     trained_work_dir):
    """mmengine loads URLs (and torchvision://, open-mmlab://, mmcls://)
    through torch.hub with weights_only=False."""
    folder, url = web_folder
    _, marker = write_hostile('code_execution', folder)
    with pytest.raises(UntrustedCheckpointError, match='os.system'):
        _load_checkpoint(f'{url}/code_execution.pth', map_location='cpu')
    assert not marker.exists()

    shutil.copyfile(trained_work_dir / 'iter_2.pth', folder / 'real.pth')
    checkpoint = _load_checkpoint(f'{url}/real.pth', map_location='cpu')
    assert type(checkpoint['message_hub']['log_scalars']['train/loss']) \
        is HistoryBuffer
    assert 'cfg' not in checkpoint['meta']


def test_other_schemes_are_finished_like_local_files(tmp_path, monkeypatch,
                                                     trained_work_dir):
    """open-mmlab:// names a file of mmengine's home, which mmengine loads
    with a plain torch.load, as the pavi:// and s3:// schemes do."""
    import mmengine.runner.checkpoint as mmengine_checkpoint
    monkeypatch.setenv('MMENGINE_HOME', str(tmp_path))
    monkeypatch.setattr(mmengine_checkpoint, 'get_external_models',
                        lambda: {'real': 'real.pth', 'evil': 'evil.pth'})
    shutil.copyfile(trained_work_dir / 'iter_2.pth', tmp_path / 'real.pth')
    _, marker = write_hostile('reconstruct_object_dtype', tmp_path)
    (tmp_path / 'reconstruct_object_dtype.pth').rename(tmp_path / 'evil.pth')

    checkpoint = _load_checkpoint('open-mmlab://real', map_location='cpu')
    assert type(checkpoint['message_hub']['log_scalars']['train/loss']) \
        is HistoryBuffer
    assert 'cfg' not in checkpoint['meta']
    with pytest.raises(UntrustedCheckpointError, match="numpy dtype 'O8'"):
        _load_checkpoint('open-mmlab://evil', map_location='cpu')
    assert not marker.exists()
