# The context set (`python tools/dataset_converters/generate_demo_data.py
# --dataset voc-context`): four shapes with identical interiors on 128 px
# images, so that a pixel's class is decided by the object's outline, far away
# (see mmseg_gcn/datasets/synthetic/context.py). Read by ContextShapesDataset:
# mmseg's PascalVOCDataset with the set's class names (background, disc,
# square, triangle, cross), in the first five VOC colours.
_base_ = ['mmseg::_base_/datasets/pascal_voc12.py']

data_root = 'data/context/VOCdevkit/VOC2012'
crop_size = (128, 128)
num_classes = 5
dataset_type = 'ContextShapesDataset'
# No resize or crop: a crop could cut an outline off, and then the class of
# the object would be undecidable. A horizontal flip keeps every shape's class.
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations', num_classes=num_classes),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegMap', num_classes=num_classes),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
# mmseg's mIoU (with its per-class table), and the accuracy within 7 px of
# an outline and elsewhere (Table 5).
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='BoundaryAccuracyMetric', width=7)
]
test_evaluator = val_evaluator
