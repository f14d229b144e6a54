"""Registers the built-in procedural corpus (``motionvigil.datasets.synthetic``) as ``procedural``
(alias ``synthetic``)."""

import motionvigil.datasets.synthetic  # noqa: F401  (registration happens on import)
