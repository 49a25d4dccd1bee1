# Stage 2 of the paper's VOC schedule (gcn_r152-d32_voc12-3stage.py): SBD + VOC
# (10,582 images) padded to 512 x 512, starting from stage 1's final weights
# (tools/train.py sets `load_from`). Otherwise gcn_r152_voc.py.
_base_ = [
    '../_base_/models/gcn_r152.py',
    '../_base_/datasets/pascal_voc12_aug_512x512.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd-m0.99_320k.py'
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(norm_eval=True))  # ours, as in gcn_r152_voc.py
train_dataloader = dict(batch_size=1)
# ours: fine-tuning a trained model, 1/10 of stage 1's lr; 320k iterations,
# about 30 epochs
optim_wrapper = dict(optimizer=dict(lr=6.25e-6))
