# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Scratch virtual environments for tests that install attnfd-mm from
outside the clone.

A scratch environment is a venv without pip whose site-packages ends with
the running interpreter's site-packages directories (``.pth`` lines), so it
reuses the set-up's torch, mmcv, mmengine, mmseg, mmrazor and openmim
without installing them again. Whatever is installed into it comes first and
shadows the reused packages. The set-up's own attnfd_mm (an editable
install, activated by a ``.pth`` file that a ``.pth`` line does not run) is
not importable there.
"""
import os
import os.path as osp
import shutil
import subprocess
import sys
import sysconfig
import venv
from typing import Dict, List

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: left out when the source tree is copied for a build
NOT_SOURCES = ('.git', '.venv', 'work_dirs', 'data', 'build', 'dist',
               '*.egg-info', '__pycache__', '.pytest_cache', '*.pyc')


class ScratchEnv:
    """A venv under ``root`` reusing this interpreter's packages.

    Args:
        root (str): Directory of the environment (created).
    """

    def __init__(self, root: str) -> None:
        self.root = root
        venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
        self.python = osp.join(root, 'bin', 'python')
        self.site_packages = subprocess.check_output(
            [self.python, '-c',
             'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
            text=True).strip()
        with open(osp.join(self.site_packages, '_reuse_setup.pth'), 'w') as f:
            f.writelines(path + '\n' for path in reused_site_packages())

    def env(self) -> Dict[str, str]:
        """The process environment: no PYTHONPATH, so nothing is imported
        from the clone."""
        env = dict(os.environ)
        env.pop('PYTHONPATH', None)
        env['PIP_NO_INDEX'] = '1'  # offline: everything is installed
        return env

    def run(self,
            args: List[str],
            cwd: str,
            timeout: int = 600) -> subprocess.CompletedProcess:
        """Run ``python <args>`` of this environment in ``cwd``."""
        return subprocess.run([self.python, *args],
                              cwd=cwd,
                              env=self.env(),
                              capture_output=True,
                              text=True,
                              timeout=timeout)

    def pip_install(self, args: List[str],
                    cwd: str) -> subprocess.CompletedProcess:
        """``pip install --no-deps <args>`` into this environment (pip
        itself comes from the reused packages)."""
        return self.run(['-m', 'pip', 'install', '--no-deps',
                         '--disable-pip-version-check', *args], cwd=cwd)


def reused_site_packages() -> List[str]:
    """The running interpreter's site-packages directories, in import
    order (a scratch environment's own one, then those it reuses)."""
    paths = [p for p in sys.path if osp.basename(p) == 'site-packages']
    return list(dict.fromkeys(paths)) or [sysconfig.get_paths()['purelib']]


def copy_sources(dst: str) -> str:
    """Copy the working tree (links kept, caches and environments left
    out) to ``dst``; return ``dst``."""
    shutil.copytree(
        ROOT, dst, symlinks=True,
        ignore=shutil.ignore_patterns(*NOT_SOURCES))
    return dst


def build_wheel(src: str, out_dir: str) -> str:
    """``pip wheel`` of the source tree ``src`` into ``out_dir``, offline
    and without build isolation; return the wheel's path.

    Raises:
        RuntimeError: The build failed, with pip's output.
    """
    proc = subprocess.run(
        [sys.executable, '-m', 'pip', 'wheel', '--no-deps',
         '--no-build-isolation', '--no-index', '--disable-pip-version-check',
         '-w', out_dir, src],
        capture_output=True, text=True, timeout=600)
    wheels = [n for n in os.listdir(out_dir) if n.endswith('.whl')] \
        if osp.isdir(out_dir) else []
    if proc.returncode != 0 or len(wheels) != 1:
        raise RuntimeError('pip wheel failed:\n' +
                           (proc.stdout + proc.stderr)[-4000:])
    return osp.join(out_dir, wheels[0])
