# Stage 1 of the paper's VOC schedule (gcn_r152-d32_voc12-3stage.py): GCN + BR,
# ResNet-152, k = 15, on COCO images with VOC classes (labelled with VOC's
# classes) + SBD + VOC, padded to 640 x 640, batch 1, SGD momentum 0.99,
# weight decay 5e-4.
_base_ = [
    '../_base_/models/gcn_r152.py',
    '../_base_/datasets/coco-voc12aug_640x640.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd-m0.99_640k.py'
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(norm_eval=True))  # ours, as in gcn_r152_voc.py
train_dataloader = dict(batch_size=1)
optim_wrapper = dict(optimizer=dict(lr=6.25e-5))  # as in gcn_r152_voc.py
# 640k iterations (ours, in the schedule): about 6 epochs of 109,892 images
