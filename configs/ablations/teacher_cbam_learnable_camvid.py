# SPEC option on CamVid: AttnFD B+E with a learnable teacher-side CBAM trained
# jointly through the AttnFD loss (the teacher network itself stays frozen),
# DeepLabV3-R101 -> DeepLabV3-R18. The CamVid benchmark compares it with the
# default parameter-free teacher-side gates (--methods ... attnfd_tcbam).
# Schedule: as ../attnfd/deeplabv3_r101_r18_camvid.py.
_base_ = ['../attnfd/deeplabv3_r101_r18_camvid.py']
model = dict(
    distiller=dict(
        teacher_connector=dict(type='CBAMConnector', learnable=True)))
