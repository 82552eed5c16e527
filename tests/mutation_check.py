# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Planted faults in ``attnfd_mm/models/`` (and the loops and tools around
it): does the fast test subset notice each one?

    python tests/mutation_check.py [--ref HEAD] [--only ID ...] [--out FILE]

Each mutant is one small, plausible bug (a text substitution in one file).
For each, a copy of the repository at ``--ref`` (``git archive``; the
working tree is never touched) gets the mutant, and the test files named for
it run there (``pytest -x -m "not slow"``). A mutant is *killed* when a test
fails, *survives* when all pass, and is *n/a* when its text is not in that
version's file. The score is killed / (killed + survived). Not part of the
test suite (it runs the suite once per mutant: about 10 minutes on 2 CPU
cores).
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, NamedTuple

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
M = 'attnfd_mm/models/'
L = M + 'losses/attnfd_loss.py'
C = M + 'losses/channel_maps.py'
D = 'attnfd_mm/deploy/'


class Mutant(NamedTuple):
    id: str
    path: str
    old: str
    new: str
    tests: List[str]


#: the planted faults: what a careless edit could do to the method
MUTANTS = [
    Mutant('logits-nearest', M + 'distillers/seg_distiller.py',
           "mode='bilinear', align_corners=False)",
           "mode='nearest')",
           ['test_attnfd_logits.py', 'test_layer_finder.py']),
    Mutant('autocast-off', M + 'algorithms/frozen_teacher_distill.py',
           "'bfloat16': torch.bfloat16,", "'bfloat16': None,",
           ['test_distillers.py']),
    Mutant('teacher-train-mode', M + 'algorithms/frozen_teacher_distill.py',
           '            self.teacher.eval()\n', '            pass\n',
           ['test_distill_runner.py', 'test_distillers.py']),
    Mutant('no-finite-check', M + 'algorithms/frozen_teacher_distill.py',
           '            check_finite_losses(distill_losses, losses)\n', '',
           ['test_reliability.py']),
    Mutant('no-class-check', M + 'algorithms/frozen_teacher_distill.py',
           '        check_num_classes(self.student, self.teacher)\n', '',
           ['test_distillers.py']),
    Mutant('teacher-kept-in-checkpoints',
           M + 'algorithms/teacher_checkpoint.py',
           '        del state[key]\n', '        pass\n',
           ['test_lean_checkpoints.py']),
    Mutant('fingerprint-unchecked', M + 'algorithms/teacher_checkpoint.py',
           "    if saved and saved.get('sha256') != own['sha256']:",
           '    if False:', ['test_lean_checkpoints.py']),
    Mutant('full-checkpoint-teacher-ignored',
           M + 'algorithms/teacher_checkpoint.py',
           '    if not any(k.startswith(head) for k in state):',
           '    if True:', ['test_lean_checkpoints.py']),
    Mutant('teacher-log-not-summarized',
           M + 'algorithms/frozen_teacher_log.py',
           '        if told:\n            return False\n', '',
           ['test_lean_checkpoints.py']),
    Mutant('without-init-keeps-backbone-init', 'attnfd_mm/utils.py',
           "        model_cfg['backbone'].pop('init_cfg', None)",
           '        pass', ['test_utils.py']),
    Mutant('no-module-prefix-strip', M + 'algorithms/teacher_checkpoint.py',
           "{k.removeprefix('module.'): v for k, v in state.items()}",
           '{k: v for k, v in state.items()}',
           ['test_legacy_teacher_checkpoints.py']),
    Mutant('cbam-avg-only', M + 'connectors/cbam_connector.py',
           'self.channel_mlp(avg) + self.channel_mlp(mx)',
           'self.channel_mlp(avg) + self.channel_mlp(avg)',
           ['test_cbam_connector.py']),
    Mutant('cbam-spatial-max-only', M + 'connectors/cbam_connector.py',
           'logits = mx + mean', 'logits = mx + mx',
           ['test_cbam_connector.py']),
    Mutant('cbam-spatial-before-channel', M + 'connectors/cbam_connector.py',
           'return refined * self.spatial_gate(refined)',
           'return refined * self.spatial_gate(feature)',
           ['test_cbam_connector.py']),
    Mutant('align-init-std', M + 'connectors/attention_connector.py',
           'math.sqrt(2.0 / out_channels)', 'math.sqrt(2.0 / in_channels)',
           ['test_cbam_connector.py']),
    Mutant('bam-no-spatial-bn', M + 'connectors/ablation_connectors.py',
           '                    nn.BatchNorm2d(hidden), nn.ReLU(inplace=True)'
           '\n                ]',
           '                    nn.Identity(), nn.ReLU(inplace=True)\n'
           '                ]', ['test_ablation_connectors.py']),
    Mutant('ema-group-order', M + 'connectors/ablation_connectors.py',
           'group = feature.reshape(b * self.groups, c // self.groups, h, w)',
           'group = feature.reshape(b, self.groups, c // self.groups, h, '
           'w).transpose(0, 1).reshape(b * self.groups, c // self.groups, '
           'h, w)', ['test_ablation_connectors.py']),
    Mutant('at-sum', M + 'connectors/ablation_connectors.py',
           'pow(self.p).mean(dim=1', 'pow(self.p).sum(dim=1',
           ['test_ablation_connectors.py']),
    Mutant('loss-no-batch-division', M + 'losses/attnfd_loss.py',
           'self.loss_weight / batch * distance.sum()',
           'self.loss_weight * distance.sum()',
           ['test_attnfd_loss.py']),
    Mutant('loss-sample-as-batch', M + 'losses/attnfd_loss.py',
           "per_sample = self.normalize == 'sample'",
           'per_sample = False', ['test_attnfd_loss.py']),
    Mutant('loss-teacher-not-detached', M + 'losses/attnfd_loss.py',
           '            t = t.detach()\n', '            pass\n',
           ['test_attnfd_loss.py']),
    Mutant('no-channel-alignment', M + 'distillers/seg_distiller.py',
           "            s_conn['out_channels'] = t_layer['channels']\n", '',
           ['test_distillers.py', 'test_layer_finder.py']),
    Mutant('kd-term-dropped', M + 'distillers/seg_distiller.py',
           '                inputs = align_logits(**inputs)',
           '                inputs = {k: 0 * v for k, v in align_logits('
           '**inputs).items()}',
           ['test_attnfd_logits.py']),
    Mutant('b-after-relu', M + 'distillers/layer_finder.py',
           "            return _layer(*relus[-1], channels, "
           "'PreForwardInputs')",
           "            return _layer(*relus[-1], channels, 'ModuleOutputs')",
           ['test_layer_finder.py']),
    Mutant('teacher-side-trains-by-default',
           M + 'distillers/seg_distiller.py',
           "not self.teacher_connector_cfg.get('learnable', False))",
           'False)', ['test_distillers.py', 'test_attnfd_loss.py']),
    Mutant('logits-swapped', M + 'distillers/seg_distiller.py',
           "LOGITS, self.resolved_logits['student'], True),",
           "LOGITS, self.resolved_logits['teacher'], False),",
           ['test_attnfd_logits.py', 'test_layer_finder.py']),
    Mutant('reshaped-keys-accepted', M + 'algorithms/teacher_checkpoint.py',
           '        and state[k].shape != v.shape', '        and False',
           ['test_distillers.py']),
    Mutant('sample-norm-over-batch', L,
           'return part.sum(1) if per_sample else part.sum()',
           'return part.sum().expand(x.shape[0]) if per_sample else '
           'part.sum()',
           ['test_attnfd_loss.py']),
    Mutant('pre-relu-not-cloned',
           M + 'recorders/pre_forward_inputs_recorder.py', '.clone()', '',
           ['test_pre_forward_recorder.py']),
    Mutant('loss-no-checkpoint', L, 'if torch.is_grad_enabled() else',
           'if False else', ['test_channel_maps.py']),
    Mutant('maps-stats-updated-twice', C,
           'if batch_stats and (start, end) in self.computed:', 'if False:',
           ['test_channel_maps.py']),
    Mutant('maps-batch-not-counted', C,
           '                norm.num_batches_tracked.add_(1)\n',
           '                pass\n', ['test_channel_maps.py']),
    Mutant('loss-resize-nearest', L, "mode='bilinear'", "mode='nearest'",
           ['test_channel_maps.py', 'test_attnfd_loss.py']),
    Mutant('loss-teacher-not-normalised', L,
           '2 * s_t / (s_norm * t_norm)', '2 * s_t / s_norm',
           ['test_channel_maps.py', 'test_attnfd_loss.py']),
    Mutant('teacher-gates-sum-not-mean', M + 'connectors/cbam_connector.py',
           'mean = (total / channels).to(feature.dtype)',
           'mean = total.to(feature.dtype)', ['test_channel_maps.py']),
    Mutant('channel-map-skips-attention', M + 'connectors/cbam_connector.py',
           'AlignedMap(self.attend(feature), self.align)',
           'AlignedMap(feature, self.align)', ['test_channel_maps.py']),
    Mutant('recorder-source-unchecked',
           M + 'distillers/seg_distiller.py',
           '        if recorder.source not in valid:', '        if False:',
           ['test_distillers.py']),
    Mutant('distiller-recorders-copy-every-call',
           M + 'distillers/seg_distiller.py',
           "        cfg['copy_calls'] = [layer['record_idx']]\n", '',
           ['test_distillers.py']),
    Mutant('recorder-copies-every-call',
           M + 'recorders/pre_forward_inputs_recorder.py',
           'len(self.data_buffer) in self.copy_calls', 'True',
           ['test_pre_forward_recorder.py']),
    Mutant('overhead-ratio-unpaired', 'tools/benchmarks/overhead.py',
           'results[numerator].seconds,',
           'sorted(results[numerator].seconds),',
           ['test_overhead_benchmark.py']),
    Mutant('overhead-profile-least-extra-first',
           'tools/benchmarks/overhead.py', 'reverse=True)', 'reverse=False)',
           ['test_overhead_benchmark.py']),
    Mutant('export-logits-transposed', D + 'onnx_export.py',
           " == 'map' else logits\n",
           " == 'map' else logits.transpose(-1, -2)\n", ['test_export.py']),
    Mutant('export-no-channel-swap', D + 'onnx_export.py',
           '            x = x.flip(1)\n', '            pass\n',
           ['test_export.py']),
    Mutant('export-pool-bins-floor', D + 'onnx_export.py',
           'end = torch.div((i + 1) * n + k - 1, k,',
           'end = torch.div((i + 1) * n, k,', ['test_export.py']),
    Mutant('latency-in-seconds', D + 'latency.py',
           '_seconds(fn) * 1e3 for', '_seconds(fn) for', ['test_cost.py']),
    Mutant('flops-not-giga', D + 'cost.py', "info['flops'] / 1e9",
           "info['flops']", ['test_cost.py']),
    Mutant('test-size-transposed', D + 'cost.py',
           '            return int(h), int(w)',
           '            return int(w), int(h)', ['test_cost.py']),
    Mutant('runner-config-formatted', 'attnfd_mm/apis/training.py',
           'format_python_code=False)', 'format_python_code=True)',
           ['test_distill_runner.py']),
    Mutant('speedup-inverted', 'attnfd_mm/comparison/cost_report.py',
           'speedup=teacher_ms / ms if', 'speedup=ms / teacher_ms if',
           ['test_cost.py']),
    Mutant('same-time-as-fastest', 'attnfd_mm/comparison/comparison.py',
           'or max(self.plan.distilled,', 'or min(self.plan.distilled,',
           ['test_comparison.py']),
    Mutant('alone-not-a-reference', 'attnfd_mm/comparison/plan.py',
           'return [ALONE, SAME_TIME, *(', 'return [SAME_TIME, *(',
           ['test_comparison.py']),
    Mutant('stage-scored-in-another-child',
           'attnfd_mm/comparison/runner.py',
           'self._score_args(stage, self._unscored(stage, splits)),',
           '[] + [],',
           ['test_comparison.py']),
    Mutant('stage-checkpoints-kept', 'attnfd_mm/apis/stages.py',
           '    if not keep_checkpoints:', '    if False:',
           ['test_comparison.py']),
    # the tools' runs: their files kept, their errors named
    Mutant('config-dumped-over', 'attnfd_mm/apis/runner_config.py',
           '(always or osp.exists(', '(always or False and osp.exists(',
           ['test_tools.py']),
    Mutant('test-keys-unchecked', 'attnfd_mm/apis/test_config.py',
           '    if not missing and not unexpected:', '    if True:',
           ['test_tools.py']),
    Mutant('relative-teacher-ckpt', 'attnfd_mm/apis/runner_config.py',
           "node['teacher_ckpt'] = osp.abspath(node['teacher_ckpt'])",
           "node['teacher_ckpt'] = node['teacher_ckpt']", ['test_tools.py']),
    Mutant('config-not-found-no-hint', 'attnfd_mm/apis/config_files.py',
           '    return close[:n]', '    return []',
           ['test_config_files.py']),
    Mutant('init-weights-unchecked', 'attnfd_mm/apis/training.py',
           '    check_init_weights(cfg)\n    if amp:', '    if amp:',
           ['test_init_weights.py']),
    Mutant('compat-gate-widened', 'attnfd_mm/compat/__init__.py',
           "torch='>=2.6'", "torch='>=2.5'", ['test_compat.py']),
    Mutant('compat-all-at-import', 'attnfd_mm/compat/__init__.py',
           'if (patch.at_import or not at_import_only)',
           'if (True or not at_import_only)', ['test_compat.py']),
    Mutant('checkpoint-saved-in-place',
           'attnfd_mm/compat/atomic_checkpoints.py',
           'save(checkpoint, tmp,', 'save(checkpoint, filename,',
           ['test_compat.py']),
    Mutant('atomic-temp-file-left', 'attnfd_mm/atomic_files.py',
           'if osp.exists(tmp):', 'if False:', ['test_utils.py']),
    Mutant('checkpoint-getattr-unrestricted',
           'attnfd_mm/compat/checkpoint_loading.py',
           'HistoryBuffer and name in allowed:', 'HistoryBuffer:',
           ['test_compat.py']),
    Mutant('skip-bad-samples-dropped', 'attnfd_mm/apis/distill_config.py',
           '    add_sample_checks(cfg, skip_bad_samples)\n',
           '    add_sample_checks(cfg)\n', ['test_faults.py']),
    Mutant('layers-option-ignored', 'attnfd_mm/apis/distill_config.py',
           "        distiller['layers'] = list(layers)\n", '        pass\n',
           ['test_distill_config.py']),
    Mutant('logit-methods-take-layers', 'attnfd_mm/apis/methods.py',
           " and 'layers' in self.distiller", '',
           ['test_methods.py', 'test_distill_config.py']),
    Mutant('kd-mean-over-classes',
           M + 'losses/pixel_kl_divergence.py',
           ' * preds_S.shape[1]', '', ['test_methods.py']),
    Mutant('test-resumes', 'tools/test.py', '    cfg.resume = False\n', '',
           ['test_tools.py']),
    Mutant('sample-check-end-marker-ignored',
           'attnfd_mm/datasets/check_seg_sample.py',
           '        if marker not in f.read():', '        if False:',
           ['test_faults.py']),
    Mutant('sample-check-values-all-valid',
           'attnfd_mm/datasets/check_seg_sample.py',
           'return [int(v) for v in np.unique(mapped[~valid])]',
           'return []', ['test_faults.py']),
    Mutant('sample-checked-every-time',
           'attnfd_mm/datasets/check_seg_sample.py',
           '        if key in self.passed:\n            return results\n', '',
           ['test_faults.py']),
]


