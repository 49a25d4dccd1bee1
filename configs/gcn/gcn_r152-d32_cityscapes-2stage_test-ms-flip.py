# Multi-scale + flip test of the two-stage Cityscapes model (the paper's
# "+ multi-scale"), every scale with the four-window sliding test:
#   python tools/test.py THIS_FILE \
#       work_dirs/gcn_r152-d32_cityscapes-2stage/stage2_fine/final.pth
# The test augmentation is built in: do not add --tta. Ours: mmseg's scales
# 0.5-1.75, as the paper gives none.
_base_ = ['./gcn_r152-d32_1xb1-160k_cityscapes-800x800-ft.py']
model = dict(_delete_=True, type='SegTTAModel', module=_base_.model)
test_dataloader = dict(dataset=dict(pipeline=_base_.tta_pipeline))
