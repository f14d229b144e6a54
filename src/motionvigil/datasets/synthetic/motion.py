"""The per-clip generation context (:class:`Ctx`) and the joint-angle motion (:class:`Motion`).

Angle conventions of the :class:`Motion` helpers (person facing +Z, left at +X, up +Y):
positive ``flex`` moves a limb forward (hip, shoulder), bends a knee or elbow, points
the toes (ankle) or bends the trunk/head forward; positive ``abd`` moves a limb away
from the body's midline; positive ``horiz`` swings a raised arm toward the midline;
``bend``/``twist``/``roll``/``yaw`` are positive toward the limb's side (right for R).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from motionvigil.datasets.synthetic.body import MIRROR
from motionvigil.datasets.synthetic.curves import track

FPS = 20.0
R, L = "R", "L"
_LIMB = {
    R: {"hip": 2, "knee": 5, "ankle": 8, "shoulder": 17, "elbow": 19},
    L: {"hip": 1, "knee": 4, "ankle": 7, "shoulder": 16, "elbow": 18},
}
_OUT = {R: -1.0, L: 1.0}  # sign of a rotation about +Z that moves the limb outward
SPINE = (3, 6, 9)
NECK = 12


@dataclass
class Ctx:
    """Per-clip generation context: random source, length and the clip's speed/amplitude."""

    rng: np.random.Generator
    n: int
    speed: float = 1.0
    amp: float = 1.0

    def __post_init__(self) -> None:
        self.t = np.arange(self.n) / FPS

    @property
    def length(self) -> float:
        """Clip duration in seconds."""
        return self.n / FPS

    def u(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def deg(self, lo: float, hi: float) -> float:
        """A movement amplitude in degrees, scaled by the clip's amplitude factor."""
        return self.u(lo, hi) * self.amp

    def dur(self, seconds: float) -> float:
        """A phase duration scaled by the clip's speed, with +-10% timing jitter."""
        return seconds / self.speed * self.u(0.9, 1.1)

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def count(self, lo: int, hi: int) -> int:
        """An integer in ``[lo, hi]``."""
        return int(self.rng.integers(lo, hi + 1))

    def schedule(self, events: list[list[float]], gap: tuple[float, float] = (0.15, 0.5)) -> list[np.ndarray]:
        """Keyframe times of consecutive events, each given as its phase durations (s).

        Events that do not fit in the clip are dropped; a first event that alone is too
        long is compressed. Returns one ``[len(phases) + 1]`` array of times per event.
        """
        avail = self.length - 0.1
        scale = min(1.0, avail / sum(events[0]))
        start = min(self.u(0.05, 0.6), max(0.0, avail - sum(events[0]) * scale))
        out: list[np.ndarray] = []
        for phases in events:
            d = np.asarray(phases) * scale
            if out and start + d.sum() > avail:
                break
            out.append(start + np.concatenate([[0.0], np.cumsum(d)]))
            start = out[-1][-1] + self.u(*gap)
        return out

    def holds(self, rise: float, hold: tuple[float, float], fall: float, gap: tuple[float, float]) -> list[np.ndarray]:
        """Keyframe times (:meth:`schedule`, with ``gap``) of one or two events that each rise
        for ``rise`` s, hold for a random duration in the ``hold`` range and fall for ``fall`` s
        (durations through :meth:`dur`)."""
        phases = [[self.dur(rise), self.dur(self.u(*hold)), self.dur(fall)] for _ in range(self.count(1, 2))]
        return self.schedule(phases, gap=gap)

    def intro(self) -> np.ndarray:
        """Envelope of a held posture: already on at frame 0, or eased in early in the clip."""
        if self.chance(0.5):
            return np.ones(self.n)
        t0 = self.u(0.0, 0.3)
        return track(self.t, [t0, t0 + self.dur(0.5)], [0.0, 1.0])


@dataclass
class Motion:
    """Joint angles over time plus root cues; turned into positions by the corpus.

    Attributes:
        angles: ``[T, 22, 3]`` degrees about x, y, z; joint ``j`` turns the bones to its
            children (``R = Ry Rz Rx``); joint 0 is the whole body's orientation.
        root: ``[T, 3]`` extra root translation (m) on top of the foot-planted motion.
        air: ``[T]`` height (m) of the body above the ground (jumps).
        pin: ``[T]`` 1 where the supporting foot stays planted, 0 in flight.
        support: ``[T]`` share of the body weight on the LEFT foot where the action
            knows it (gait phases), NaN where the lower foot should be taken.
    """

    angles: np.ndarray
    root: np.ndarray
    air: np.ndarray
    pin: np.ndarray
    support: np.ndarray

    @classmethod
    def still(cls, n: int) -> "Motion":
        return cls(np.zeros((n, 22, 3)), np.zeros((n, 3)), np.zeros(n), np.ones(n), np.full(n, np.nan))

    def set_support(self, side: str, weight: np.ndarray, frames: Any = slice(None)) -> None:
        """Put ``weight`` (0..1) of the body on foot ``side`` (the rest on the other) in ``frames``."""
        self.support[frames] = (weight if side == L else 1.0 - weight)[frames]

    def __len__(self) -> int:
        return len(self.angles)

    # --- limbs (side R or L)
    def hip(self, side: str, flex: Any = 0.0, abd: Any = 0.0) -> None:
        j = _LIMB[side]["hip"]
        self.angles[:, j, 0] -= flex
        self.angles[:, j, 2] += _OUT[side] * np.asarray(abd)

    def knee(self, side: str, flex: Any) -> None:
        self.angles[:, _LIMB[side]["knee"], 0] += flex

    def ankle(self, side: str, flex: Any) -> None:
        """Positive points the toes down, negative pulls them up."""
        self.angles[:, _LIMB[side]["ankle"], 0] += flex

    def shoulder(self, side: str, flex: Any = 0.0, abd: Any = 0.0, horiz: Any = 0.0) -> None:
        j = _LIMB[side]["shoulder"]
        self.angles[:, j, 0] -= flex
        self.angles[:, j, 2] += _OUT[side] * np.asarray(abd)
        self.angles[:, j, 1] -= _OUT[side] * np.asarray(horiz)

    def elbow(self, side: str, flex: Any = 0.0, abd: Any = 0.0) -> None:
        """``flex`` bends the forearm forward; ``abd`` swings it outward (up when the arm is out)."""
        j = _LIMB[side]["elbow"]
        self.angles[:, j, 0] -= flex
        self.angles[:, j, 2] += _OUT[side] * np.asarray(abd)

    # --- trunk and whole body (positive bend/twist/roll/yaw toward the right)
    def spine(self, flex: Any = 0.0, bend: Any = 0.0, twist: Any = 0.0) -> None:
        for j in SPINE:
            self.angles[:, j, 0] += np.asarray(flex) / 3.0
            self.angles[:, j, 2] += np.asarray(bend) / 3.0
            self.angles[:, j, 1] -= np.asarray(twist) / 3.0

    def neck(self, flex: Any = 0.0, bend: Any = 0.0, twist: Any = 0.0) -> None:
        self.angles[:, NECK, 0] += flex
        self.angles[:, NECK, 2] += bend
        self.angles[:, NECK, 1] -= twist

    def body(self, tilt: Any = 0.0, roll: Any = 0.0, yaw: Any = 0.0) -> None:
        """Whole-body orientation: ``tilt`` forward, ``roll`` and ``yaw`` toward the right."""
        self.angles[:, 0, 0] += tilt
        self.angles[:, 0, 2] += roll
        self.angles[:, 0, 1] -= yaw

    # --- compound postures
    def hinge(self, angle: Any) -> None:
        """Bend forward at the hips, legs staying vertical."""
        self.body(tilt=angle)
        for side in (R, L):
            self.hip(side, flex=angle)

    def squat(self, hip: Any, knee: Any) -> None:
        """Bend both legs (thigh ``hip`` deg forward, knee ``knee`` deg) keeping the feet flat."""
        for side in (R, L):
            self.hip(side, flex=hip)
            self.knee(side, flex=knee)
            self.ankle(side, flex=np.asarray(hip) - np.asarray(knee))

    # --- whole-motion transforms
    def mirrored(self) -> "Motion":
        """The left/right mirror image (swap sides, negate y/z rotations and x motion)."""
        angles = self.angles[:, list(MIRROR)].copy()
        angles[..., 1:] *= -1.0
        root = self.root.copy()
        root[:, 0] *= -1.0
        return Motion(angles, root, self.air.copy(), self.pin.copy(), 1.0 - self.support)

    def placed(self, yaw_deg: float, origin: np.ndarray) -> "Motion":
        """The motion turned by ``yaw_deg`` about +Y (counter-clockwise seen from above) and
        its extra root translation moved to start from ``origin``."""
        angles = self.angles.copy()
        angles[:, 0, 1] += yaw_deg
        a = np.radians(yaw_deg)
        root = self.root.copy()
        root[:, 0] = np.cos(a) * self.root[:, 0] + np.sin(a) * self.root[:, 2]
        root[:, 2] = -np.sin(a) * self.root[:, 0] + np.cos(a) * self.root[:, 2]
        root += np.asarray(origin, dtype=np.float64)
        return Motion(angles, root, self.air.copy(), self.pin.copy(), self.support.copy())
