from .checkpoint import (MMENGINE_CHECKPOINT_GLOBALS, SAFE_GLOBALS_ENV,
                         UntrustedCheckpointError, allow_checkpoint_globals,
                         check_checkpoint_is_safe, load_local_checkpoint,
                         safe_checkpoint_globals)
from .checkpoint_loaders import (SAFE_CHECKPOINTS_ENV,
                                 install_safe_checkpoint_loading,
                                 safe_checkpoints_enabled,
                                 uninstall_safe_checkpoint_loading)
from .checkpoint_hook import SafeCheckpointHook, use_safe_checkpoint_hook
from .checkpoint_writing import CheckpointWriteError
from .distributed import setup_cpu_distributed, use_cpu_batch_norm
from .launch import (build_runner, load_run_config, parse_args_with_launcher,
                     set_data_root, set_max_iters, use_test_time_augmentation)
from .preemption import PREEMPTED_EXIT_CODE, TrainingPreempted
from .precision import CPUAmpOptimWrapper, enable_amp, inference_autocast
from .run import (TRAIN_DATALOADERS, TrainedRun, free_memory, prepare_run,
                  train_run)

__all__ = [
    'CPUAmpOptimWrapper', 'CheckpointWriteError',
    'MMENGINE_CHECKPOINT_GLOBALS',
    'PREEMPTED_EXIT_CODE', 'SAFE_CHECKPOINTS_ENV', 'SAFE_GLOBALS_ENV',
    'SafeCheckpointHook', 'TRAIN_DATALOADERS', 'TrainedRun',
    'TrainingPreempted', 'UntrustedCheckpointError',
    'allow_checkpoint_globals', 'build_runner', 'check_checkpoint_is_safe',
    'enable_amp', 'free_memory', 'inference_autocast',
    'install_safe_checkpoint_loading',
    'load_local_checkpoint', 'load_run_config', 'parse_args_with_launcher',
    'prepare_run', 'set_data_root', 'set_max_iters', 'setup_cpu_distributed',
    'safe_checkpoint_globals', 'safe_checkpoints_enabled', 'train_run',
    'uninstall_safe_checkpoint_loading', 'use_cpu_batch_norm',
    'use_safe_checkpoint_hook', 'use_test_time_augmentation'
]
