# Table 6: ResNet50 (ImageNet) with the GCN + BR res-5
# head (k = 15) of Table 5. Ours: Table 6 does not say which GCN + BR
# head it uses; this is the ablations' one: gcn-res5-k15-br_r152-d32_*.py on
# the ResNet-50 of configs/_base_/models/gcn_r50.py.
_base_ = ['./gcn-res5-k15_r152-d32_1xb1-640k_voc12aug-512x512.py']
model = dict(
    backbone=dict(
        depth=50, init_cfg=dict(checkpoint='torchvision://resnet50')),
    decode_head=dict(use_br=True))
