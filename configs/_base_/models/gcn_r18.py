# GCN + BR (Fig. 2A of "Large Kernel Matters") on a ResNet-18 trained from
# scratch, output stride 32 as in the paper: the network of the CPU demo
# (configs/demo). No pretrained weights (the demo runs offline). Plain BN:
# single-process runs turn SyncBN into BN anyway, and BN keeps the config
# usable by any launcher on a CPU.
custom_imports = dict(imports=['mmseg_gcn'], allow_failed_imports=False)
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 1, 1),
        strides=(1, 2, 2, 2),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        init_cfg=None),
    decode_head=dict(
        type='GCNHead',
        in_channels=(64, 128, 256, 512),
        in_index=(0, 1, 2, 3),
        feature_strides=(4, 8, 16, 32),
        kernel_size=15,
        classifier='gcn',
        use_br=True,
        upsample='deconv',
        # same maths, faster on CPU (docs/benchmarks.md)
        channels_last=True,
        num_classes=21,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=1.0,
            avg_non_ignore=True)),
    # model training and testing settings
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
