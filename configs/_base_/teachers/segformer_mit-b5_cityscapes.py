# Teacher: mmseg's SegFormer MiT-B5 Cityscapes model-zoo checkpoint
# (82.25 mIoU, 160k iterations, 1024x1024 crops).
teacher = dict(
    cfg_path='mmseg::segformer/segformer_mit-b5_8xb1-160k_cityscapes-1024x1024.py',  # noqa: E501
    pretrained=False)
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/segformer/segformer_mit-b5_8x1_1024x1024_160k_cityscapes/segformer_mit-b5_8x1_1024x1024_160k_cityscapes_20211206_072934-87a052ec.pth'  # noqa: E501
