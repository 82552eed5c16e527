# Copyright (c) attnfd-mm contributors. All rights reserved.
from .connector_warmup_hook import ConnectorWarmupHook

__all__ = ['ConnectorWarmupHook']
