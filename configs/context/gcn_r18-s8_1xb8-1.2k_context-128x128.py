# GCN (k = 15) + BR on the context set, where a pixel's class is decided by
# its object's outline, tens of pixels away (configs/_base_/datasets/
# context-shapes_voc12.py), on a network whose own receptive field is small
# (configs/_base_/models/gcn_r18-s8_res3.py). `make demo` trains it next to
# the 1x1 baseline; tools/analysis/ablation_study.py varies its head.
# Data: `python tools/dataset_converters/generate_demo_data.py --dataset
# context` (tools/demo.py makes it when missing).
_base_ = [
    '../_base_/models/gcn_r18-s8_res3.py',
    '../_base_/datasets/context-shapes_voc12.py',
    '../_base_/schedules/schedule_demo_sgd-m0.9_1.2k.py',
    'mmseg::_base_/default_runtime.py'
]
crop_size = (128, 128)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=5))
