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
_base_ = ['./gcn_r152.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(
        depth=18,
        num_stages=2,
        out_indices=(0, 1),
        dilations=(1, 1),
        strides=(1, 2),
        norm_cfg=norm_cfg,
        init_cfg=None),
    decode_head=dict(
        in_channels=(128, ),
        in_index=(1, ),
        # 15 x 15 cells at stride 8 cover 120 px: a whole 128 px image, as
        # k = 15 covers the 16 x 16 res-5 map of a 512 px image in the paper.
        feature_strides=(8, )))
