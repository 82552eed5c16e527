# Copyright (c) attnfd-mm contributors. All rights reserved.
from .at_connector import ATConnector
from .bam_connector import BAMConnector
from .cbam_connector import CBAMConnector
from .channel_align import build_channel_align, optional_channel_align
from .ema_connector import EMAConnector
from .sa_connector import SAConnector

__all__ = [
    'ATConnector', 'BAMConnector', 'CBAMConnector', 'EMAConnector',
    'SAConnector', 'build_channel_align', 'optional_channel_align'
]
