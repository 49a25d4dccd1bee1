# The paper's optimiser and our poly schedule of schedule_sgd-m0.99_40k.py
# (the reasons are there), 640k iterations; loops and hooks are mmseg's.
_base_ = ['mmseg::_base_/schedules/schedule_40k.py']
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=1e-3, momentum=0.99, weight_decay=5e-4))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0,
        power=0.9,
        begin=0,
        end=640000,
        by_epoch=False)
]
train_cfg = dict(max_iters=640000, val_interval=64000)
default_hooks = dict(checkpoint=dict(interval=16000, max_keep_ckpts=3))
