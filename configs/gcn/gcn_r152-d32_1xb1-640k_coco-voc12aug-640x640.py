# Stage 1 of the paper's VOC schedule (gcn_r152-d32_voc12-3stage.py): GCN + BR,
# ResNet-152, k = 15, on COCO images with VOC classes (labelled with VOC's
# classes) + SBD + VOC (109,892 images in the paper), padded to 640 x 640
# (COCO images are at most 640 px a side), batch 1, SGD momentum 0.99, weight
# decay 5e-4. Validation: VOC val, as in gcn_r152_voc.py.
# Make the COCO labels with `tools/dataset_converters/coco_to_voc.py` (README,
# "Datasets"): `data/coco/<split>/*.jpg` are COCO's images,
# `data/coco/voc_labels/<split>/*.png` their VOC labels and
# `data/coco/voc_labels/<split>.txt` the images that have VOC objects.
_base_ = [
    '../_base_/models/gcn_r152.py',
    '../_base_/datasets/pascal_voc12_aug_512x512.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd-m0.99_640k.py'
]
crop_size = (640, 640)
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations', num_classes=_base_.num_classes),
    dict(type='RandomCrop', crop_size=crop_size),  # a no-op here, as at 512
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
coco_root = 'data/coco'
# ours: COCO 2017 train + val, i.e. COCO 2014 trainval, the only COCO set of
# about the paper's size (99,310 = 109,892 - 10,582 images with VOC classes)
coco_splits = ('train2017', 'val2017')
coco_datasets = [
    dict(
        type='PascalVOCDataset',
        data_root=coco_root,
        data_prefix=dict(img_path=split, seg_map_path=f'voc_labels/{split}'),
        ann_file=f'voc_labels/{split}.txt',
        pipeline=train_pipeline) for split in coco_splits
]
train_dataloader = dict(
    batch_size=1,
    dataset=dict(datasets=[
        *coco_datasets,
        dict(_base_.dataset_train, pipeline=train_pipeline),
        dict(_base_.dataset_aug, pipeline=train_pipeline)
    ]))
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(norm_eval=True))  # ours, as in gcn_r152_voc.py
optim_wrapper = dict(optimizer=dict(lr=6.25e-5))  # as in gcn_r152_voc.py
# 640k iterations (ours, in the schedule): about 6 epochs of 109,892 images
