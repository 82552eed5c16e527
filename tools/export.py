# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Export a (distilled) student to ONNX and check it with onnxruntime.

    python tools/export.py STUDENT_CONFIG CHECKPOINT OUT.onnx \
        [--output logits|map] [--size HxW] [--check-sizes HxW ...] \
        [--atol 0.001] [--no-check] [--opset 17]

CHECKPOINT is the run's ``student.pth``, a plain mmseg checkpoint of the
student config, or any distillation checkpoint (its student is taken).
STUDENT_CONFIG may also be the run's ``distill_config.py``. The graph takes
the image as mmcv loads it (float32 N x 3 x H x W, BGR, 0-255; batch, height
and width dynamic), normalises it as the config's data preprocessor does,
and returns the logits resized to the input (``--output logits``, N x C x H
x W) or the predicted class map (``--output map``, N x H x W int64), as
mmseg's whole-image inference. It is traced at ``--size`` (default: the
config's test size) and, unless ``--no-check``, run with onnxruntime beside
PyTorch on a random image at each ``--check-sizes`` (default: the trace
size and one of 3/4 its height and 5/4 its width): the largest logit
difference must stay within ``--atol`` (the map: that share of pixels).
Needs ``pip install attnfd-mm[export]`` (onnx, onnxruntime).
"""
import argparse
from typing import List, Optional

from attnfd_mm.apis import load_config
from attnfd_mm.compat import apply_entry_point_patches
from attnfd_mm.deploy import (OUTPUTS, ExportDependencyError,
                              OnnxParityError, check_onnx, export_onnx,
                              load_segmentor, require_export_deps,
                              config_test_size)
from attnfd_mm.utils import parse_size


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 2)[2])
    parser.add_argument('config', help='the student config (or the run\'s '
                        'distill_config.py)')
    parser.add_argument('checkpoint', help='student.pth, a plain mmseg '
                        'checkpoint or a distillation checkpoint')
    parser.add_argument('out', help='the ONNX file to write')
    parser.add_argument('--output', choices=OUTPUTS, default='logits',
                        help='logits resized to the input (default) or the '
                        'predicted class map')
    parser.add_argument('--size', type=parse_size,
                        help='HxW the graph is traced at (default: the '
                        'config\'s test size)')
    parser.add_argument('--check-sizes', type=parse_size, nargs='+',
                        metavar='HxW', help='sizes onnxruntime is checked '
                        'at')
    parser.add_argument('--atol', type=float, default=1e-3,
                        help='largest logit difference allowed (default '
                        '1e-3); for --output map: the share of pixels')
    parser.add_argument('--no-check', action='store_true',
                        help='export only, without onnxruntime')
    parser.add_argument('--opset', type=int, default=17)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    apply_entry_point_patches()
    args = parse_args(argv)
    try:
        if args.no_check:
            require_export_deps('onnx')
        else:
            require_export_deps()
    except ExportDependencyError as e:
        raise SystemExit(f'[export] {e}')
    cfg = load_config(args.config)
    size = args.size or config_test_size(cfg)
    segmentor = load_segmentor(cfg, args.checkpoint)
    export_onnx(segmentor, args.out, args.output, size, args.opset)
    print(f'[export] {args.out}: {args.output}, traced at {size[0]}x'
          f'{size[1]}, dynamic batch, height and width', flush=True)
    if args.no_check:
        return
    sizes = args.check_sizes or [
        size, (max(8, size[0] * 3 // 4), max(8, size[1] * 5 // 4))]
    try:
        checked = check_onnx(args.out, segmentor, sizes, args.output,
                             args.atol)
    except OnnxParityError as e:
        raise SystemExit(f'[export] check failed: {e}')
    for row in checked:
        (h, w), key = row['size'], next(k for k in row
                                        if k not in ('size', 'tolerance'))
        print(f'[export] onnxruntime vs PyTorch at {h}x{w}: {key} '
              f'{row[key]:.3g} (tolerance {row["tolerance"]:g})')


if __name__ == '__main__':
    main()
