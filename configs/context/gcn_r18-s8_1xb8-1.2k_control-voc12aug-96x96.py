# The control of the context experiment: the same network and schedule as
# gcn_r18-s8_1xb8-1.2k_context-128x128.py, on the local-appearance demo set
# (configs/_base_/datasets/demo_voc12aug.py), where every class has its own
# colour and texture and a small window suffices.
_base_ = [
    '../_base_/models/gcn_r18-s8_res3.py',
    '../_base_/datasets/demo_voc12aug.py',
    '../_base_/schedules/schedule_demo_sgd-m0.9_1.2k.py',
    'mmseg::_base_/default_runtime.py'
]
crop_size = (96, 96)
model = dict(data_preprocessor=dict(size=crop_size))
# mmseg's mIoU (with its per-class table), and the accuracy within 7 px of
# an outline and elsewhere (Table 5).
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='BoundaryAccuracyMetric', width=7)
]
test_evaluator = val_evaluator
