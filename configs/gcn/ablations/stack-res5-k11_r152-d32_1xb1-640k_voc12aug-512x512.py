# Table 3 "Stack" (and Table 4, m = 2048 at k = 7): (k - 1) / 2 linear 3 x 3
# convs 2048 -> 2048 -> ... -> 21 on res-5 (receptive field 11 x 11), no BR.
_base_ = ['./gcn-res5-k15_r152-d32_1xb1-640k_voc12aug-512x512.py']
model = dict(
    decode_head=dict(classifier='stack', kernel_size=11, stack_channels=2048))
