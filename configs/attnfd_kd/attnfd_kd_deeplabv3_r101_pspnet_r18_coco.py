# AttnFD + KD (../_base_/methods/attnfd_kd.py): DeepLabV3-R101-D8 (teacher) ->
# PSPNet-R18-D8 (student) on COCO-VOC21, layers B + E.
# Schedule: as ../_base_/distill/deeplabv3_r101_pspnet_r18_coco.py.
#   python tools/train.py \
#       configs/attnfd_kd/attnfd_kd_deeplabv3_r101_pspnet_r18_coco.py
_base_ = [
    '../_base_/distill/deeplabv3_r101_pspnet_r18_coco.py',
    '../_base_/methods/attnfd_kd.py'
]
model = dict(
    distiller=dict(
        _base_.distiller,
        student_layers='pspnet_r18',
        teacher_layers=_base_.teacher_layers))
