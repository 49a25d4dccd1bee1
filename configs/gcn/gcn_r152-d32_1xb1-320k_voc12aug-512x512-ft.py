# Stage 2 of the paper's VOC schedule (gcn_r152-d32_voc12-3stage.py): SBD + VOC
# (10,582 images) padded to 512 x 512, starting from stage 1's final weights
# (tools/train_stages.py sets `load_from`).
_base_ = ['./gcn_r152_voc.py']
# ours: fine-tuning a trained model, 1/10 of stage 1's lr; 320k iterations,
# about 30 epochs
optim_wrapper = dict(optimizer=dict(lr=6.25e-6))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0,
        power=0.9,
        begin=0,
        end=320000,
        by_epoch=False)
]
train_cfg = dict(max_iters=320000, val_interval=32000)
