# GCN + BR (Fig. 2A), ImageNet ResNet-152, k = 15, trained on PASCAL VOC 2012
# + SBD aug (10,582 images) padded to 512 x 512 with horizontal flips, batch 1,
# SGD momentum 0.99, weight decay 5e-4: the paper's single-stage VOC setting.
# In mmseg's naming: gcn_r152-d32_1xb1-640k_voc12aug-512x512. Multi-GPU:
# gcn_r152-d32_4xb4-40k_voc12aug-512x512.py.
_base_ = [
    '../_base_/models/gcn_r152.py',
    '../_base_/datasets/pascal_voc12_aug_512x512.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd-m0.99_640k.py'
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    # ours: with batch 1, BN keeps ImageNet's statistics, as in Caffe
    backbone=dict(norm_eval=True))
train_dataloader = dict(batch_size=1)
# lr (ours): mmseg's VOC recipe (0.01 at momentum 0.9, 16 images/iter) per
# image and at momentum 0.99, with lr / (1 - momentum) kept: 0.01 / 16 / 10
optim_wrapper = dict(optimizer=dict(lr=6.25e-5))
# 640k iterations (ours, in the schedule): that recipe's 40k x 16 images,
# about 60 epochs
