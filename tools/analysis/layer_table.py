# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The compatibility table of AttnFD's 'auto' layers over mmseg's model
families: the layers B, E, D found in each family's stock model and whether
one training step of AttnFD (B+E) runs with the family as the student of a
DeepLabV3-R18 teacher and as the teacher of a DeepLabV3-R18 student (the
checks of ``tests/test_model_families.py``).

    python tools/analysis/layer_table.py [--families fcn segformer ...] \
        [--out-md docs/compatibility.md]

CPU, offline, no pretrained weights; 64x64 inputs (larger where a model
needs it). Prints a Markdown table.
"""
import argparse
import os.path as osp
import sys
import time
from typing import Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

import attnfd_mm  # noqa: E402,F401
from attnfd_mm.models.distillers import (LayerNotFoundError,  # noqa: E402
                                         find_layers)
from attnfd_mm.testing import deeplabv3_segmentor  # noqa: E402
from attnfd_mm.testing.model_families import (INPUT_SIZES,  # noqa: E402
                                              MODEL_FAMILIES,
                                              build_segmentor, distill_step,
                                              family_segmentor, step_problems)

CONFIG_URL = ('https://github.com/open-mmlab/mmsegmentation/blob/v1.2.2/'
              'configs/')


def describe_layer(layer: Optional[Dict]) -> str:
    """A layer dict in a few words, for tables."""
    if layer is None:
        return '-'
    text = f"`{layer['source']}`"
    if layer['recorder'] == 'PreForwardInputs':
        text += ' input'
    elif layer['recorder'] == 'OutputElement':
        text += f" output{list(layer['path'])}"
        if 'train_path' in layer:
            text += f" (train: {list(layer['train_path'])})"
    if layer.get('record_idx'):
        text += f" call {layer['record_idx']}"
    return f"{text}, {layer['channels']} ch"


def family_row(family: str) -> Dict[str, str]:
    """The table row of one family."""
    size = INPUT_SIZES.get(family, (64, 64))
    model = family_segmentor(family)
    r18 = deeplabv3_segmentor('r18', crop_size=size)
    row = dict(family=family, config=MODEL_FAMILIES[family])
    try:
        layers = find_layers(build_segmentor(model))
    except LayerNotFoundError as err:
        message = str(err).split('. ')[0]
        row.update(B='-', E='-', D='-', student=f'error: {message}',
                   teacher='same error')
        return row
    row.update({name: describe_layer(layers.get(name))
                for name in ('B', 'E', 'D')})
    for role, pair in (('student', (model, r18)), ('teacher', (r18, model))):
        try:
            problems = step_problems(distill_step(*pair, size=size))
            row[role] = ', '.join(problems) or 'ok'
        except Exception as err:  # reported in the table
            row[role] = f'error: {type(err).__name__}: {err}'[:120]
    return row


def markdown(rows: List[Dict[str, str]]) -> str:
    lines = [
        '| family | stock config | B | E | D | as student | as teacher |',
        '|---|---|---|---|---|---|---|'
    ]
    for r in rows:
        config = f"[{osp.basename(r['config'])}]({CONFIG_URL}{r['config']})"
        lines.append(f"| {r['family']} | {config} | {r['B']} | {r['E']} | "
                     f"{r['D']} | {r['student']} | {r['teacher']} |")
    return '\n'.join(lines) + '\n'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        '--families', nargs='+', choices=sorted(MODEL_FAMILIES),
        default=sorted(MODEL_FAMILIES), help='families to check (all)')
    parser.add_argument('--out-md', help='also write the table to this file')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    rows = []
    for family in args.families:
        start = time.time()
        rows.append(family_row(family))
        print(f'{family}: {time.time() - start:.1f} s', file=sys.stderr)
    table = markdown(rows)
    print(table)
    if args.out_md:
        with open(args.out_md, 'w') as f:
            f.write(table)


if __name__ == '__main__':
    main()
