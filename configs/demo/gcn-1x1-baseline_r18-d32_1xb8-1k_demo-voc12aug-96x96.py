# The 1x1 baseline of the demo (Fig. 4A / Table 1 of "Large Kernel
# Matters"): the same network, data and schedule as the GCN demo config, with
# each level's k x k GCN replaced by a 1x1 conv, so the difference in val
# mIoU is the large kernels' alone. `python tools/demo.py --baseline`.
_base_ = ['./gcn_r18-d32_1xb8-1k_demo-voc12aug-96x96.py']
model = dict(decode_head=dict(classifier='1x1'))
