"""The numbers the paper reports, written once.

"Large Kernel Matters -- Improve Semantic Segmentation by Global
Convolutional Network" (Peng et al., CVPR 2017). The analysis tools compare
this package's models and results with these numbers
(:mod:`mmseg_gcn.analysis.paper_tables`, :mod:`mmseg_gcn.analysis.ablation`)
and the tests assert them; neither writes them again.

Parameter counts are weights only, for a pixel classifier on res-5
(2048 input channels, 21 PASCAL VOC classes). Results of the ablations are
keyed by the variant names of ``tools/analysis/ablation_study.py``:
``'1x1'`` is the baseline, ``'gcn-k15'`` the GCN with k = 15,
``'conv-k3'`` one 3 x 3 conv, ``'stack-k7'`` the stack of linear 3 x 3 convs
for k = 7, and ``-br`` adds Boundary Refinement.
"""
from typing import Dict, Tuple

#: Table 2: parameters of the GCN module, by kernel size k.
TABLE2_GCN_PARAMS: Dict[int, int] = {
    3: 260_694,
    5: 434_490,
    7: 608_286,
    9: 782_082,
}
#: Table 2: parameters of a single k x k conv, by kernel size k.
TABLE2_CONV_PARAMS: Dict[int, int] = {
    3: 387_072,
    5: 1_075_200,
    7: 2_107_392,
    9: 3_483_648,
}
#: Table 4: parameters of the "Stack" of linear 3 x 3 convs at k = 7, by
#: width m (the GCN with k = 7 is Table 2's).
TABLE4_STACK_PARAMS: Dict[int, int] = {
    2048: 75_884_544,
    1024: 28_505_088,
    210: 4_307_310,
}
#: Table 11: ResNet-50 and ResNet50-GCN both cost "about 3.7 GFLOPs" at
#: 224 x 224 (the paper does not say how it counts).
TABLE11_GFLOPS = 3.7

#: PASCAL VOC 2012 val mIoU (%) of the res-5 ablations (ResNet-152):
#: Table 1 (baseline, GCN), Table 2 (Conv), Table 3 (Stack) and Table 5
#: (GCN + BR).
VOC_VAL_MIOU: Dict[str, float] = {
    '1x1': 69.0,
    'gcn-k3': 70.1,
    'gcn-k5': 71.1,
    'gcn-k7': 72.8,
    'gcn-k9': 73.4,
    'gcn-k11': 73.7,
    'gcn-k13': 74.0,
    'gcn-k15': 74.5,
    'conv-k3': 69.8,
    'conv-k5': 70.4,
    'conv-k7': 69.6,
    'conv-k9': 68.8,
    'stack-k3': 69.8,
    'stack-k5': 71.8,
    'stack-k7': 71.3,
    'stack-k9': 69.5,
    'stack-k11': 67.5,
    'gcn-k15-br': 74.7,
}
#: Table 5: (boundary, internal) per-pixel accuracy (%) on VOC 2012 val.
TABLE5_REGION_ACCURACY: Dict[str, Tuple[float, float]] = {
    '1x1': (71.3, 93.9),
    'gcn-k15': (71.5, 95.0),
    'gcn-k15-br': (73.4, 95.1),
}
