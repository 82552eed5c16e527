# Copyright (c) attnfd-mm contributors. All rights reserved.
"""AttnFD with 'auto' layers over mmseg 1.2.2's model families: each
family's stock model as the student of a DeepLabV3-R18 teacher and as the
teacher of a DeepLabV3-R18 student, one training step each.

``python tools/analysis/layer_table.py`` prints the same checks as the
compatibility table of docs/design.md.
"""
import pytest

from attnfd_mm.models.distillers import LayerNotFoundError
from attnfd_mm.testing import deeplabv3_segmentor
from attnfd_mm.testing.model_families import (INPUT_SIZES, MODEL_FAMILIES,
                                              distill_step, family_segmentor,
                                              step_problems)

pytestmark = pytest.mark.slow

#: Families whose layers 'auto' cannot find: what the error says.
EXPECTED_ERRORS = {
    # IterativeDecodeHead: mask kernels, no conv_seg classifier
    'knet': 'Layer E not found',
    # SegmenterMaskTransformerHead deletes conv_seg
    'segmenter': 'Layer E not found',
    # mmseg 1.2.2's tensor-mode forward of PointRend raises a TypeError
    'point_rend': 'probe forward',
}


def test_the_issue_families_are_covered():
    required = {
        'fcn', 'pspnet', 'deeplabv3', 'deeplabv3plus', 'upernet', 'swin',
        'segformer', 'hrnet', 'ocrnet', 'bisenetv2', 'mobilenet_v3',
        'ddrnet', 'pidnet', 'unet', 'ccnet', 'danet', 'psanet', 'twins',
        'setr', 'dpt', 'point_rend', 'knet'
    }
    assert required <= set(MODEL_FAMILIES)


@pytest.mark.parametrize('role', ['student', 'teacher'])
@pytest.mark.parametrize('family', sorted(MODEL_FAMILIES))
def test_family_distils_with_auto_layers(family, role, pooled_weight_init):
    size = INPUT_SIZES.get(family, (64, 64))
    model = family_segmentor(family)
    r18 = deeplabv3_segmentor('r18', crop_size=size)
    pair = (model, r18) if role == 'student' else (r18, model)
    if family in EXPECTED_ERRORS:
        with pytest.raises(LayerNotFoundError,
                           match=EXPECTED_ERRORS[family]) as err:
            distill_step(*pair, size=size)
        assert 'student_layers=dict(B=' in str(err.value)
        return
    # finite loss_attnfd_B and _E, gradients at every connector and the
    # student, none at the teacher
    assert step_problems(distill_step(*pair, size=size)) == []
