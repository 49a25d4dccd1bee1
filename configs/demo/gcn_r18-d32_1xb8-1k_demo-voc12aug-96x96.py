# GCN + BR (Fig. 2A of "Large Kernel Matters") on a ResNet-18 trained from
# scratch on the synthetic demo VOC data, sized to train on a 2-core CPU in a
# few minutes (`make demo`, `tools/demo.py`). A demo, not the paper's setting
# (ImageNet ResNet-152, k=15, 512x512 inputs): see configs/gcn for that.
# Data: tools/demo.py generates it (240 train + 80 aug + 60 val images); for
# tools/train.py, run `python tools/dataset_converters/generate_demo_data.py
# --dataset voc --voc-train 240 --voc-aug 80 --voc-val 60` first.
_base_ = [
    '../_base_/models/gcn_r152.py', '../_base_/datasets/demo_voc12aug.py',
    'mmseg::_base_/default_runtime.py'
]
crop_size = (96, 96)
# Single-process runs turn SyncBN into BN; plain BN keeps the config usable
# by any launcher on a CPU.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    # ResNet-18, output stride 32 as in the paper; no pretrained weights
    # (the demo runs offline).
    backbone=dict(depth=18, norm_cfg=norm_cfg, init_cfg=None),
    decode_head=dict(
        in_channels=(64, 128, 256, 512),
        # The paper picks k close to the size of the top feature map (15 for
        # 16x16 at 512 px). A 96 px crop gives 24, 12, 6 and 3 cells at
        # strides 4..32, so one k per level, at most the map size: a kernel
        # longer than the map only multiplies zero padding.
        kernel_size=(15, 9, 5, 3)))

train_dataloader = dict(batch_size=8)
# Demo choice, for a fast and stable start from scratch: SGD with momentum
# 0.9, lr 0.01 and a poly schedule, batch 8 (the paper: SGD, momentum 0.99,
# weight decay 5e-4, batch 1, from ImageNet weights; lr 0.05 diverges here).
# 1k iterations (~13 epochs of the 320 demo training images) take about
# 5 minutes on 2 CPU cores.
optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer, clip_grad=None)
max_iters = 1000
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=200)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=25, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=max_iters,
        max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
# Seeded, with deterministic algorithms, and the data loaded in the main
# process (num_workers=0 in the dataset config): the same run gives the same
# numbers.
randomness = dict(seed=0, deterministic=True)
