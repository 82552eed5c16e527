# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The OpenMMLab package layout: ``attnfd_mm/.mim``, ``model-index.yml``
and one ``metafile.yaml`` per config folder listing every config."""
import glob
import os.path as osp
from typing import Dict, List

import yaml

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: metric names of the metafiles: the paper's figure, or this package's
#: CPU-scaled CamVid benchmark
METRICS = {'mIoU (paper)', 'mIoU (paper, B+E, DeepLabV3+ code)',
           'mIoU (ours, CPU protocol, strong teacher, 5 seeds)',
           'mIoU (ours, CPU protocol, strong teacher, 3x schedule, 3 seeds)',
           'mIoU (ours, CPU protocol, weak teacher, 5 seeds)',
           'mIoU (ours, CPU protocol, weak teacher, 3x schedule, 2 seeds)',
           'mIoU (ours, CPU protocol, weak teacher, earlier 2-seed run)'}
MIM_LINKS = ('configs', 'tools', 'model-index.yml')


def _load(rel: str):
    with open(osp.join(ROOT, rel)) as f:
        return yaml.safe_load(f)


def _config_folders() -> List[str]:
    return sorted(
        osp.basename(p) for p in glob.glob(osp.join(ROOT, 'configs', '*'))
        if osp.isdir(p) and osp.basename(p) != '_base_')


def _entries() -> Dict[str, List[dict]]:
    """Metafile path -> its ``Models`` entries."""
    return {
        rel: _load(rel)['Models']
        for rel in _load('model-index.yml')['Import']
    }


def test_mim_folder_links_the_top_level_files():
    for name in MIM_LINKS:
        path = osp.join(ROOT, 'attnfd_mm', '.mim', name)
        assert osp.islink(path), f'{path} should link to ../../{name}'
        assert osp.realpath(path) == osp.realpath(osp.join(ROOT, name))


def test_model_index_imports_one_metafile_per_config_folder():
    imports = _load('model-index.yml')['Import']
    assert sorted(imports) == [
        f'configs/{folder}/metafile.yaml' for folder in _config_folders()
    ]


def test_every_config_is_listed_once():
    configs = {
        osp.relpath(p, ROOT)
        for folder in _config_folders()
        for p in glob.glob(osp.join(ROOT, 'configs', folder, '*.py'))
    }
    listed, names = [], []
    for rel, models in _entries().items():
        folder = osp.dirname(rel)
        for model in models:
            assert model['Config'].startswith(folder + '/'), (rel, model)
            listed.append(model['Config'])
            names.append(model['Name'])
    missing = sorted(configs - set(listed))
    assert not missing, (
        f'configs missing from their metafile.yaml: {missing}; add a '
        "'- Name: <file name>' entry with 'In Collection', 'Config' and "
        "'Metadata' (and the paper's figure, if any, under 'Results').")
    assert not sorted(set(listed) - configs), 'listed configs that do not ' \
        f'exist: {sorted(set(listed) - configs)}'
    assert len(listed) == len(set(listed)), 'a config is listed twice'
    assert len(names) == len(set(names)), 'model names must be unique'


def test_results_name_where_each_figure_comes_from():
    for rel, models in _entries().items():
        meta = _load(rel)
        collections = {c['Name'] for c in meta['Collections']}
        for model in models:
            assert model['In Collection'] in collections, model['Name']
            assert model['Name'] == osp.splitext(
                osp.basename(model['Config']))[0]
            for result in model.get('Results', []):
                assert result['Task'] == 'Semantic Segmentation'
                assert set(result['Metrics']) <= METRICS, model['Name']
                for value in result['Metrics'].values():
                    assert 0 < value < 100, model['Name']


def test_modelindex_validates_the_index():
    """What ``mim search`` reads: model-index's own checks pass."""
    from modelindex.load_model_index import load
    index = load(osp.join(ROOT, 'model-index.yml'))
    index.build_models_with_collections()
    assert index.check(silent=True) == []
    assert len(index.models) == sum(len(m) for m in _entries().values())


def test_mmengine_finds_the_metafile_entry():
    """mmengine's ``pkg::`` lookup reads the index from ``.mim``."""
    from mmengine.config.utils import _get_cfg_metainfo
    entry = _get_cfg_metainfo(
        osp.join(ROOT, 'attnfd_mm'), 'attnfd/deeplabv3_r101_r18_voc.py')
    assert entry['Config'] == 'configs/attnfd/deeplabv3_r101_r18_voc.py'
