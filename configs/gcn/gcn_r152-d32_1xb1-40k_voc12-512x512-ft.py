# Stage 3 of the paper's VOC schedule (gcn_r152-d32_voc12-3stage.py): VOC 2012
# train only (1,464 images) padded to 512 x 512, starting from stage 2's final
# weights (tools/train.py sets `load_from`). Otherwise gcn_r152_voc.py.
_base_ = [
    '../_base_/models/gcn_r152.py',
    '../_base_/datasets/pascal_voc12_aug_512x512.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd-m0.99_40k.py'
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(norm_eval=True))  # ours, as in gcn_r152_voc.py
train_dataloader = dict(
    batch_size=1, dataset=dict(_delete_=True, **_base_.dataset_train))
# ours: stage 2's lr; 40k iterations, about 27 epochs
optim_wrapper = dict(optimizer=dict(lr=6.25e-6))
