"""Registers the built-in synthetic corpus (``motionvigil.datasets.synthetic``) as ``synthetic``."""

import motionvigil.datasets.synthetic  # noqa: F401  (registration happens on import)
