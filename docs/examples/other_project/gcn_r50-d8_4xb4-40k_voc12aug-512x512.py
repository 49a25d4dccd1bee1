# A config of another project: mmseg's own PSPNet-R50-d8 set-up on VOC-aug
# with the GCN decoder (GCN + BR, Fig. 2A) in place of the PSP head. Nothing
# but `custom_imports` comes from mmseg_gcn; train it with mmseg's own tools:
#   python ${MMSEG}/tools/train.py gcn_r50-d8_4xb4-40k_voc12aug-512x512.py
# The dilated ResNet-50-d8 keeps res-3, res-4 and res-5 at stride 8, so
# feature_strides=(4, 8, 8, 8): those levels are summed without upsampling.
_base_ = [
    'mmseg::_base_/models/pspnet_r50-d8.py',
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
        in_channels=(256, 512, 1024, 2048),
        in_index=(0, 1, 2, 3),
        feature_strides=(4, 8, 8, 8),
        kernel_size=15,
        num_classes=21),
    auxiliary_head=dict(num_classes=21))
