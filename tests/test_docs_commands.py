# Copyright (c) attnfd-mm contributors. All rights reserved.
"""The commands in README.md and docs/*.md point at what exists.

Every command line of the documentation (shell code blocks, and inline code
spans) is read for:

- paths of this repository (``tools/...``, ``configs/...``, ``tests/...``,
  ``docs/...``): the file or folder must exist;
- ``--flags`` passed to one of the Python tools in ``tools/`` (directly, or
  through the shell launchers ``tools/dist_*.sh`` and ``tools/slurm_*.sh``,
  which forward their options to ``tools/train.py``, ``tools/test.py`` and
  ``tools/distill.py``): the tool's argparse parser must define them,
  including the flags it adds through helpers such as
  ``attnfd_mm.apis.add_runner_args``;
- ``make`` targets: the Makefile must define them.

Markdown links to files of the repository must resolve as well. The flags
are read from the tools' source (``add_argument`` calls), so the test needs
neither torch nor the tools' imports; a flag not found that way is checked
once more against the tool's real ``--help`` before the test fails.
"""
import ast
import functools
import glob
import itertools
import os.path as osp
import re
import shlex
import subprocess
import sys
from typing import Dict, Iterator, List, Optional, Set, Tuple

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DOCS = ['README.md'] + sorted(
    osp.relpath(p, ROOT) for p in glob.glob(osp.join(ROOT, 'docs', '*.md')))

#: fenced code block languages read as shell commands
SHELL_LANGUAGES = {'', 'bash', 'sh', 'shell', 'console', 'zsh'}
#: shell launchers -> the Python tool their options are forwarded to
LAUNCHERS = {
    'tools/dist_train.sh': 'tools/train.py',
    'tools/dist_test.sh': 'tools/test.py',
    'tools/slurm_train.sh': 'tools/train.py',
    'tools/dist_distill.sh': 'tools/distill.py',
    'tools/slurm_distill.sh': 'tools/distill.py',
}
#: a path of this repository inside a command (not part of a longer path)
REPO_PATH = re.compile(
    r'(?<![\w./:~$-])((?:tools|configs|tests|docs)/[\w./{},*+-]*)')
#: a Markdown link target
LINK = re.compile(r'\]\(([^)\s]+)\)')
#: shell tokens that end the arguments of a command
SEPARATORS = {'|', '||', '&&', ';', '&'}
INLINE_CODE = re.compile(r'(`+)(.+?)\1')


def _expand(path: str) -> List[str]:
    """``a/{b,c}.py`` -> ``['a/b.py', 'a/c.py']`` (nested braces not
    supported)."""
    match = re.search(r'\{([^{}]*)\}', path)
    if not match:
        return [path]
    return list(itertools.chain.from_iterable(
        _expand(path[:match.start()] + alt + path[match.end():])
        for alt in match.group(1).split(',')))


def _path_exists(path: str) -> bool:
    path = path.rstrip('.,:;')
    for candidate in _expand(path):
        full = osp.join(ROOT, candidate)
        if any(ch in candidate for ch in '*?['):
            if not glob.glob(full):
                return False
        elif not osp.exists(full):
            return False
    return True


def _tokens(command: str) -> List[str]:
    try:
        return shlex.split(command, comments=True)
    except ValueError:  # e.g. an inline fragment with one quote
        return command.split()


