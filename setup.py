# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Install attnfd_mm: ``pip install -e .`` or ``mim install -e .``."""
import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_version() -> str:
    namespace: dict = {}
    with open(osp.join(HERE, 'attnfd_mm', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


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
    python_requires='>=3.8',
    install_requires=read_requirements('runtime.txt'),
    extras_require=dict(
        tests=read_requirements('tests.txt'),
        optional=read_requirements('optional.txt')),
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    license='Apache License 2.0',
    zip_safe=False)
