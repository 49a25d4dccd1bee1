# The paper's final PASCAL VOC model: three stages, each from the previous
# one's final weights: (1) COCO (VOC classes) + SBD + VOC at 640, (2) SBD + VOC
# at 512, (3) VOC train at 512. Run all with
#   python tools/train.py configs/gcn/gcn_r152-d32_voc12-3stage.py
# (or bash tools/dist_train.sh THIS_FILE NUM_GPUS); the final model is
# work_dirs/gcn_r152-d32_voc12-3stage/stage3_voc/final.pth.
stages = [
    dict(
        name='coco+sbd+voc',
        config='./gcn_r152-d32_1xb1-640k_coco-voc12aug-640x640.py'),
    dict(name='sbd+voc', config='./gcn_r152-d32_1xb1-320k_voc12aug-512x512-ft.py'),
    dict(name='voc', config='./gcn_r152-d32_1xb1-40k_voc12-512x512-ft.py'),
]
