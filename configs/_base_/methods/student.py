# The student trained alone: no teacher, no distiller.
method = dict(
    label='student alone',
    description='no teacher: the student config as it is')
distiller = None
