# gcn_r152_voc.py on ImageNet ResNet-50 (Table 6's ResNet50); ours:
# torchvision's ImageNet weights.
_base_ = [
    '../_base_/models/gcn_r50.py',
    '../_base_/datasets/pascal_voc12_aug_512x512.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd-m0.99_640k.py'
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(norm_eval=True))  # ours, as in gcn_r152_voc.py
train_dataloader = dict(batch_size=1)
optim_wrapper = dict(optimizer=dict(lr=6.25e-5))  # as in gcn_r152_voc.py
