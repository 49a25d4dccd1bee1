# Multi-scale + flip test of the three-stage VOC model (the paper's
# "+ multi-scale"):
#   python tools/test.py THIS_FILE \
#       work_dirs/gcn_r152-d32_voc12-3stage/stage3_voc/final.pth
# The test augmentation is built in: do not add --tta. Ours: mmseg's scales
# 0.5-1.75, as the paper gives none.
_base_ = ['./gcn_r152-d32_1xb1-40k_voc12-512x512-ft.py']
model = dict(_delete_=True, type='SegTTAModel', module=_base_.model)
test_dataloader = dict(dataset=dict(pipeline=_base_.tta_pipeline))
