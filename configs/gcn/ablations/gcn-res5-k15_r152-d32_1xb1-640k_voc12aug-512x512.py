# Ablation head of Tables 1-3 (Fig. 4): the paper's ablations classify res-5
# only (2048 -> 21 channels) without BR: here a GCN with k = 15, then five x2
# upsamplings to the input size. Trained as gcn_r152_voc.py. The other
# ablation configs inherit this one and change a line.
_base_ = ['../gcn_r152_voc.py']
model = dict(
    decode_head=dict(
        in_channels=(2048, ),
        in_index=(3, ),
        feature_strides=(32, ),
        classifier='gcn',
        kernel_size=15,
        use_br=False))
