# gcn_r152_voc.py on the ResNet-50-GCN backbone (Fig. 5B, Table 11; Table 6),
# ImageNet-pretrained with configs/resnet50_gcn/resnet50-gcn_8xb32_in1k.py.
# `prefix='backbone.'` loads the backbone of that mmpretrain ImageClassifier
# checkpoint; pass another file with
# --cfg-options model.backbone.init_cfg.checkpoint=PATH.
_base_ = [
    '../_base_/models/gcn_resnet50-gcn.py',
    '../_base_/datasets/pascal_voc12_aug_512x512.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd-m0.99_640k.py'
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(
        norm_eval=True,  # ours, as in gcn_r152_voc.py
        init_cfg=dict(
            type='Pretrained',
            checkpoint='work_dirs/resnet50-gcn_8xb32_in1k/epoch_100.pth',
            prefix='backbone.')))
train_dataloader = dict(batch_size=1)
optim_wrapper = dict(optimizer=dict(lr=6.25e-5))  # as in gcn_r152_voc.py
