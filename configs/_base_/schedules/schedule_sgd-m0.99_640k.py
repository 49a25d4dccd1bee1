# The SGD (momentum 0.99) + poly schedule of schedule_sgd-m0.99_40k.py,
# 640k iterations.
_base_ = ['./schedule_sgd-m0.99_40k.py']
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
default_hooks = dict(checkpoint=dict(interval=16000))
