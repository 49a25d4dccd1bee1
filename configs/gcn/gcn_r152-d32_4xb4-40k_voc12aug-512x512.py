# gcn_r152_voc.py for multi-GPU training in mmseg's usual form: 4 GPUs x 4
# images, 40k iterations (the same 640k images and about 60 epochs), SyncBN.
_base_ = [
    '../_base_/models/gcn_r152.py',
    '../_base_/datasets/pascal_voc12_aug_512x512.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd-m0.99_40k.py'
]
model = dict(data_preprocessor=dict(size=_base_.crop_size))
train_dataloader = dict(batch_size=4)
# lr (ours): mmseg's 0.01 at momentum 0.9 for 16 images/iter, with
# lr / (1 - momentum) kept at the paper's momentum 0.99
optim_wrapper = dict(optimizer=dict(lr=1e-3))
