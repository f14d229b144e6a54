"""Built-in dataset loaders; importing this package registers them."""

from motionvigil.datasets.loaders import (  # noqa: F401
    babel,
    bandai2,
    hdm05,
    humanml3d,
    mocap_violence,
    msr_action3d,
    sbu_kinect,
    synthetic,
    tmr,
    utd_mhad,
    utkinect,
)
