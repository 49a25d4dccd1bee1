"""Shared fixtures: small demo datasets in the real layouts, and a runner for
the command-line tools as a user calls them."""
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest

REPO = Path(__file__).resolve().parents[1]
TINY_CONFIG = REPO / 'tests' / 'configs' / 'fcn_tiny_demo-voc.py'
VOC_SUBDIR = Path('data/demo/VOCdevkit/VOC2012')


def run_tool(args: List[str], cwd: Path, env: Optional[Dict[str, str]] = None,
             timeout: int = 300) -> subprocess.CompletedProcess:
    """Runs ``python tools/<script> ...`` (or a shell script) from ``cwd``."""
    command = ([sys.executable, *args] if args[0].endswith('.py')
               else ['bash', *args])
    full_env = dict(os.environ, PYTHON=sys.executable,
                    PYTHONUNBUFFERED='1', **(env or {}))
    return subprocess.run(command, cwd=cwd, env=full_env, timeout=timeout,
                          capture_output=True, text=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='session')
def demo_data(tmp_path_factory) -> Path:
    """A small synthetic VOC-aug dataset; returns the folder holding ``data/``."""
    from mmseg_gcn.datasets.synthetic import generate_voc_aug
    root = tmp_path_factory.mktemp('demo')
    generate_voc_aug(root / 'data' / 'demo', num_train=8, num_aug=4,
                     num_val=4, seed=0)
    return root


@pytest.fixture
def workspace(tmp_path: Path, demo_data: Path) -> Path:
    """A fresh working folder whose ``data/`` is a private copy of the demo
    data, so a test may damage it."""
    shutil.copytree(demo_data / 'data', tmp_path / 'data')
    return tmp_path


@pytest.fixture(scope='session')
def trained_work_dir(tmp_path_factory, demo_data: Path) -> Path:
    """A 2-iteration training run of the tiny config through tools/train.py."""
    work_dir = tmp_path_factory.mktemp('trained')
    result = run_tool([str(REPO / 'tools' / 'train.py'), str(TINY_CONFIG),
                       '--work-dir', str(work_dir)], cwd=demo_data)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return work_dir
