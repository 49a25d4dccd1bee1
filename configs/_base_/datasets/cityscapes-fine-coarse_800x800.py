# Stage 1 of the paper's Cityscapes schedule: coarse `train_extra` (19,998
# images, `gtCoarse`) + fine `train` (2,975, `gtFine`) = 22,973 images, random
# 800 x 800 crops. `dataset_fine` alone is stage 2's training set.
_base_ = ['./cityscapes_800x800.py']
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
