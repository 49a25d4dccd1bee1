# Stage 1 of the paper's Cityscapes schedule (gcn_r152-d32_cityscapes-2stage.py):
# GCN + BR, ResNet-152, k = 25 (a 25 x 25 top map for 800 x 800 crops), on
# coarse `train_extra` (19,998 images, `gtCoarse`) + fine `train` (2,975,
# `gtFine`) = 22,973 images, random 800 x 800 crops, batch 1, SGD momentum
# 0.99, weight decay 5e-4.
_base_ = [
    '../_base_/models/gcn_r152.py',
    '../_base_/datasets/cityscapes_800x800.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd-m0.99_320k.py'
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(norm_eval=True),  # ours, as in gcn_r152_voc.py
    decode_head=dict(num_classes=19, kernel_size=25),
    # The paper's test: four 1024 x 1024 crops of a 1024 x 2048 image, score
    # maps fused. mmseg's slide mode puts ceil((2048 - 1024) / s) + 1 windows
    # in a row: 4 for a stride s in [342, 511]; 342 spaces them evenly
    # (x = 0, 342, 684, 1024); overlaps are averaged.
    test_cfg=dict(mode='slide', crop_size=(1024, 1024), stride=(1024, 342)))
# the fine set of the dataset base, and the coarse one in its image
dataset_fine = _base_.train_dataloader.dataset
dataset_coarse = dict(
    dataset_fine,
    data_prefix=dict(
        img_path='leftImg8bit/train_extra', seg_map_path='gtCoarse/train_extra'),
    seg_map_suffix='_gtCoarse_labelTrainIds.png')
train_dataloader = dict(
    batch_size=1,
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[dataset_coarse, dataset_fine]))
# lr (ours): mmseg's Cityscapes recipe (0.01 at momentum 0.9, 8 images/iter)
# per image and at momentum 0.99, with lr / (1 - momentum) kept: 0.01 / 8 / 10
optim_wrapper = dict(optimizer=dict(lr=1.25e-4))
# 320k iterations (ours, in the schedule): about 14 epochs of 22,973 images