def _fenced_and_inline(text: str) -> Iterator[Tuple[int, str, str]]:
    """(line number, kind, command) of every command of a Markdown text;
    kind is ``'block'`` (a shell code block line, continuation lines
    joined) or ``'inline'`` (an inline code span)."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r'^\s*(```+|~~~+)\s*([\w+-]*)', lines[i])
        if fence:
            marker, language = fence.group(1), fence.group(2).lower()
            i += 1
            pending, start = '', 0
            while i < len(lines) and not lines[i].strip().startswith(
                    marker):
                if language in SHELL_LANGUAGES:
                    line = re.sub(r'^\s*\$ ', '', lines[i])
                    if not pending:
                        start = i + 1
                    pending = f'{pending}\n{line}' if pending else line
                    if pending.endswith('\\'):
                        pending = pending[:-1]
                    elif _unbalanced(pending):
                        pass  # a quoted string spans several lines
                    else:
                        yield start, 'block', pending
                        pending = ''
                i += 1
            if pending:
                yield start, 'block', pending
            i += 1
            continue
        for match in INLINE_CODE.finditer(lines[i]):
            yield i + 1, 'inline', match.group(2).strip()
        i += 1


def _unbalanced(command: str) -> bool:
    try:
        shlex.split(command, comments=True)
    except ValueError:
        return True
    return False


def _anchors(text: str) -> Set[str]:
    """GitHub's anchors of the headings of a Markdown text."""
    anchors: Set[str] = set()
    in_block = False
    for line in text.splitlines():
        if re.match(r'^\s*(```|~~~)', line):
            in_block = not in_block
        heading = None if in_block else re.match(
            r'^#{1,6}\s+(.*?)\s*$', line)
        if heading:
            slug = re.sub(r'[^\w\- ]', '', heading.group(1).lower())
            slug = slug.replace(' ', '-')
            anchor, n = slug, 0
            while anchor in anchors:
                n += 1
                anchor = f'{slug}-{n}'
            anchors.add(anchor)
    return anchors


def _links(text: str) -> Iterator[Tuple[int, str]]:
    """(line number, target) of the relative Markdown links outside code
    blocks, with their ``#anchor``."""
    in_block = False
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(r'^\s*(```|~~~)', line):
            in_block = not in_block
            continue
        if in_block:
            continue
        for match in LINK.finditer(INLINE_CODE.sub('', line)):
            target = match.group(1)
            if not re.match(r'^[a-z][\w+.-]*:', target):
                yield number, target


@functools.lru_cache(maxsize=None)
def _module_file(module: str) -> Optional[str]:
    path = osp.join(ROOT, *module.split('.'))
    for candidate in (path + '.py', osp.join(path, '__init__.py')):
        if osp.isfile(candidate):
            return candidate
    return None


def _added_options(tree: ast.AST) -> Set[str]:
    """Option strings of the ``add_argument`` calls in ``tree``."""
    options = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(
                node.func, ast.Attribute) and node.func.attr == 'add_argument':
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(
                        arg.value, str) and arg.value.startswith('-'):
                    options.add(arg.value)
    return options


def _find_function(module: str, name: str,
                   seen: Set[Tuple[str, str]]) -> Optional[ast.FunctionDef]:
    """The definition of ``name`` in ``module`` of this repository,
    following ``from x import name`` re-exports."""
    path = _module_file(module)
    if path is None or (module, name) in seen:
        return None
    seen.add((module, name))
    with open(path) as f:
        tree = ast.parse(f.read())
    package = module if path.endswith('__init__.py') else \
        module.rpartition('.')[0]
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
        if isinstance(node, ast.ImportFrom) and any(
                a.name == name for a in node.names):
            source = node.module or ''
            if node.level:
                base = package.split('.')
                base = base[:len(base) - node.level + 1]
                source = '.'.join(base + ([source] if source else []))
            return _find_function(source, name, seen)
    return None


@functools.lru_cache(maxsize=None)
def tool_options(tool: str) -> Set[str]:
    """The options ``tool`` (a path under tools/) accepts, read from its
    source and from the functions of this repository it calls with its
    parser."""
    with open(osp.join(ROOT, tool)) as f:
        tree = ast.parse(f.read())
    options = {'-h', '--help'} | _added_options(tree)
    imported: Dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and \
                node.module.split('.')[0] == 'attnfd_mm':
            for alias in node.names:
                imported[alias.asname or alias.name] = node.module
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(
                node.func, ast.Name) and node.func.id in imported:
            function = _find_function(imported[node.func.id], node.func.id,
                                      set())
            if function is not None:
                options |= _added_options(function)
    return options


def _literal(node: ast.AST, names: Dict[str, object]) -> object:
    """The value of a literal (or of a module-level name bound to one);
    ``_UNKNOWN`` otherwise."""
    if isinstance(node, ast.Name):
        return names.get(node.id, _UNKNOWN)
    try:
        return ast.literal_eval(node)
    except ValueError:
        return _UNKNOWN


