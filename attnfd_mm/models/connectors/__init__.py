# Copyright (c) attnfd-mm contributors. All rights reserved.
from .ablation_connectors import (ATConnector, BAMConnector, EMAConnector,
                                  SAConnector)
from .attention_connector import AttentionConnector, build_channel_align
from .cbam_connector import CBAMConnector

__all__ = ['ATConnector', 'AttentionConnector', 'BAMConnector',
           'CBAMConnector', 'EMAConnector', 'SAConnector',
           'build_channel_align']
