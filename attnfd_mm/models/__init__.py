# Copyright (c) attnfd-mm contributors. All rights reserved.
from .algorithms import *  # noqa: F401,F403
from .connectors import *  # noqa: F401,F403
from .distillers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .recorders import *  # noqa: F401,F403
