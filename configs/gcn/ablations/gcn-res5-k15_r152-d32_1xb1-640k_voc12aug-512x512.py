# Ablation head of Tables 1-3 (Fig. 4): the paper's ablations classify res-5
# only (2048 -> 21 channels) without BR: here a GCN with k = 15, then five x2
# upsamplings to the input size. Trained as gcn_r152_voc.py. The other
# ablation configs inherit this one and change a line.
_base_ = [
    '../../_base_/models/gcn_r152.py',
    '../../_base_/datasets/pascal_voc12_aug_512x512.py',
    'mmseg::_base_/default_runtime.py',
    '../../_base_/schedules/schedule_sgd-m0.99_640k.py'
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(norm_eval=True),  # ours, as in gcn_r152_voc.py
    decode_head=dict(
        in_channels=(2048, ),
        in_index=(3, ),
        feature_strides=(32, ),
        classifier='gcn',
        kernel_size=15,
        use_br=False))
train_dataloader = dict(batch_size=1)
optim_wrapper = dict(optimizer=dict(lr=6.25e-5))  # as in gcn_r152_voc.py
