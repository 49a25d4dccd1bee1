# The 1x1 baseline on the context set (Fig. 4A / Table 1 "base"): the same
# network, data and schedule as the GCN config next to it, with the k x k GCN
# replaced by a 1x1 conv (BR kept), so any difference in val mIoU is the
# large kernel's alone.
_base_ = ['./gcn_r18-s8_1xb8-1.2k_context-128x128.py']
model = dict(decode_head=dict(classifier='1x1'))
