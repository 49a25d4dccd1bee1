# Table 6: ResNet50 (ImageNet) with the 1 x 1 res-5 baseline
# head of the ablations (no BR): base-res5_r152-d32_*.py on the ResNet-50 of
# configs/_base_/models/gcn_r50.py.
_base_ = ['./gcn-res5-k15_r152-d32_1xb1-640k_voc12aug-512x512.py']
model = dict(
    backbone=dict(
        depth=50, init_cfg=dict(checkpoint='torchvision://resnet50')),
    decode_head=dict(classifier='1x1'))
