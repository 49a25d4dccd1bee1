# Table 5 "GCN + BR": the k = 15 res-5 ablation head with Boundary Refinement
# (a BR after the GCN and after each x2 upsampling).
_base_ = ['./gcn-res5-k15_r152-d32_1xb1-640k_voc12aug-512x512.py']
model = dict(decode_head=dict(use_br=True))
