# The paper's optimiser: SGD with momentum 0.99 and weight decay 5e-4 (it
# trains with batch 1). It gives no learning rate, schedule or length; ours:
# - poly decay (power 0.9, mmseg's) to 0: mmseg's floor of 1e-4 would exceed
#   the small learning rates that momentum 0.99 needs;
# - lr 1e-3 for 16 images/iter: mmseg's lr 0.01 at momentum 0.9, with
#   lr / (1 - momentum) kept; configs set their own lr next to a reason.
# Loops and hooks are those of mmseg's schedule_40k.py. The longer schedules
# (160k, 320k, 640k) override this one.
optimizer = dict(type='SGD', lr=1e-3, momentum=0.99, weight_decay=5e-4)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer, clip_grad=None)
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0,
        power=0.9,
        begin=0,
        end=40000,
        by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40000, val_interval=4000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # ours: keep the disk use of long runs bounded; resuming needs the last
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=4000,
        max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
