# The demo schedule (schedule_demo_sgd-m0.9_1k.py), 1.2k iterations long.
_base_ = ['./schedule_demo_sgd-m0.9_1k.py']
max_iters = 1200
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=400)
default_hooks = dict(checkpoint=dict(interval=max_iters))
