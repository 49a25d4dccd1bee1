# gcn_r152_voc.py on ImageNet ResNet-50 (Table 6's ResNet50); ours:
# torchvision's ImageNet weights.
_base_ = ['./gcn_r152_voc.py']
model = dict(
    backbone=dict(
        depth=50,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')))
