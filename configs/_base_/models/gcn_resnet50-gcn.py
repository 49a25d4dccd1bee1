# GCN decoder on the ResNet-50-GCN backbone (Fig. 5B, Table 6 of "Large
# Kernel Matters"). The paper pretrains this backbone on ImageNet with a
# recipe it does not give; set `init_cfg=dict(type='Pretrained',
# checkpoint=..., prefix='backbone.')` on the backbone to load such weights
# (e.g. an mmpretrain ImageClassifier checkpoint).
custom_imports = dict(imports=['mmseg_gcn'], allow_failed_imports=False)
norm_cfg = dict(type='SyncBN', requires_grad=True)
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
        type='ResNetGCN',
        stage_blocks=(3, 4, 6, 3),
        gcn_kernel_sizes=(None, None, 5, 7),
        gcn_widths=(None, None, 85, 128),
        strides=(1, 2, 2, 2),
        dilations=(1, 1, 1, 1),
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch'),
    decode_head=dict(
        type='GCNHead',
        in_channels=(256, 512, 1024, 2048),
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
