# Stage 2 of the paper's Cityscapes schedule (gcn_r152-d32_cityscapes-2stage.py):
# fine train only (2,975 images), starting from stage 1's final weights
# (tools/train_stages.py sets `load_from`; alone, this config starts from
# ImageNet).
_base_ = ['./gcn_r152-d32_1xb1-320k_cityscapes-fine-coarse-800x800.py']
train_dataloader = dict(dataset=dict(_delete_=True, **_base_.dataset_fine))
# ours: fine-tuning a trained model, 1/10 of stage 1's lr; 160k iterations,
# about 54 epochs
optim_wrapper = dict(optimizer=dict(lr=1.25e-5))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0,
        power=0.9,
        begin=0,
        end=160000,
        by_epoch=False)
]
train_cfg = dict(max_iters=160000, val_interval=16000)
