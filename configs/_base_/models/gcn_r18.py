# GCN + BR (Fig. 2A of "Large Kernel Matters") on a ResNet-18 trained from
# scratch, output stride 32 as in the paper: the network of the CPU demo
# (configs/demo). No pretrained weights (the demo runs offline). Plain BN:
# single-process runs turn SyncBN into BN anyway, and BN keeps the config
# usable by any launcher on a CPU.
_base_ = ['./gcn_r152.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(depth=18, norm_cfg=norm_cfg, init_cfg=None),
    decode_head=dict(in_channels=(64, 128, 256, 512)))
