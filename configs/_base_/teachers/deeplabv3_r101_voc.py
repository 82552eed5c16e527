# Teacher: mmseg's DeepLabV3-R101-D8 VOC-aug model-zoo checkpoint
# (77.92 mIoU, 40k iterations).
teacher = dict(
    cfg_path='mmseg::deeplabv3/deeplabv3_r101-d8_4xb4-40k_voc12aug-512x512.py',
    pretrained=False)
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3/deeplabv3_r101-d8_512x512_40k_voc12aug/deeplabv3_r101-d8_512x512_40k_voc12aug_20200613_161432-0017d784.pth'  # noqa: E501
teacher_layers = 'deeplabv3_r101'
