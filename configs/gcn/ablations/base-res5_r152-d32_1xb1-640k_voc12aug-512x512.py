# Tables 1 and 5 "base": a 1 x 1 conv classifier on res-5, no BR.
_base_ = ['./gcn-res5-k15_r152-d32_1xb1-640k_voc12aug-512x512.py']
model = dict(decode_head=dict(classifier='1x1'))
