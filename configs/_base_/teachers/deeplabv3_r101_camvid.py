# Teacher: DeepLabV3-R101-D8 trained first with
#   python tools/train.py configs/teachers/deeplabv3_r101_camvid.py
# (mmseg has no camvid model-zoo checkpoint); point teacher_ckpt at its
# checkpoint, e.g. --cfg-options model.teacher_ckpt=PATH.
teacher = dict(
    cfg_path='{{fileDirname}}/../../teachers/deeplabv3_r101_camvid.py')
teacher_ckpt = 'work_dirs/deeplabv3_r101_camvid/iter_9175.pth'
teacher_layers = 'deeplabv3_r101'
