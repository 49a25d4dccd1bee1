# Cityscapes fine `train` (2,975 images) with the paper's random 800 x 800
# crops and horizontal flips. Validation on fine `val` at the full
# 1024 x 2048 resolution (the models test with sliding windows). Layout and
# preparation: README, "Datasets".
_base_ = ['mmseg::_base_/datasets/cityscapes.py']
num_classes = 19
crop_size = (800, 800)
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations', num_classes=num_classes),
    # the paper: random crops; ours: no random rescaling, which it does not
    # mention
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
# Cityscapes images are 1024 x 2048 already: no resize
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegMap', num_classes=num_classes),
    dict(type='PackSegInputs')
]
# multi-scale + flip test; ours: mmseg's scales, as the paper gives none
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='Resize', scale_factor=r, keep_ratio=True)
                for r in _base_.img_ratios
            ],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ],
            [dict(type='LoadAnnotations')],
            [dict(type='CheckSegMap', num_classes=num_classes)],
            [dict(type='PackSegInputs')],
        ])
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
