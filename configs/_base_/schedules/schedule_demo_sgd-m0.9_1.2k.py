# The demo schedule of schedule_demo_sgd-m0.9_1k.py (SGD, momentum 0.9, lr
# 0.01, poly, from scratch on a CPU, seeded and deterministic), 1.2k
# iterations long, validating every 400.
_base_ = ['./schedule_demo_sgd-m0.9_1k.py']
max_iters = 1200
param_scheduler = [dict(_base_.param_scheduler[0], end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=400)
default_hooks = dict(checkpoint=dict(interval=max_iters))
