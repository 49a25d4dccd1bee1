# GCN + BR (Fig. 2A of "Large Kernel Matters") on a ResNet-18 trained from
# scratch on the synthetic demo VOC data, sized to train on a 2-core CPU in a
# few minutes (`make demo`, `tools/demo.py`). A demo, not the paper's setting
# (ImageNet ResNet-152, k=15, 512x512 inputs): see configs/gcn for that.
# Data: tools/demo.py generates it (240 train + 80 aug + 60 val images); for
# tools/train.py, run `python tools/dataset_converters/generate_demo_data.py
# --dataset voc --voc-train 240 --voc-aug 80 --voc-val 60` first.
_base_ = [
    '../_base_/models/gcn_r18.py', '../_base_/datasets/demo_voc12aug.py',
    '../_base_/schedules/schedule_demo_sgd-m0.9_1k.py',
    'mmseg::_base_/default_runtime.py'
]
# 1k iterations (~13 epochs of the 320 demo training images) take about
# 5 minutes on 2 CPU cores.
crop_size = (96, 96)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(
        # The paper picks k close to the size of the top feature map (15 for
        # 16x16 at 512 px). A 96 px crop gives 24, 12, 6 and 3 cells at
        # strides 4..32, so one k per level, at most the map size: a kernel
        # longer than the map only multiplies zero padding.
        kernel_size=(15, 9, 5, 3)))

train_dataloader = dict(batch_size=8)
