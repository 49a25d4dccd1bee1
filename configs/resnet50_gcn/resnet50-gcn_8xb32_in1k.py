# ImageNet pre-training of the ResNet-50-GCN backbone (Fig. 5B, Table 11) as
# an mmpretrain ImageClassifier. The paper gives no ImageNet recipe; ours is
# mmpretrain's ResNet-50 one (8 GPUs x 32 images, SGD lr 0.1, 100 epochs,
# lr / 10 at epochs 30, 60 and 90), so the two backbones of Table 6 are
# trained alike. Train with
#   bash tools/dist_train.sh configs/resnet50_gcn/resnet50-gcn_8xb32_in1k.py 8
# and use work_dirs/resnet50-gcn_8xb32_in1k/epoch_100.pth in
# configs/gcn/gcn_r50-gcn-d32_1xb1-640k_voc12aug-512x512.py, whose backbone
# loads it with init_cfg=dict(type='Pretrained', checkpoint=...,
# prefix='backbone.').
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    'mmpretrain::_base_/datasets/imagenet_bs32.py',
    'mmpretrain::_base_/schedules/imagenet_bs256.py',
    'mmpretrain::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmseg_gcn'], allow_failed_imports=False)
# ResNetGCN's defaults are Table 11: res-4 k = 5, m' = 85; res-5 k = 7,
# m' = 128; the rest is ResNet-50.
model = dict(backbone=dict(_delete_=True, type='ResNetGCN', out_indices=(3, )))