_UNKNOWN = object()


@functools.lru_cache(maxsize=None)
def tool_defaults(tool: str) -> Dict[str, object]:
    """``--option -> default`` of the ``add_argument`` calls of ``tool``
    whose default is a literal (or a module-level literal name), and of
    the keyword arguments of its calls of a ``*_parser`` function."""
    with open(osp.join(ROOT, tool)) as f:
        tree = ast.parse(f.read())
    names: Dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value:
            targets = node.targets if isinstance(node, ast.Assign) else [
                node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    names[target.id] = _literal(node.value, {})
    defaults: Dict[str, object] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id.endswith('_parser'):
            # a shared parser (attnfd_mm.comparison.comparison_parser)
            # given a tool's defaults by option name
            for k in node.keywords:
                value = _literal(k.value, names)
                if value is not _UNKNOWN:
                    defaults[f'--{k.arg.replace("_", "-")}'] = value
        if isinstance(node, ast.Call) and isinstance(
                node.func, ast.Attribute) and node.func.attr == 'add_argument':
            value = next((_literal(k.value, names) for k in node.keywords
                          if k.arg == 'default'), _UNKNOWN)
            if value is _UNKNOWN or value is None:
                continue
            for arg in node.args:
                if isinstance(arg, ast.Constant) and str(
                        arg.value).startswith('--'):
                    defaults[arg.value] = value
    return defaults


def usage_values(text: str) -> Iterator[Tuple[str, str]]:
    """``(--option, value)`` of every ``[--option value ...]`` of a usage
    text whose value is concrete (not a placeholder such as ``DIR`` or
    ``A|B`` choices); a nested ``[`` ends the value."""
    text = text.replace('\\\n', ' ')
    for match in re.finditer(r'\[(--[\w-]+)([^\[\]]*)', text):
        tokens = match.group(2).split()
        if tokens and not any(t.isupper() or '|' in t or t.startswith('-')
                              for t in tokens):
            yield match.group(1), ' '.join(tokens)


@functools.lru_cache(maxsize=None)
def tool_help(tool: str) -> Optional[str]:
    """The tool's ``--help`` output, or None when it does not run here."""
    try:
        out = subprocess.run([sys.executable, tool, '--help'],
                             capture_output=True, text=True, cwd=ROOT,
                             timeout=120,
                             env={'PYTHONPATH': ROOT, 'PATH': '/usr/bin:/bin'})
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def test_usage_texts_state_the_real_defaults():
    """The usage block of each tool's docstring shows the defaults its
    parser has."""
    checked = 0
    for tool in sorted(glob.glob(osp.join(ROOT, 'tools', '**', '*.py'),
                                 recursive=True)):
        rel = osp.relpath(tool, ROOT)
        with open(tool) as f:
            doc = ast.get_docstring(ast.parse(f.read())) or ''
        defaults = tool_defaults(rel)
        for option, value in usage_values(doc):
            if option not in defaults:
                continue
            default = defaults[option]
            expected = ' '.join(map(str, default)) if isinstance(
                default, (list, tuple)) else str(default)
            assert value == expected, (
                f'{rel}: its usage says [{option} {value}], its parser\'s '
                f'default is {expected!r}')
            checked += 1
    assert checked >= 8  # camvid.py, compare.py, demo.py, overhead.py, ...


def _accepts(tool: str, flag: str) -> bool:
    if flag in tool_options(tool):
        return True
    help_text = tool_help(tool)  # the real parser, for what AST misses
    return help_text is not None and re.search(
        rf'(?<![\w-]){re.escape(flag)}(?![\w-])', help_text) is not None


@functools.lru_cache(maxsize=None)
def make_targets() -> Set[str]:
    with open(osp.join(ROOT, 'Makefile')) as f:
        text = f.read()
    targets = set()
    for match in re.finditer(r'^([\w.%/-]+(?:\s+[\w.%/-]+)*)\s*:(?!=)',
                             text, re.M):
        targets.update(match.group(1).split())
    return targets - {'.PHONY'}


def _check_command(command: str, kind: str) -> List[str]:
    """Problems of one command (empty when it is fine)."""
    problems = []
    for match in REPO_PATH.finditer(command):
        path = match.group(1)
        if path.rstrip('/') in ('tools', 'configs', 'tests', 'docs'):
            continue
        if not _path_exists(path):
            problems.append(f'`{path}` does not exist in the repository')
    tokens = [t.strip('[]') for t in _tokens(command)]
    # make targets (after environment assignments)
    words = [t for t in tokens if not re.match(r'^\w+=', t)]
    if kind == 'block' and words and words[0] == 'make':
        for target in words[1:]:
            if target in SEPARATORS:
                break
            if target.startswith('-'):
                continue
            if target not in make_targets():
                problems.append(f'`make {target}`: the Makefile has no '
                                f'target {target!r}')
    # flags given to the tools
    tool, stopped = None, False
    for token in tokens:
        if token in SEPARATORS or re.match(r'^\d?>', token):
            tool, stopped = None, True
            continue
        path = token.rstrip('.,;')
        if path in LAUNCHERS:
            tool, stopped = LAUNCHERS[path], False
            continue
        if path.startswith('tools/') and path.endswith('.py') and \
                osp.isfile(osp.join(ROOT, path)):
            tool, stopped = path, False
            continue
        if tool and not stopped and re.match(r'^--?[A-Za-z]', token):
            flag = token.split('=', 1)[0]
            if not _accepts(tool, flag):
                problems.append(f'`{tool}` does not accept `{flag}` '
                                f'(it accepts: '
                                f'{" ".join(sorted(tool_options(tool)))})')
    return problems


def doc_problems(doc: str) -> List[str]:
    """Every problem of the commands and links of ``doc``, as
    ``doc:line: problem``."""
    with open(osp.join(ROOT, doc), encoding='utf-8') as f:
        text = f.read()
    problems = []
    for number, kind, command in _fenced_and_inline(text):
        for problem in _check_command(command, kind):
            problems.append(f'{doc}:{number}: {problem}\n    in: '
                            f'{" ".join(command.split())[:200]}')
    doc_dir = osp.dirname(osp.join(ROOT, doc))
    for number, link in _links(text):
        target, _, anchor = link.partition('#')
        path = osp.normpath(osp.join(doc_dir, target)) if target else \
            osp.join(ROOT, doc)
        if not osp.exists(path):
            problems.append(f'{doc}:{number}: link target `{target}` does '
                            'not exist')
        elif anchor and path.endswith('.md'):
            with open(path, encoding='utf-8') as f:
                if anchor not in _anchors(f.read()):
                    problems.append(
                        f'{doc}:{number}: link `{link}`: no heading of '
                        f'{osp.relpath(path, ROOT)} has the anchor '
                        f'#{anchor}')
    return problems


def test_docs_exist():
    assert osp.isfile(osp.join(ROOT, 'README.md'))
    assert len(DOCS) > 1, 'docs/*.md: no documentation pages found'


@pytest.mark.parametrize('doc', DOCS)
def test_doc_commands_and_links(doc):
    problems = doc_problems(doc)
    assert not problems, (f'{len(problems)} problem(s) in {doc}:\n' +
                          '\n'.join(problems))


# ---------------------------------------------------------------- the checker


def test_checker_finds_missing_files_flags_and_targets(monkeypatch):
    # the real --help is only a second opinion on unknown flags; skip it
    monkeypatch.setattr(sys.modules[__name__], 'tool_help', lambda tool: None)
    bad = _check_command(
        'python tools/train.py configs/attnfd/nope.py --no-such-flag '
        '--work-dir w', 'block')
    assert any('configs/attnfd/nope.py' in p for p in bad)
    assert any('accept `--no-such-flag`' in p for p in bad)
    assert not any('accept `--work-dir`' in p for p in bad)
    # options of tools/train.py that add_runner_args adds, via a launcher
    assert not _check_command(
        'bash tools/dist_train.sh configs/attnfd/deeplabv3_r101_r18_voc.py 2 '
        '--data-root data/x --cfg-options a=1 --resume', 'block')
    assert _check_command('bash tools/dist_test.sh C K 2 --resume', 'block')
    assert _check_command('make no-such-target', 'block')
    # not in this repository: paths under another folder are not checked
    assert not _check_command(
        'python mmsegmentation/tools/dataset_converters/voc_aug.py x',
        'block')
    assert _check_command('python tools/dataset_converters/voc_aug.py',
                          'block')
    # a pipe ends the tool's arguments
    assert not _check_command(
        'python tools/demo.py --iters 2 | tee log --append', 'block')


def test_checker_reads_blocks_inline_code_and_links():
    text = '\n'.join([
        'Run `python tools/demo.py --force`.',  # 1
        '```bash',  # 2
        'python tools/train.py configs/x.py \\',  # 3
        '    --resume  # comment --not-a-flag',  # 4
        '```',  # 5
        '```python',  # 6
        "_base_ = ['configs/not/checked.py']",  # 7
        '```',  # 8
        'See [a](configs/attnfd) and [b](https://example.org/x).',  # 9
    ])
    commands = list(_fenced_and_inline(text))
    assert commands[0] == (1, 'inline', 'python tools/demo.py --force')
    assert commands[1][:2] == (3, 'block')
    assert '--resume' in commands[1][2]
    assert len(commands) == 2
    assert list(_links(text)) == [(9, 'configs/attnfd')]
    assert _anchors('# A `b_c` d: e\n```\n# no\n```\n## A b_c d e') == {
        'a-b_c-d-e', 'a-b_c-d-e-1'}
    assert _check_command(commands[1][2], 'block') == [
        '`configs/x.py` does not exist in the repository']


def _section_block(text: str, heading: str) -> str:
    """The first bash code block under ``heading`` of a Markdown text."""
    section = text.split(f'\n{heading}\n', 1)[1].split('\n## ', 1)[0]
    return re.search(r'```bash\n(.*?)```', section, re.S).group(1)


@pytest.mark.slow
def test_readme_quick_start_runs_as_written(tmp_path):
    """README's quick start, in a copy of the checkout with the set-up's
    venv; what follows its "teacher's file is not needed" line runs with the
    teacher's files gone."""
    import os
    import shutil
    with open(osp.join(ROOT, 'README.md')) as f:
        block = _section_block(f.read(), '## Quick start')
    with_teacher, marker, without_teacher = block.partition(
        "# from here on the teacher's file is not needed\n")
    assert marker and without_teacher.strip(), block
    repo = tmp_path / 'repo'
    shutil.copytree(ROOT, repo, symlinks=True, ignore=shutil.ignore_patterns(
        '.git', '.venv', 'work_dirs', '__pycache__', '*.egg-info'))
    # the set-up's .venv: activating it makes `python` this interpreter
    # (its own bin folder first: a venv's python needs its pyvenv.cfg)
    bin_dir = repo / '.venv' / 'bin'
    bin_dir.mkdir(parents=True)
    os.symlink(sys.executable, bin_dir / 'python')
    (bin_dir / 'activate').write_text(
        f'export PATH="{osp.dirname(sys.executable)}:{bin_dir}:$PATH"\n')
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}

    def run_block(lines: str) -> subprocess.CompletedProcess:
        if not lines.startswith('source .venv/bin/activate\n'):
            lines = f'source .venv/bin/activate\n{lines}'
        out = subprocess.run(['bash', '-euo', 'pipefail', '-c', lines],
                             cwd=str(repo), capture_output=True, text=True,
                             env=env, timeout=1200)
        assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
        return out

    run_block(with_teacher)
    work = repo / 'work_dirs' / 'quickstart'
    shutil.rmtree(work / 'teacher')
    out = run_block(without_teacher)
    assert 'mIoU' in out.stdout + out.stderr
    assert 'torch.Size([1, 64, 64])' in out.stdout
    for name in ('student/student.pth', 'converted.pth',
                 'student/distill_config.py'):
        assert (work / name).is_file(), name
    # "Deploy the student": its export command, on the quick start's student
    with open(osp.join(ROOT, 'README.md')) as f:
        deploy = _section_block(f.read(), '## Deploy the student')
    run_block(re.search(r'^python tools/export\.py .*?(?<!\\)\n', deploy,
                        re.S | re.M).group(0))
    assert (work / 'student.onnx').is_file()
