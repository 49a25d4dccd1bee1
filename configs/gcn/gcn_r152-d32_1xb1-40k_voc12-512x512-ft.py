# Stage 3 of the paper's VOC schedule (gcn_r152-d32_voc12-3stage.py): VOC 2012
# train only (1,464 images) padded to 512 x 512, starting from stage 2's final
# weights (tools/train_stages.py sets `load_from`).
_base_ = ['./gcn_r152-d32_1xb1-320k_voc12aug-512x512-ft.py']
train_dataloader = dict(dataset=dict(_delete_=True, **_base_.dataset_train))
# ours: stage 2's lr; 40k iterations, about 27 epochs
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0,
        power=0.9,
        begin=0,
        end=40000,
        by_epoch=False)
]
train_cfg = dict(max_iters=40000, val_interval=4000)
default_hooks = dict(checkpoint=dict(interval=4000))
