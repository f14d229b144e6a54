"""Built-in dataset loaders; importing this package registers them."""

import importlib

_MODULES = ("msr_action3d", "hdm05", "utkinect", "bandai2", "mocap_violence", "humanml3d", "tmr", "babel", "synthetic")

for _name in _MODULES:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _exc:  # a loader not written yet
        if _exc.name != f"{__name__}.{_name}":
            raise
