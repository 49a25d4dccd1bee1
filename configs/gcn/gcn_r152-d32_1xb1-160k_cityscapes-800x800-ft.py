# Stage 2 of the paper's Cityscapes schedule (gcn_r152-d32_cityscapes-2stage.py):
# fine train only (2,975 images), starting from stage 1's final weights
# (tools/train.py sets `load_from`; alone, this config starts from
# ImageNet). The model and test of both stages: GCN + BR, ResNet-152, k = 25
# (a 25 x 25 top map for 800 x 800 crops), random 800 x 800 crops, batch 1,
# SGD momentum 0.99, weight decay 5e-4. Stage 1
# (gcn_r152-d32_1xb1-320k_cityscapes-fine-coarse-800x800.py) is this config
# on coarse + fine data, longer and at a higher lr.
_base_ = [
    '../_base_/models/gcn_r152.py',
    '../_base_/datasets/cityscapes_800x800.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd-m0.99_160k.py'
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
train_dataloader = dict(batch_size=1)
# ours: fine-tuning a trained model, 1/10 of stage 1's lr; 160k iterations,
# about 54 epochs
optim_wrapper = dict(optimizer=dict(lr=1.25e-5))
