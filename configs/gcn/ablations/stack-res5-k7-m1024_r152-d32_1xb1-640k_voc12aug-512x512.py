# Table 4: the k = 7 "Stack" (as in stack-res5-k7_*.py) with intermediate
# width m = 1024.
_base_ = ['./gcn-res5-k15_r152-d32_1xb1-640k_voc12aug-512x512.py']
model = dict(
    decode_head=dict(classifier='stack', kernel_size=7, stack_channels=1024))
