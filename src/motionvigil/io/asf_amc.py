"""Acclaim ASF skeletons and AMC motions (CMU mocap, HDM05) as :class:`Motion`.

Why a parser of our own: no maintained PyPI package reads ASF/AMC with input
validation (every bad file must become one :class:`MotionFileError` naming the file
and the problem) and forward kinematics vectorised over frames; what exists are
unmaintained scripts that loop over frames in Python and fail with bare
``IndexError``/``KeyError`` on damaged files. The format is small, so it is parsed here.

Conventions (the Acclaim format as the CMU and HDM05 databases use it):

* Lengths: ``:units length L`` means ``inches = value / L``; we convert to metres
  (``x 0.0254``). Without a ``:units`` block, values are taken as inches (``L = 1``).
* Angles: ``:units angle deg|rad`` for the ASF; the AMC header's ``:DEGREES`` or
  ``:RADIANS`` for the motion values (the ASF unit when the AMC says neither).
* Euler angles: an order such as ``XYZ`` means rotate about X first, then Y, then Z,
  about fixed axes (``R = Rz @ Ry @ Rx``; scipy's lowercase ``"xyz"``). A bone's
  ``axis ax ay az XYZ`` gives the angles about X, Y and Z, applied in the declared
  order (the same for the root's ``orientation`` with the root ``axis``).
* Forward kinematics, per bone: ``C`` = rotation of its ``axis``; ``M`` = rotation of
  its AMC values, applied in the order its ``dof`` lists them (a rotation dof it lacks
  is 0); local ``L = C @ M @ C^-1``; global ``G = G_parent @ L``; bone end =
  parent end + ``G @ (direction * length)``. The root: ``G_root = C_o @ M_root @ C_o^-1``
  with ``C_o`` from ``orientation`` and ``M_root`` from its RX RY RZ values in the
  order of the root ``axis``; root position = ``position`` + (TX, TY, TZ).
* Translation dofs of bones (``tx ty tz l``) are read and counted but do not move the
  skeleton (no CMU or HDM05 file uses them); ``meta["ignored_dofs"]`` lists them.
* Joints: ``root`` (at the root position) then one joint per bone at the bone's END
  point, in ``:bonedata`` order; metres, Y up (ASF is Y up).

The code is split by what it reads: :mod:`motionvigil.io.asf` (the ASF skeleton),
:mod:`motionvigil.io.amc` (AMC motions, :func:`find_asf`), :mod:`motionvigil.io.asf_kinematics`
(forward kinematics) and :mod:`motionvigil.io.acclaim_text` (the text helpers both
parsers share); this module is the public entry and re-exports their public names.
"""

from motionvigil.io.amc import find_asf, read_amc
from motionvigil.io.asf import CMU_BONES, AsfSkeleton, read_asf
from motionvigil.io.asf_kinematics import forward_kinematics

__all__ = [
    "CMU_BONES",
    "AsfSkeleton",
    "find_asf",
    "forward_kinematics",
    "read_amc",
    "read_asf",
]
