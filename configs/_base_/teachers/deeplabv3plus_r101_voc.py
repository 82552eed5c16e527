# Teacher: mmseg's DeepLabV3+-R101-D8 VOC-aug model-zoo checkpoint
# (40k iterations).
teacher = dict(
    cfg_path='mmseg::deeplabv3plus/deeplabv3plus_r101-d8_4xb4-40k_voc12aug-512x512.py',  # noqa: E501
    pretrained=False)
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3plus/deeplabv3plus_r101-d8_512x512_40k_voc12aug/deeplabv3plus_r101-d8_512x512_40k_voc12aug_20200613_205333-faf03387.pth'  # noqa: E501
teacher_layers = 'deeplabv3plus_r101'
