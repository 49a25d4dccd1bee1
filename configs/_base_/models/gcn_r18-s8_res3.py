# A small-receptive-field network for the large-kernel experiments (context
# set, its control, the ablation study): a ResNet-18 cut after res-3 (output
# stride 8, 128 channels), from scratch, under the paper's single-level
# ablation head (Fig. 4): a classifier on the stride-8 map, then three x2
# upsamplings, each followed by a BR.
#
# The backbone's receptive field is held small on purpose. The paper argues
# (Fig. 3) that a deep network's *valid* receptive field is much smaller than
# its objects; here that holds by construction, so the head's kernel decides
# how much of an object each pixel's classifier sees. A full ResNet-18 at
# 128 px ends in a 4 x 4 map whose units already see the whole image, and
# then no head needs a large kernel (docs/ablations.md).
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
        num_stages=2,
        out_indices=(0, 1),
        dilations=(1, 1),
        strides=(1, 2),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        init_cfg=None),
    decode_head=dict(
        type='GCNHead',
        in_channels=(128, ),
        in_index=(1, ),
        feature_strides=(8, ),
        # 15 x 15 cells at stride 8 cover 120 px: a whole 128 px image, as
        # k = 15 covers the 16 x 16 res-5 map of a 512 px image in the paper.
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
