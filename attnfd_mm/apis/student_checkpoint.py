# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Plain mmseg checkpoints (weights and meta) from training checkpoints."""
from typing import Dict, Optional, Tuple

#: Prefix of the student's weights in an MMRazor distillation checkpoint.
STUDENT_PREFIX = 'architecture.'
KEPT_META = ('dataset_meta', 'seed', 'mmseg_version', 'mmengine_version',
             'time')


def _plain(state_dict: Dict, checkpoint: Dict, converted_from: str) -> Dict:
    """``state_dict`` with the :data:`KEPT_META` of ``checkpoint``."""
    meta = checkpoint.get('meta') or {}
    kept = {k: meta[k] for k in KEPT_META if k in meta}
    return dict(state_dict=state_dict,
                meta=dict(kept, converted_from=converted_from))


def student_checkpoint(checkpoint: Dict) -> Dict:
    """The student's weights (no prefix) and meta of a distillation
    ``checkpoint``."""
    state = checkpoint.get('state_dict', checkpoint)
    student = {k[len(STUDENT_PREFIX):]: v for k, v in state.items()
               if k.startswith(STUDENT_PREFIX)}
    if not student:
        raise ValueError(
            'No student weights (keys starting with '
            f'{STUDENT_PREFIX!r}) in this checkpoint; its keys start like '
            f'{sorted({k.split(".")[0] for k in state})[:5]}. Is it a '
            'distillation checkpoint (saved while training a distillation '
            'config)?')
    return _plain(student, checkpoint, 'attnfd_mm distillation checkpoint')


def weights_checkpoint(checkpoint: Dict) -> Dict:
    """A segmentor's training ``checkpoint``: weights and dataset meta."""
    if 'state_dict' not in checkpoint:
        raise ValueError('Not a training checkpoint: no state_dict; its '
                         f'keys are {sorted(checkpoint)[:5]}.')
    if any(k.startswith(STUDENT_PREFIX) for k in checkpoint['state_dict']):
        raise ValueError('This is a distillation checkpoint: export its '
                         'student with student_checkpoint().')
    return _plain(checkpoint['state_dict'], checkpoint, 'training checkpoint')


def load_weights(checkpoint: str) -> Tuple[Dict, Optional[Dict]]:
    """``checkpoint`` loaded on the CPU, and its :func:`student_checkpoint`
    when it is a distillation checkpoint (else None)."""
    from mmengine.runner import CheckpointLoader
    loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = loaded.get('state_dict', loaded)
    distilled = any(k.startswith(STUDENT_PREFIX) for k in state)
    return loaded, student_checkpoint(loaded) if distilled else None
