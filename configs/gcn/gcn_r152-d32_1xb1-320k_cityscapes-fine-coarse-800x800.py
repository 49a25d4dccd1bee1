# Stage 1 of the paper's Cityscapes schedule (gcn_r152-d32_cityscapes-2stage.py):
# GCN + BR, ResNet-152, k = 25 (a 25 x 25 top map for 800 x 800 crops), on
# coarse `train_extra` (19,998 images, `gtCoarse`) + fine `train` (2,975,
# `gtFine`) = 22,973 images, random 800 x 800 crops, batch 1, SGD momentum
# 0.99, weight decay 5e-4. The model, crops and test are stage 2's
# (gcn_r152-d32_1xb1-160k_cityscapes-800x800-ft.py); the data, the length
# and the lr are stage 1's own.
_base_ = ['./gcn_r152-d32_1xb1-160k_cityscapes-800x800-ft.py']
# the fine set of the dataset base, and the coarse one in its image
dataset_fine = _base_.train_dataloader.dataset
dataset_coarse = dict(
    dataset_fine,
    data_prefix=dict(
        img_path='leftImg8bit/train_extra', seg_map_path='gtCoarse/train_extra'),
    seg_map_suffix='_gtCoarse_labelTrainIds.png')
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[dataset_coarse, dataset_fine]))
# lr (ours): mmseg's Cityscapes recipe (0.01 at momentum 0.9, 8 images/iter)
# per image and at momentum 0.99, with lr / (1 - momentum) kept: 0.01 / 8 / 10
optim_wrapper = dict(optimizer=dict(lr=1.25e-4))
# 320k iterations (ours): about 14 epochs of 22,973 images. The lengths of
# configs/_base_/schedules/schedule_sgd-m0.99_320k.py; its checkpoint
# interval, 16k, is stage 2's too.
param_scheduler = [dict(_base_.param_scheduler[0], end=320000)]
train_cfg = dict(max_iters=320000, val_interval=32000)
