# Table 6 ablation (attention type): EMA maps at B+E+D, DeepLabV3+-R101
# -> DeepLabV3+-R18 on VOC aug.
_base_ = ['../attnfd/deeplabv3plus_r101_r18_voc.py']
model = dict(
    distiller=dict(
        connector=dict(type='EMAConnector'),
        teacher_connector=dict(type='EMAConnector', learnable=False)))
