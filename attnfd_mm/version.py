# Copyright (c) attnfd-mm contributors. All rights reserved.
"""Version of the attnfd_mm package."""

__version__ = '0.1.0'
