# GCN (Fig. 2A of "Large Kernel Matters") on ImageNet ResNet-50 (Table 6's
# ResNet50; ours: torchvision's weights), output stride 32, the GCN + BR
# decoder of gcn_r152.py over res-2..res-5. k = 15 and 21 classes: the PASCAL
# VOC setting.
_base_ = ['./gcn_r152.py']
model = dict(
    backbone=dict(
        depth=50,
        init_cfg=dict(checkpoint='torchvision://resnet50')))
