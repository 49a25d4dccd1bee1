# GCN decoder on the ResNet-50-GCN backbone (Fig. 5B, Table 6 of "Large
# Kernel Matters"). The paper pretrains this backbone on ImageNet with a
# recipe it does not give; set `init_cfg=dict(type='Pretrained',
# checkpoint=..., prefix='backbone.')` on the backbone to load such weights
# (e.g. an mmpretrain ImageClassifier checkpoint).
_base_ = ['./gcn_r152.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNetGCN',
        stage_blocks=(3, 4, 6, 3),
        gcn_kernel_sizes=(None, None, 5, 7),
        gcn_widths=(None, None, 85, 128),
        strides=(1, 2, 2, 2),
        dilations=(1, 1, 1, 1),
        out_indices=(0, 1, 2, 3),
        norm_cfg=_base_.norm_cfg,
        norm_eval=False,
        style='pytorch'))
