# Table 6: ResNet50-GCN (our ImageNet pre-training) with the GCN + BR res-5
# head (k = 15) of Table 5. Ours: Table 6 does not say which GCN + BR
# head it uses; this is the ablations' one: the backbone config's GCN
# (k = 15) + BR head, on res-5 only.
_base_ = ['../gcn_r50-gcn-d32_1xb1-640k_voc12aug-512x512.py']
model = dict(
    decode_head=dict(
        in_channels=(2048, ),
        in_index=(3, ),
        feature_strides=(32, ),
        use_br=True))