def export(ref: str, dest: str) -> None:
    """The files of ``ref`` under ``dest`` (``git archive``)."""
    archive = subprocess.run(['git', 'archive', ref], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(['tar', '-x', '-C', dest], input=archive, check=True)


def run_mutant(mutant: Mutant, ref: str) -> str:
    """'killed', 'survived' or 'n/a' for ``mutant`` at ``ref``."""
    with tempfile.TemporaryDirectory() as tmp:
        export(ref, tmp)
        path = osp.join(tmp, mutant.path)
        if not osp.isfile(path):
            return 'n/a'
        with open(path) as f:
            text = f.read()
        if mutant.old not in text:
            return 'n/a'
        with open(path, 'w') as f:
            f.write(text.replace(mutant.old, mutant.new, 1))
        tests = [osp.join('tests', t) for t in mutant.tests
                 if osp.isfile(osp.join(tmp, 'tests', t))]
        if not tests:
            return 'n/a'
        out = subprocess.run(
            [sys.executable, '-m', 'pytest', '-x', '-q', '-p',
             'no:cacheprovider', '-m', 'not slow', *tests],
            cwd=tmp, capture_output=True, text=True,
            env=dict(os.environ, PYTHONPATH=tmp))
        return 'survived' if out.returncode == 0 else 'killed'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--ref', default='HEAD',
                        help='the git revision to test (default HEAD)')
    parser.add_argument('--only', nargs='+', metavar='ID',
                        help='run these mutants only')
    parser.add_argument('--out', help='write the outcomes as JSON')
    args = parser.parse_args()
    outcomes: Dict[str, str] = {}
    for mutant in MUTANTS:
        if args.only and mutant.id not in args.only:
            continue
        start = time.time()
        outcomes[mutant.id] = run_mutant(mutant, args.ref)
        print(f'{mutant.id}: {outcomes[mutant.id]} '
              f'({time.time() - start:.0f} s)', flush=True)
    killed = sum(v == 'killed' for v in outcomes.values())
    counted = sum(v in ('killed', 'survived') for v in outcomes.values())
    print(f'score at {args.ref}: {killed} / {counted} killed; survived: '
          f'{[k for k, v in outcomes.items() if v == "survived"]}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(ref=args.ref, outcomes=outcomes), f, indent=2)


if __name__ == '__main__':
    main()
