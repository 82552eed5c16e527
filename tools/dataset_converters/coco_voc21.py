# Copyright (c) attnfd-mm contributors. All rights reserved.
"""COCO 2017 instance annotations -> 21-class Pascal VOC label maps.

    python tools/dataset_converters/coco_voc21.py data/coco [--nproc 1]

Reads ``annotations/instances_{split}.json`` under the COCO root and writes
``voc21/annotations/{split}/<image>.png`` (0 = background, 1-20 = the VOC
classes) and ``voc21/{split}.txt`` (the kept images) for ``COCOVOC21Dataset``.
As in AttnFD: only the 20 COCO categories that are VOC classes are drawn;
where instances overlap, the first drawn keeps the pixel; an image is kept
only with more than ``--min-pixels`` (1,000) labelled pixels.
"""
import argparse
import os
import os.path as osp
from functools import partial
from typing import Dict, List, Optional, Tuple

import numpy as np

#: COCO category id of each VOC class, in VOC order (index = VOC label).
COCO_IDS_IN_VOC_ORDER: List[int] = [
    0, 5, 2, 16, 9, 44, 6, 3, 17, 62, 21, 67, 18, 19, 4, 1, 64, 20, 63, 7, 72
]


def voc21_mask(annotations: List[Dict], height: int,
               width: int) -> np.ndarray:
    """The (height, width) uint8 VOC label map of one image's annotations,
    drawn in order; a pixel keeps the first VOC class drawn on it."""
    from pycocotools import mask as mask_utils

    label = np.zeros((height, width), dtype=np.uint8)
    for ann in annotations:
        cat = ann['category_id']
        if cat not in COCO_IDS_IN_VOC_ORDER[1:]:
            continue
        segm = ann['segmentation']
        if isinstance(segm, list):  # polygons
            rle = mask_utils.merge(
                mask_utils.frPyObjects(segm, height, width))
        elif isinstance(segm['counts'], list):  # uncompressed RLE (crowd)
            rle = mask_utils.frPyObjects(segm, height, width)
        else:
            rle = segm
        drawn = mask_utils.decode(rle).astype(bool)
        label[drawn & (label == 0)] = COCO_IDS_IN_VOC_ORDER.index(cat)
    return label


def _convert_one(item: Tuple[Dict, List[Dict]], out_dir: str,
                 min_pixels: int) -> Optional[str]:
    """Write one image's label map; its name if kept, else None."""
    from PIL import Image

    image, annotations = item
    label = voc21_mask(annotations, image['height'], image['width'])
    if int((label > 0).sum()) <= min_pixels:
        return None
    name = osp.splitext(image['file_name'])[0]
    Image.fromarray(label).save(osp.join(out_dir, name + '.png'))
    return name


def convert_split(coco_root: str,
                  split: str,
                  min_pixels: int = 1000,
                  nproc: int = 1) -> List[str]:
    """Convert one split; return the kept image names (also written to
    ``voc21/{split}.txt``)."""
    import mmengine
    from pycocotools.coco import COCO

    ann_file = osp.join(coco_root, 'annotations', f'instances_{split}.json')
    if not osp.isfile(ann_file):
        raise FileNotFoundError(
            f'{ann_file} not found: COCO_ROOT must hold annotations/'
            f'instances_{split}.json (COCO 2017 annotations).')
    coco = COCO(ann_file)
    out_dir = osp.join(coco_root, 'voc21', 'annotations', split)
    os.makedirs(out_dir, exist_ok=True)
    items = [(coco.imgs[i], coco.loadAnns(coco.getAnnIds(imgIds=i)))
             for i in sorted(coco.imgs)]
    work = partial(_convert_one, out_dir=out_dir, min_pixels=min_pixels)
    if nproc > 1:
        names = mmengine.track_parallel_progress(work, items, nproc)
    else:
        names = mmengine.track_progress(work, items)
    kept = [n for n in names if n is not None]
    with open(osp.join(coco_root, 'voc21', f'{split}.txt'), 'w') as f:
        f.writelines(n + '\n' for n in kept)
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(
        description='Build COCO-VOC21 label maps from COCO instances.')
    parser.add_argument('coco_root', help='COCO 2017 root (annotations/, '
                        'train2017/, val2017/)')
    parser.add_argument(
        '--splits', nargs='+', default=['train2017', 'val2017'])
    parser.add_argument(
        '--min-pixels',
        type=int,
        default=1000,
        help='keep an image only with more labelled pixels than this')
    parser.add_argument('--nproc', type=int, default=1, help='processes')
    args = parser.parse_args()
    for split in args.splits:
        kept = convert_split(args.coco_root, split, args.min_pixels,
                             args.nproc)
        print(f'\n{split}: kept {len(kept)} images -> '
              f'{osp.join(args.coco_root, "voc21", split + ".txt")}; '
              f'30 epochs at batch 6 = {-(-30 * len(kept) // 6)} iterations')


if __name__ == '__main__':
    main()
