# Table 4: the k = 7 "Stack" with intermediate width m = 210.
_base_ = ['./stack-res5-k7_r152-d32_1xb1-640k_voc12aug-512x512.py']
model = dict(decode_head=dict(stack_channels=210))
