# Copyright (c) attnfd-mm contributors. All rights reserved.
"""ONNX export of the student: onnxruntime's logits match PyTorch's, and
PyTorch's match mmseg's own whole-image inference, for three model families
at two input sizes; tools/export.py exports a student.pth or a distillation
checkpoint and names a missing dependency."""
import sys

import numpy as np
import pytest
from conftest import load_tool
import torch
from mmengine.config import Config, ConfigDict
from mmseg.structures import SegDataSample

from attnfd_mm.deploy import (DeployableSegmentor, ExportDependencyError,
                              OnnxParityError, check_onnx, export_onnx,
                              load_segmentor, onnx_session,
                              require_export_deps)
from attnfd_mm.deploy.onnx_export import ExportableAdaptiveAvgPool2d
from attnfd_mm.testing.model_families import (build_segmentor,
                                              family_segmentor)
from attnfd_mm.testing.tiny_configs import (deeplabv3_segmentor,
                                            tiny_distill_model)

#: two input sizes, neither square, height and width both changing: a
#: transposed or mis-sized output cannot pass
SIZES = [(64, 96), (96, 80)]
#: largest |onnxruntime - PyTorch| allowed on a logit (float32)
ATOL = 1e-4


def _segmentor(family: str) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_segmentor(family_segmentor(family)).eval()
    # random BN statistics: a graph that skipped them would differ
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return model


def _image(size, seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, *size, generator=g) * 255


def _mmseg_logits(segmentor, image: torch.Tensor) -> torch.Tensor:
    """mmseg's own inference: the data preprocessor, then ``predict``
    (whole image, logits resized to the original size)."""
    h, w = image.shape[-2:]
    segmentor.test_cfg = ConfigDict(mode='whole')
    sample = SegDataSample(metainfo=dict(img_shape=(h, w),
                                         ori_shape=(h, w)))
    data = segmentor.data_preprocessor(
        dict(inputs=[image[0]], data_samples=[sample]), False)
    with torch.no_grad():
        out = segmentor.predict(data['inputs'], data['data_samples'])
    return out[0].seg_logits.data[None]


@pytest.mark.parametrize('family', [
    'deeplabv3', 'fastscnn',
    pytest.param('pspnet', marks=pytest.mark.slow),
])
def test_onnx_logits_match_pytorch_and_mmseg(family, tmp_path):
    segmentor = _segmentor(family)
    path = export_onnx(segmentor, str(tmp_path / f'{family}.onnx'),
                       size=SIZES[0])
    session = onnx_session(path)
    wrapper = DeployableSegmentor(segmentor).eval()
    for size in SIZES:
        image = _image(size)
        with torch.no_grad():
            ours = wrapper(image)
        # the wrapper is mmseg's inference, transposes and units included
        expected = _mmseg_logits(segmentor, image)
        assert ours.shape == expected.shape == (1, 4, *size)
        torch.testing.assert_close(ours, expected, rtol=0, atol=1e-5)
        got = session.run(None, {'image': image.numpy()})[0]
        assert got.shape == (1, 4, *size)
        diff = float(np.abs(got - expected.numpy()).max())
        assert diff <= ATOL, (family, size, diff)
    # the library's check gives the same verdict, per size
    checked = check_onnx(path, segmentor, SIZES, atol=ATOL)
    assert [c['size'] for c in checked] == [list(s) for s in SIZES]
    assert all(c['max_abs_diff'] <= ATOL for c in checked)


@pytest.mark.parametrize('bins', [1, 2, 3, 6, (2, 5)])
def test_exportable_adaptive_pool_is_pytorchs(bins):
    # sizes that the bins divide and do not; a dynamic-size ONNX graph
    # pools with it (PSPNet, Fast-SCNN)
    pool = ExportableAdaptiveAvgPool2d(bins)
    for size in ((12, 12), (13, 7), (5, 17)):
        x = torch.randn(2, 3, *size, generator=torch.Generator()
                        .manual_seed(0))
        torch.testing.assert_close(pool(x), torch.nn.AdaptiveAvgPool2d(
            bins)(x), rtol=0, atol=1e-6)


