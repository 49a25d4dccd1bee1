# A config of another project: SegFormer's MiT-B0 encoder (mmseg's own) on
# VOC-aug with the GCN decoder (GCN + BR, Fig. 2A) in place of SegFormer's
# MLP head. Nothing but `custom_imports` comes from mmseg_gcn; train it with
# mmseg's own tools:
#   python ${MMSEG}/tools/train.py gcn_mit-b0_4xb4-40k_voc12aug-512x512.py
# MiT gives four levels at strides 4, 8, 16, 32 with 32, 64, 160, 256
# channels.
_base_ = [
    'mmseg::_base_/models/segformer_mit-b0.py',
    'mmseg::_base_/datasets/pascal_voc12_aug.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_40k.py',
]
custom_imports = dict(imports=['mmseg_gcn'], allow_failed_imports=False)
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(
        _delete_=True,
        type='GCNHead',
        in_channels=(32, 64, 160, 256),
        in_index=(0, 1, 2, 3),
        feature_strides=(4, 8, 16, 32),
        kernel_size=15,
        num_classes=21))
