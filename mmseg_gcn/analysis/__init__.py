"""Analysis tools: the paper's model-size tables, its ablation study of the
pixel classifier, the valid receptive field by occlusion and a benchmark of
decode heads. (Dense CRF post-processing is a segmentor:
:mod:`mmseg_gcn.models.segmentors.dense_crf`.)"""
from .ablation import StudyOptions, parse_variant, run_study, summarize

__all__ = ['StudyOptions', 'parse_variant', 'run_study', 'summarize']
