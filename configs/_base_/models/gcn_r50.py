# GCN (Fig. 2A of "Large Kernel Matters") on ImageNet ResNet-50 (Table 6's
# ResNet50; ours: torchvision's weights), output stride 32, the GCN + BR
# decoder of gcn_r152.py over res-2..res-5. k = 15 and 21 classes: the PASCAL
# VOC setting.
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
        # the original ResNet (7x7 stem), so torchvision's weights load
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 1, 1),
        strides=(1, 2, 2, 2),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        init_cfg=dict(
            type='Pretrained', checkpoint='torchvision://resnet50')),
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
