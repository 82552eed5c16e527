# Table 5 ablation (distilled layers): AttnFD with layers B+E+D,
# DeepLabV3+-R101 -> DeepLabV3+-R18 on VOC aug (the paper's model has all of B,
# E and D).
_base_ = ['../attnfd/deeplabv3plus_r101_r18_voc.py']
