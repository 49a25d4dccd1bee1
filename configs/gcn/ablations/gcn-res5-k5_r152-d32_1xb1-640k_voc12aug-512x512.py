# Tables 1-3: GCN on res-5 with k = 5, no BR.
_base_ = ['./gcn-res5-k15_r152-d32_1xb1-640k_voc12aug-512x512.py']
model = dict(decode_head=dict(kernel_size=5))