def test_map_output_is_mmsegs_prediction_and_a_wrong_graph_is_caught(
        tmp_path):
    segmentor = _segmentor('deeplabv3')
    path = export_onnx(segmentor, str(tmp_path / 'map.onnx'), output='map',
                       size=SIZES[1])
    image = _image(SIZES[0], seed=1)
    got = onnx_session(path).run(None, {'image': image.numpy()})[0]
    expected = _mmseg_logits(segmentor, image).argmax(1).numpy()
    assert got.dtype == np.int64 and got.shape == (1, *SIZES[0])
    assert (got == expected).mean() > 0.999
    # a graph of other weights fails the check, with the size named
    other = _segmentor('deeplabv3')
    with torch.no_grad():
        other.decode_head.conv_seg.bias.add_(1.0)
    logits = export_onnx(other, str(tmp_path / 'other.onnx'), size=(64, 64))
    with pytest.raises(OnnxParityError, match='at 64x96: onnxruntime '
                       'differs from PyTorch by 1'):
        check_onnx(logits, segmentor, [SIZES[0]], atol=ATOL)


def test_tool_exports_a_distillation_checkpoint_and_a_student_pth(
        tmp_path, capsys):
    from attnfd_mm.apis import student_checkpoint
    student = deeplabv3_segmentor('r18', crop_size=(48, 64))
    Config(dict(model=student)).dump(str(tmp_path / 'student.py'))
    torch.manual_seed(1)
    algorithm = build_segmentor(tiny_distill_model('r18', 'r18'))
    with torch.no_grad():  # weights no fresh model has
        algorithm.student.decode_head.conv_seg.bias.uniform_(-3, 3)
    distill = dict(state_dict=algorithm.state_dict(), meta={})
    torch.save(distill, str(tmp_path / 'iter_1.pth'))
    torch.save(student_checkpoint(distill), str(tmp_path / 'student.pth'))
    trained = algorithm.student.eval()
    image = _image((48, 64), seed=2)
    with torch.no_grad():
        expected = DeployableSegmentor(trained)(image).numpy()
    out = str(tmp_path / 'student.onnx')
    load_tool('tools/export.py').main([str(tmp_path / 'student.py'),
                         str(tmp_path / 'iter_1.pth'), out])
    printed = capsys.readouterr().out
    # traced at the config's test size (its crop: 48x64), checked there and
    # at 36x80
    assert 'traced at 48x64' in printed
    assert 'onnxruntime vs PyTorch at 48x64: max_abs_diff' in printed
    assert 'onnxruntime vs PyTorch at 36x80: max_abs_diff' in printed
    got = onnx_session(out).run(None, {'image': image.numpy()})[0]
    assert np.abs(got - expected).max() <= ATOL  # the trained weights
    # student.pth loads the same weights
    plain = load_segmentor(str(tmp_path / 'student.py'),
                           str(tmp_path / 'student.pth'))
    with torch.no_grad():
        np.testing.assert_array_equal(
            DeployableSegmentor(plain)(image).numpy(), expected)


def test_missing_onnxruntime_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, 'onnxruntime', None)
    with pytest.raises(ExportDependencyError,
                       match=r'pip install attnfd-mm\[export\]'):
        require_export_deps()
    Config(dict(model=deeplabv3_segmentor('r18'))).dump(
        str(tmp_path / 'student.py'))
    with pytest.raises(SystemExit, match=r'onnxruntime is not installed.*'
                       r'pip install attnfd-mm\[export\]'):
        load_tool('tools/export.py').main([str(tmp_path / 'student.py'), 'missing.pth',
                             str(tmp_path / 'out.onnx')])
