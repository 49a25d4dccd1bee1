# The paper's Cityscapes training: stage 1 on coarse + fine, stage 2 on fine
# from stage 1's final weights. Run both with
#   python tools/train.py configs/gcn/gcn_r152-d32_cityscapes-2stage.py
# (or bash tools/dist_train.sh THIS_FILE NUM_GPUS); the final model is
# work_dirs/gcn_r152-d32_cityscapes-2stage/stage2_fine/final.pth.
stages = [
    dict(
        name='coarse+fine',
        config='./gcn_r152-d32_1xb1-320k_cityscapes-fine-coarse-800x800.py'),
    dict(name='fine', config='./gcn_r152-d32_1xb1-160k_cityscapes-800x800-ft.py'),
]
