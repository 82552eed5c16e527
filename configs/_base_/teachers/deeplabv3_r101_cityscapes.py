# Teacher: mmseg's DeepLabV3-R101-D8 Cityscapes model-zoo checkpoint
# (80.20 mIoU, 80k iterations).
teacher = dict(
    cfg_path='mmseg::deeplabv3/deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.py',  # noqa: E501
    pretrained=False)
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3/deeplabv3_r101-d8_512x1024_80k_cityscapes/deeplabv3_r101-d8_512x1024_80k_cityscapes_20200606_113503-9e428899.pth'  # noqa: E501
teacher_layers = 'deeplabv3_r101'
