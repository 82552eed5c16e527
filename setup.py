# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Install attnfd_mm: ``pip install -e . --no-build-isolation`` or
``mim install -e . --no-build-isolation`` (the flag builds offline).

Besides the Python package, a wheel carries the configs, the tools and
``model-index.yml`` in OpenMMLab's ``attnfd_mm/.mim`` layout, which
``attnfd_mm::`` config bases and ``mim`` read. In the source tree
``attnfd_mm/.mim`` holds links to the top-level ``configs/``, ``tools/`` and
``model-index.yml``; building copies the files they point at.
"""
import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_version() -> str:
    namespace: dict = {}
    with open(osp.join(HERE, 'attnfd_mm', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


#: what ``attnfd_mm/.mim`` links to, and the files of each taken into a wheel
MIM_CONTENT = {
    'model-index.yml': ['model-index.yml'],
    'configs': ['configs/**/*.py', 'configs/**/*.yaml'],
    'tools': ['tools/**/*.py', 'tools/**/*.sh'],
}


def mim_package_data() -> list:
    """Glob patterns of ``attnfd_mm/.mim``, after checking its links.

    Raises:
        FileNotFoundError: A link is missing or broken (e.g. a checkout
            without symlink support), with the command that restores it.
    """
    mim = osp.join(HERE, 'attnfd_mm', '.mim')
    for name in MIM_CONTENT:
        if not osp.exists(osp.join(mim, name)):
            raise FileNotFoundError(
                f'{osp.join(mim, name)} is missing or not a link to '
                f'../../{name}; restore it with '
                '`git checkout -- attnfd_mm/.mim` (or, without symlink '
                f'support, copy {name} there).')
    return [
        f'.mim/{pattern}' for patterns in MIM_CONTENT.values()
        for pattern in patterns
    ]


def read_requirements(name: str) -> list:
    with open(osp.join(HERE, 'requirements', name)) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
    long_description = f.read()

setup(
    name='attnfd-mm',
    version=read_version(),
    description='Attention-guided Feature Distillation (AttnFD, AAAI 2025) '
    'for MMSegmentation 1.x through MMRazor 1.x',
    long_description=long_description,
    long_description_content_type='text/markdown',
    keywords='semantic segmentation, knowledge distillation, openmmlab',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    include_package_data=True,
    package_data={'attnfd_mm': mim_package_data()},
    exclude_package_data={'attnfd_mm': ['**/__pycache__/*']},
    python_requires='>=3.10',
    install_requires=read_requirements('runtime.txt'),
    extras_require=dict(
        tests=read_requirements('tests.txt'),
        optional=read_requirements('optional.txt'),
        export=read_requirements('export.txt')),
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    license='Apache License 2.0',
    zip_safe=False)
