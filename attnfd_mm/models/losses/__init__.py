# Copyright (c) attnfd-mm contributors. All rights reserved.
from .attnfd_loss import AttnFDLoss

__all__ = ['AttnFDLoss']
