# Table 6: ResNet50-GCN (our ImageNet pre-training) with the 1 x 1 res-5 baseline
# head of the ablations (no BR): the res-5 head of
# gcn-res5-k15_r152-d32_*.py with a 1 x 1 classifier, on the backbone's
# config.
_base_ = ['../gcn_r50-gcn-d32_1xb1-640k_voc12aug-512x512.py']
model = dict(
    decode_head=dict(
        in_channels=(2048, ),
        in_index=(3, ),
        feature_strides=(32, ),
        classifier='1x1',
        use_br=False))
