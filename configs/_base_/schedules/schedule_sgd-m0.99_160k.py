# schedule_sgd-m0.99_40k.py (the paper's optimiser, our poly schedule; the
# reasons are there), 160k iterations, a checkpoint every 16k.
_base_ = ['./schedule_sgd-m0.99_40k.py']
param_scheduler = [dict(_base_.param_scheduler[0], end=160000)]
train_cfg = dict(max_iters=160000, val_interval=16000)
default_hooks = dict(checkpoint=dict(interval=16000))
