# Table 3 "Conv": one 3 x 3 conv classifier on res-5, no BR.
_base_ = ['./gcn-res5-k15_r152-d32_1xb1-640k_voc12aug-512x512.py']
model = dict(decode_head=dict(classifier='conv', kernel_size=3))
