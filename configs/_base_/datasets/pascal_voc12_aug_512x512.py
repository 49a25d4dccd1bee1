# PASCAL VOC 2012 + SBD aug (10,582 training images: VOC `train` +
# `aug.txt`), as the paper trains on it: mean subtraction, horizontal flip,
# inputs padded to 512 x 512. The padding is done by the model's
# data_preprocessor (set its `size` to `crop_size`), after mean subtraction,
# so padded pixels hold the mean colour as in Caffe. Layout and preparation:
# README, "Datasets".
_base_ = ['mmseg::_base_/datasets/pascal_voc12_aug.py']
num_classes = 21
crop_size = (512, 512)
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations', num_classes=num_classes),
    # ours: a no-op on VOC (<= 500 px a side) that keeps any larger image
    # within the padded size
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
# ours (the paper gives no test scale): whole images at their own size
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegMap', num_classes=num_classes),
    dict(type='PackSegInputs')
]
# multi-scale + flip test (tools/test.py --tta); ours: mmseg's scales, as the
# paper does not give its own
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
dataset_train = dict(_base_.dataset_train, pipeline=train_pipeline)
dataset_aug = dict(_base_.dataset_aug, pipeline=train_pipeline)
train_dataloader = dict(dataset=dict(datasets=[dataset_train, dataset_aug]))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
