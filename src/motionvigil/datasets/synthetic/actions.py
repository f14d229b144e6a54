"""The action library of the synthetic corpus: parametric joint-angle curves per action.

Every action is a generator ``fn(c: Ctx, m: Motion) -> dict`` that adds joint-angle
curves (degrees) to a :class:`Motion` already holding a relaxed standing pose, and
returns the facts its captions need (``count``, ``direction``, ...). All randomness
comes from ``c.rng``. Actions are authored for the RIGHT side (the striking hand, the
kicking leg, the direction of a turn); the corpus mirrors a motion to get the left one.

Angle conventions of the :class:`Motion` helpers (person facing +Z, left at +X, up +Y):
positive ``flex`` moves a limb forward (hip, shoulder), bends a knee or elbow, points
the toes (ankle) or bends the trunk/head forward; positive ``abd`` moves a limb away
from the body's midline; positive ``horiz`` swings a raised arm toward the midline;
``bend``/``twist``/``roll``/``yaw`` are positive toward the limb's side (right for R).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d

from motionvigil.datasets.synthetic.body import MIRROR

FPS = 20.0
R, L = "R", "L"
_LIMB = {
    R: {"hip": 2, "knee": 5, "ankle": 8, "shoulder": 17, "elbow": 19},
    L: {"hip": 1, "knee": 4, "ankle": 7, "shoulder": 16, "elbow": 18},
}
_OUT = {R: -1.0, L: 1.0}  # sign of a rotation about +Z that moves the limb outward
SPINE = (3, 6, 9)
NECK = 12


# --------------------------------------------------------------------------- curves


def smoothstep(x: np.ndarray) -> np.ndarray:
    """0 -> 1 with zero slope at both ends (x clipped to [0, 1])."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def track(t: np.ndarray, times: Any, values: Any) -> np.ndarray:
    """Keyframe curve: ``values[i]`` at ``times[i]``, smoothstep between keys, held outside."""
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    i = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    span = np.maximum(times[i + 1] - times[i], 1e-6)
    return values[i] + (values[i + 1] - values[i]) * smoothstep((t - times[i]) / span)


def bump(phase: np.ndarray, power: float = 2.0) -> np.ndarray:
    """Periodic bump in [0, 1], 1 at phase 0 (mod 2 pi)."""
    return ((1.0 + np.cos(phase)) / 2.0) ** power


def smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """Low-pass gaussian noise along axis 0 with unit standard deviation."""
    white = rng.standard_normal(shape)
    out = gaussian_filter1d(white, sigma, axis=0, mode="reflect")
    return out / max(float(out.std()), 1e-9)


# --------------------------------------------------------------------------- context


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

    def intro(self) -> np.ndarray:
        """Envelope of a held posture: already on at frame 0, or eased in early in the clip."""
        if self.chance(0.5):
            return np.ones(self.n)
        t0 = self.u(0.0, 0.3)
        return track(self.t, [t0, t0 + self.dur(0.5)], [0.0, 1.0])


# --------------------------------------------------------------------------- motion


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


def idle(c: Ctx, m: Motion) -> None:
    """Relaxed standing under every action: arms slightly out, soft knees, breathing, sway."""
    for side in (R, L):
        m.shoulder(side, flex=c.u(-3, 8), abd=c.u(3, 12))
        m.elbow(side, flex=c.u(5, 20))
        m.hip(side, abd=c.u(1, 5))
        m.knee(side, flex=c.u(0, 6))
    m.spine(flex=c.u(0.5, 2.0) * np.sin(2 * np.pi * c.u(0.2, 0.35) * c.t + c.u(0, 6.3)))
    # small random joint wobble; legs and root get less, as feet are planted and it moves the whole body
    wobble = np.full(22, c.u(1.5, 3.5))
    wobble[[0, 1, 2, 4, 5, 7, 8]] = c.u(0.3, 0.8)
    m.angles += wobble[:, None] * smooth_noise(c.rng, (c.n, 22, 3), c.u(5, 10))


# --------------------------------------------------------------------------- shared moves


def _guard(c: Ctx, m: Motion, env: np.ndarray) -> tuple[float, float]:
    """Fists up in front of the chin; returns the guard's shoulder flexion and elbow angle."""
    flex, elbow = c.u(30, 50), c.u(105, 130)
    abd, horiz = c.u(10, 25), c.u(5, 20)
    for side in (R, L):
        m.shoulder(side, flex=flex * env, abd=abd * env, horiz=horiz * env)
        m.elbow(side, flex=elbow * env)
        m.knee(side, flex=10 * env)
    m.spine(flex=5 * env)
    return flex, elbow


def _strike(c: Ctx, m: Motion, side: str, times: np.ndarray, guard: tuple[float, float]) -> None:
    """A straight punch from the guard: out, brief hold, back (``times``: 4 keys)."""
    s = track(c.t, times, [0, 1, 1, 0])
    m.shoulder(side, flex=(c.deg(80, 95) - guard[0]) * s, horiz=c.u(0, 15) * s)
    m.elbow(side, flex=-(guard[1] - c.u(0, 10)) * s)
    twist = c.deg(10, 25) * s
    m.spine(twist=-twist if side == R else twist)


def _kick(c: Ctx, m: Motion, side: str, times: np.ndarray, height: float, sideways: bool) -> None:
    """Chamber, extend, retract, lower (``times``: 5 keys); the other leg supports."""
    hip = track(c.t, times, [0, height, height, 0.9 * height, 0])
    knee = track(c.t, times, [0, c.deg(90, 115), c.u(3, 12), c.deg(80, 100), 0])
    env = track(c.t, times, [0, 1, 1, 1, 0])
    if sideways:
        m.hip(side, flex=0.3 * hip, abd=0.9 * hip)
        bend = c.deg(15, 30) * env
        m.spine(bend=-bend if side == R else bend)
    else:
        m.hip(side, flex=hip)
        m.spine(flex=-c.deg(5, 15) * env)
    m.knee(side, flex=knee)
    m.ankle(side, flex=c.u(15, 35) * env)
    m.knee(L if side == R else R, flex=c.u(8, 18) * env)


def _step_keys(c: Ctx, m: Motion, times: np.ndarray, size: float, lead: str = R) -> None:
    """One forward step (``times``: 5 keys): lead leg swings and lands, trail leg follows."""
    trail = L if lead == R else R
    lift = c.deg(35, 50)
    m.hip(lead, flex=track(c.t, times, [0, size, size, 0, 0]))
    m.knee(lead, flex=track(c.t, times, [0, lift, 4, 0, 0]))
    m.hip(trail, flex=track(c.t, times, [0, 0, -size, 0, 0]))
    m.knee(trail, flex=track(c.t, times, [0, 0, 5, lift, 0]))
    arm = track(c.t, times, [0, 1, 1, 0, 0]) * c.u(5, 15)
    m.shoulder(lead, flex=-arm)
    m.shoulder(trail, flex=arm)
    on_lead = track(c.t, [times[2] - 0.05, times[2] + 0.05], [0, 1])
    m.set_support(lead, on_lead, (c.t >= times[0]) & (c.t <= times[4]))


def _gait(c: Ctx, m: Motion, freq: float, hip: float, knee: float, arm: float, elbow: float,
          env: np.ndarray, swing: float = 2.0) -> np.ndarray:  # fmt: skip
    """Periodic walking/running legs and arms at ``freq`` strides/s (knee bent over a part of
    the swing that narrows as ``swing`` grows); returns the phase."""
    phase = 2 * np.pi * freq * c.t + c.u(0, 2 * np.pi)
    for side, offset in ((R, 0.0), (L, np.pi)):
        ph = phase + offset
        hip_flex = env * hip * (np.sin(ph) + 0.15)
        knee_flex = env * (knee * bump(ph + 0.3, swing) + 0.15 * knee * bump(ph - 2.4, 4))
        m.hip(side, flex=hip_flex)
        m.knee(side, flex=knee_flex)
        m.ankle(side, flex=hip_flex - knee_flex + env * 15 * bump(ph + 1.2, 4))  # flat foot, push-off
        if side == R:  # a foot carries the body while its hip extends
            m.set_support(R, 0.5 * (1.0 - np.tanh(4.0 * np.cos(ph))))
        m.shoulder(side, flex=-env * arm * np.sin(ph), abd=3 * env)
        m.elbow(side, flex=env * (elbow + 0.3 * arm * (1 + np.sin(ph)) / 2))
    m.body(yaw=env * 4 * np.sin(phase))
    m.spine(twist=-env * 6 * np.sin(phase))
    return phase


def _curved_path(c: Ctx, m: Motion) -> str:
    """Turn a gait gradually (up to 25 deg/s either way); returns the caption phrase."""
    curve = c.u(-25, 25)
    m.body(yaw=curve * c.t)
    if abs(curve) <= 12:
        return "straight ahead"
    return "in a curve to the right" if curve > 0 else "in a curve to the left"


def _both_arms(m: Motion, flex: Any = 0.0, abd: Any = 0.0, horiz: Any = 0.0, elbow: Any = 0.0) -> None:
    for side in (R, L):
        m.shoulder(side, flex=flex, abd=abd, horiz=horiz)
        m.elbow(side, flex=elbow)


# --------------------------------------------------------------------------- violent actions


def kick(c: Ctx, m: Motion) -> dict[str, Any]:
    sideways = c.chance(0.35)
    _guard(c, m, 0.6 * c.intro())
    phases = [[c.dur(0.24), c.dur(0.16), c.dur(0.15), c.dur(0.3)] for _ in range(c.count(1, 3))]
    events = c.schedule(phases, gap=(0.2, 0.7))
    for times in events:
        _kick(c, m, R, times, c.u(65, 95), sideways)
    return {"count": len(events), "kind": "side" if sideways else "front"}


def punch(c: Ctx, m: Motion) -> dict[str, Any]:
    guard = _guard(c, m, c.intro())
    events = c.schedule([[c.dur(0.14), c.dur(0.06), c.dur(0.24)] for _ in range(c.count(1, 4))])
    for times in events:
        _strike(c, m, R, times, guard)
    return {"count": len(events)}


def hit(c: Ctx, m: Motion) -> dict[str, Any]:
    overhead = c.chance(0.5)
    phases = [[c.dur(0.35), c.dur(0.08), c.dur(0.26), c.dur(0.15), c.dur(0.4)] for _ in range(c.count(1, 3))]
    events = c.schedule(phases, gap=(0.2, 0.6))
    for times in events:
        if overhead:
            m.shoulder(R, flex=track(c.t, times, [0, c.deg(135, 155), c.deg(135, 155), 50, 40, 0]),
                       abd=track(c.t, times, [0, 20, 20, 10, 10, 0]))  # fmt: skip
            m.elbow(R, flex=track(c.t, times, [0, c.deg(80, 110), 90, 10, 15, 0]))
            m.spine(flex=track(c.t, times, [0, -10, -10, 20, 20, 0]))
        else:
            m.shoulder(R, abd=track(c.t, times, [0, c.deg(75, 90), 85, 40, 30, 0]),
                       horiz=track(c.t, times, [0, -25, -25, c.deg(45, 60), 60, 0]),
                       flex=track(c.t, times, [0, 10, 10, 50, 50, 0]))  # fmt: skip
            m.elbow(R, flex=track(c.t, times, [0, c.deg(60, 80), 70, 10, 10, 0]))
            m.spine(twist=track(c.t, times, [0, 25, 25, -20, -30, 0]))
    return {"count": len(events), "style": "downward" if overhead else "sideways"}


def martial_art(c: Ctx, m: Motion) -> dict[str, Any]:
    env = c.intro()
    for side in (R, L):
        m.hip(side, flex=15 * env, abd=c.u(10, 16) * env)
        m.knee(side, flex=c.u(20, 35) * env)
        m.ankle(side, flex=-15 * env)
    m.body(yaw=c.u(-30, 30) * env)
    guard = _guard(c, m, env)
    kinds = [str(k) for k in c.rng.choice(["punch", "kick", "block", "knee"], size=c.count(3, 6))]
    sides = [R if c.chance(0.5) else L for _ in kinds]
    durations = {"punch": [0.12, 0.05, 0.2], "kick": [0.2, 0.14, 0.12, 0.24], "block": [0.12, 0.2, 0.2],
                 "knee": [0.18, 0.1, 0.22]}  # fmt: skip
    events = c.schedule([[c.dur(d) for d in durations[k]] for k in kinds], gap=(0.05, 0.3))
    for kind, side, times in zip(kinds, sides, events):
        if kind == "punch":
            _strike(c, m, side, times, guard)
        elif kind == "kick":
            _kick(c, m, side, times, c.deg(40, 70), c.chance(0.5))
        elif kind == "block":
            s = track(c.t, times, [0, 1, 1, 0])
            m.shoulder(side, flex=c.deg(50, 70) * s, abd=15 * s)
        else:
            s = track(c.t, times, [0, 1, 1, 0])
            m.hip(side, flex=c.deg(70, 95) * s)
            m.knee(side, flex=c.deg(60, 90) * s)
            _both_arms(m, flex=-20 * s)
    return {"count": len(events)}


def evade(c: Ctx, m: Motion) -> dict[str, Any]:
    back = c.chance(0.35)
    phases = [[c.dur(0.22), c.dur(c.u(0.2, 0.5)), c.dur(0.45)] for _ in range(c.count(1, 2))]
    events = c.schedule(phases, gap=(0.3, 0.8))
    for times in events:
        s = track(c.t, times, [0, 1, 1, 0])
        lift_out = track(c.t, [times[0], (times[0] + times[1]) / 2, times[1]], [0, 1, 0])
        lift_in = track(c.t, [times[2], (times[2] + times[3]) / 2, times[3]], [0, 1, 0])
        _both_arms(m, flex=c.deg(40, 70) * s, abd=15 * s, elbow=c.deg(90, 120) * s)
        m.knee(R, flex=35 * lift_out)
        m.knee(L, flex=35 * lift_in)
        step = c.deg(12, 22) * s
        if back:
            m.hip(R, flex=-step)
            m.hip(L, flex=step)
            m.spine(flex=-c.deg(15, 30) * s)
            m.neck(flex=-10 * s)
        else:
            m.hip(R, abd=step)
            m.hip(L, abd=step)
            m.spine(bend=c.deg(20, 35) * s)
            m.neck(bend=10 * s)
    return {"count": len(events), "direction": "backwards" if back else "to the right"}


def grab_person(c: Ctx, m: Motion) -> dict[str, Any]:
    phases = [[c.dur(0.3), c.dur(0.15), c.dur(0.35), c.dur(c.u(0.3, 0.8)), c.dur(0.5)]
              for _ in range(c.count(1, 2))]  # fmt: skip
    events = c.schedule(phases, gap=(0.3, 0.8))
    for times in events:
        reach = track(c.t, times, [0, 1, 1, 0, 0, 0])
        pull = track(c.t, times, [0, 0, 0, 1, 1, 0])
        shake = np.sin(2 * np.pi * c.u(2.5, 4.0) * c.t) * track(c.t, times[2:], [0, 1, 1, 0]) * c.u(0, 10)
        _both_arms(m, flex=c.deg(80, 95) * reach + c.deg(35, 50) * pull + shake,
                   horiz=c.u(10, 20) * (reach + pull),
                   elbow=c.u(10, 20) * reach + c.deg(90, 110) * pull)  # fmt: skip
        lunge = track(c.t, times, [0, 1, 1, 0.5, 0.5, 0]) * c.deg(10, 20)
        m.hip(R, flex=lunge)
        m.hip(L, flex=-lunge)
        m.knee(L, flex=30 * track(c.t, times[3:], [0, 1, 0]))
        m.spine(flex=c.u(5, 15) * reach - c.deg(10, 20) * pull)
    return {"count": len(events)}


# --------------------------------------------------------------------------- arm actions


def wave(c: Ctx, m: Motion) -> dict[str, Any]:
    (times,) = c.schedule([[c.dur(0.5), c.dur(c.u(1.2, 3.0)), c.dur(0.5)]])
    up = track(c.t, times, [0, 1, 1, 0])
    m.shoulder(R, abd=c.deg(95, 140) * up, horiz=c.u(0, 30) * up, flex=c.u(0, 20) * up)
    swing = np.sin(2 * np.pi * c.u(1.5, 3.0) * np.sqrt(c.speed) * c.t) * c.deg(15, 30) * up
    m.elbow(R, abd=c.deg(60, 100) * up + swing)
    m.shoulder(R, abd=0.3 * swing)
    return {}


def wave_both_hands(c: Ctx, m: Motion) -> dict[str, Any]:
    (times,) = c.schedule([[c.dur(0.5), c.dur(c.u(1.2, 3.0)), c.dur(0.5)]])
    up = track(c.t, times, [0, 1, 1, 0])
    sway = np.sin(2 * np.pi * c.u(0.8, 1.8) * np.sqrt(c.speed) * c.t) * c.deg(15, 25) * up
    _both_arms(m, abd=c.deg(135, 165) * up, flex=c.u(0, 25) * up, elbow=c.u(5, 30) * up)
    m.shoulder(R, abd=sway)
    m.shoulder(L, abd=-sway)
    m.spine(bend=0.2 * sway)
    return {}


def reach(c: Ctx, m: Motion) -> dict[str, Any]:
    flex = c.deg(60, 140)
    (times,) = c.schedule([[c.dur(0.9), c.dur(c.u(0.3, 1.0)), c.dur(0.8)]])
    s = track(c.t, times, [0, 1, 1, 0])
    m.shoulder(R, flex=flex * s, horiz=c.u(-20, 35) * s)
    m.elbow(R, flex=c.u(2, 12) * s)
    m.spine(flex=(15 if flex < 90 else -5) * s, twist=-c.u(5, 15) * s)
    if flex > 110:
        m.ankle(R, flex=15 * s)
        m.ankle(L, flex=15 * s)
    return {"direction": "up" if flex > 110 else "forward"}


def point(c: Ctx, m: Motion) -> dict[str, Any]:
    horiz = c.u(-40, 30)
    (times,) = c.schedule([[c.dur(0.5), c.dur(c.u(0.8, 2.0)), c.dur(0.5)]])
    s = track(c.t, times, [0, 1, 1, 0])
    m.shoulder(R, flex=c.deg(75, 100) * s, horiz=horiz * s)
    m.elbow(R, flex=c.u(0, 10) * s)
    m.neck(twist=-0.5 * horiz * s)
    direction = "to the right" if horiz < -15 else "to the left" if horiz > 15 else "ahead"
    return {"direction": direction}


def throw(c: Ctx, m: Motion) -> dict[str, Any]:
    phases = [[c.dur(0.5), c.dur(0.1), c.dur(0.3), c.dur(0.3), c.dur(0.45)] for _ in range(c.count(1, 2))]
    events = c.schedule(phases, gap=(0.4, 1.0))
    for times in events:
        m.shoulder(R, flex=track(c.t, times, [0, 20, 20, c.deg(100, 120), 60, 0]),
                   abd=track(c.t, times, [0, c.deg(75, 90), 85, 30, 20, 0]),
                   horiz=track(c.t, times, [0, -40, -40, 20, 35, 0]))  # fmt: skip
        m.elbow(R, flex=track(c.t, times, [0, 20, 20, 10, 20, 0]),
                abd=track(c.t, times, [0, 90, 90, 10, 0, 0]))  # forearm up behind the head
        m.spine(twist=track(c.t, times, [0, 30, 30, -25, -30, 0]),
                flex=track(c.t, times, [0, -10, -10, 15, 20, 0]))  # fmt: skip
        m.hip(L, flex=track(c.t, times, [0, 20, 20, 15, 10, 0]))
        m.knee(L, flex=track(c.t, times, [0, 35, 30, 5, 5, 0]))
        m.hip(R, flex=track(c.t, times, [0, 0, 0, -15, -10, 0]))
    return {"count": len(events)}


def clap(c: Ctx, m: Motion) -> dict[str, Any]:
    freq = c.u(2.0, 3.2) * np.sqrt(c.speed)
    claps = c.count(3, 8)
    (times,) = c.schedule([[c.dur(0.4), claps / freq, c.dur(0.4)]])
    claps = max(1, int(np.floor((times[2] - times[1]) * freq + 1e-9)))
    up = track(c.t, times, [0, 1, 1, 0])
    inside = (c.t >= times[1]) & (c.t <= times[1] + claps / freq)
    close = np.where(inside, (1 - np.cos(2 * np.pi * freq * (c.t - times[1]))) / 2, 0.0)
    _both_arms(m, flex=c.deg(45, 70) * up, horiz=5 * up + c.u(23, 28) * close, elbow=c.u(40, 60) * up)
    return {"count": claps}


def raise_arms(c: Ctx, m: Motion) -> dict[str, Any]:
    sideways = c.chance(0.4)
    phases = [[c.dur(0.7), c.dur(c.u(0.4, 1.5)), c.dur(0.7)] for _ in range(c.count(1, 2))]
    events = c.schedule(phases, gap=(0.2, 0.6))
    for times in events:
        s = track(c.t, times, [0, 1, 1, 0]) * c.deg(150, 172)
        _both_arms(m, flex=0 if sideways else s, abd=s if sideways else 0.1 * s, elbow=0.05 * s)
    return {"count": len(events)}


def scratch_head(c: Ctx, m: Motion) -> dict[str, Any]:
    (times,) = c.schedule([[c.dur(0.6), c.dur(c.u(1.0, 2.5)), c.dur(0.6)]])
    s = track(c.t, times, [0, 1, 1, 0])
    m.shoulder(R, flex=c.u(110, 135) * s, abd=c.u(30, 50) * s)
    m.elbow(R, flex=c.u(120, 140) * s + 8 * np.sin(2 * np.pi * c.u(3, 5) * c.t) * s)
    m.neck(flex=10 * s, bend=-8 * s)
    return {}


def drink(c: Ctx, m: Motion) -> dict[str, Any]:
    phases = [[c.dur(0.7), c.dur(c.u(0.8, 2.0)), c.dur(0.6)] for _ in range(c.count(1, 2))]
    for times in c.schedule(phases, gap=(0.3, 1.0)):
        s = track(c.t, times, [0, 1, 1, 0])
        m.shoulder(R, flex=c.u(25, 45) * s, horiz=c.u(15, 25) * s)
        m.elbow(R, flex=c.u(125, 140) * s)
        tilt = track(c.t, [times[1], times[1] + 0.3, times[2] - 0.2, times[2]], [0, 1, 1, 0])
        m.neck(flex=-c.u(10, 25) * tilt)  # head back while drinking
    return {}


def hug(c: Ctx, m: Motion) -> dict[str, Any]:
    (times,) = c.schedule([[c.dur(0.8), c.dur(0.8), c.dur(c.u(0.8, 2.0)), c.dur(0.8)]])
    open_ = track(c.t, times, [0, 1, 0, 0, 0])
    wrap = track(c.t, times, [0, 0, 1, 1, 0])
    _both_arms(m, abd=c.deg(70, 90) * open_ + c.deg(55, 70) * wrap, horiz=-10 * open_ + c.deg(65, 85) * wrap,
               flex=10 * open_ + 10 * wrap, elbow=20 * open_ + c.deg(60, 90) * wrap)  # fmt: skip
    m.spine(flex=c.u(5, 15) * wrap)
    if c.chance(0.5):
        _step_keys(c, m, np.linspace(times[0], times[2], 5), c.deg(10, 16))
    return {}


def push(c: Ctx, m: Motion) -> dict[str, Any]:
    phases = [[c.dur(0.4), c.dur(0.5), c.dur(c.u(0.2, 0.6)), c.dur(0.5)] for _ in range(c.count(1, 2))]
    events = c.schedule(phases, gap=(0.3, 0.8))
    for times in events:
        prep = track(c.t, times, [0, 1, 0, 0, 0])
        out = track(c.t, times, [0, 0, 1, 1, 0])
        _both_arms(m, flex=c.u(40, 50) * prep + c.deg(75, 90) * out, abd=20 * prep + 10 * out,
                   elbow=c.u(105, 120) * prep + c.u(5, 15) * out)  # fmt: skip
        m.spine(flex=c.deg(8, 15) * out)
        m.hip(R, flex=c.deg(10, 18) * out)
        m.hip(L, flex=-c.deg(10, 18) * out)
        m.knee(R, flex=30 * track(c.t, times[:3], [0, 1, 0]))
    return {"count": len(events)}


def pull(c: Ctx, m: Motion) -> dict[str, Any]:
    reps = c.count(2, 4)
    phases = [[c.dur(0.45), c.dur(0.5), c.dur(0.15)] for _ in range(reps)]
    events = c.schedule(phases, gap=(0.0, 0.2))
    env = track(c.t, [events[0][0] - 0.3, events[0][0], events[-1][-1], events[-1][-1] + 0.4], [0, 1, 1, 0])
    _both_arms(m, flex=c.deg(65, 85) * env, elbow=10 * env)
    for times in events:
        s = track(c.t, times, [0, 1, 1, 0])
        _both_arms(m, flex=-c.deg(35, 55) * s, elbow=c.deg(80, 100) * s)
        m.spine(flex=-c.deg(8, 15) * s)
        m.squat(5 * s, c.u(10, 20) * s)
    return {"count": len(events)}


# --------------------------------------------------------------------------- leg and whole-body actions


def walk(c: Ctx, m: Motion) -> dict[str, Any]:
    env = c.intro()
    _gait(c, m, c.u(0.85, 1.05) * c.speed, c.deg(18, 27), c.deg(50, 65), c.u(10, 30), c.u(10, 25), env)
    return {"path": _curved_path(c, m)}


def run(c: Ctx, m: Motion) -> dict[str, Any]:
    env = c.intro()
    phase = _gait(c, m, c.u(1.2, 1.4) * np.sqrt(c.speed), c.u(28, 36), c.u(55, 70), c.u(30, 45),
                  c.u(75, 95), env)  # fmt: skip
    m.spine(flex=c.u(8, 15) * env)
    m.air += env * c.u(0.02, 0.05) * (1 - np.cos(2 * phase)) / 2
    return {"path": _curved_path(c, m)}


def jog_in_place(c: Ctx, m: Motion) -> dict[str, Any]:
    env = c.intro()
    phase = 2 * np.pi * c.u(1.2, 1.6) * np.sqrt(c.speed) * c.t + c.u(0, 2 * np.pi)
    hip, knee, arm = c.deg(40, 70), c.deg(60, 90), c.u(20, 35)
    for side, offset in ((R, 0.0), (L, np.pi)):
        lift = np.maximum(0.0, np.sin(phase + offset)) ** 1.5 * env
        m.hip(side, flex=hip * lift)
        m.knee(side, flex=knee * lift)
        m.ankle(side, flex=20 * lift)
        m.shoulder(side, flex=-arm * np.sin(phase + offset) * env)
        m.elbow(side, flex=c.u(75, 95) * env)
    m.air += env * c.u(0.01, 0.03) * (1 - np.cos(2 * phase)) / 2
    return {}


def step(c: Ctx, m: Motion) -> dict[str, Any]:
    phases = [[c.dur(0.3), c.dur(0.25), c.dur(0.3), c.dur(0.25)] for _ in range(c.count(1, 2))]
    events = c.schedule(phases, gap=(0.1, 0.6))
    for times in events:
        _step_keys(c, m, times, c.deg(14, 24))
    return {"count": len(events)}


def side_step(c: Ctx, m: Motion) -> dict[str, Any]:
    phases = [[c.dur(0.3), c.dur(0.25), c.dur(0.3), c.dur(0.25)] for _ in range(c.count(1, 4))]
    events = c.schedule(phases, gap=(0.0, 0.4))
    for times in events:
        size = c.u(9, 14)
        m.hip(R, abd=track(c.t, times, [0, 2 * size, size, 0, 0]), flex=track(c.t, times, [0, 12, 0, 0, 0]))
        m.knee(R, flex=track(c.t, times, [0, 40, 3, 0, 0]))
        m.hip(L, abd=track(c.t, times, [0, 0, size, 0, 0]), flex=track(c.t, times, [0, 0, 0, 12, 0]))
        m.knee(L, flex=track(c.t, times, [0, 0, 3, 40, 0]))
        switch = [times[2] - 0.05, times[2] + 0.05, times[4] - 0.05, times[4] + 0.05]
        on_right = track(c.t, switch, [0, 1, 1, 0])
        m.set_support(R, on_right, (c.t >= times[0]) & (c.t <= times[4]))
    return {"count": len(events)}


def jump(c: Ctx, m: Motion) -> dict[str, Any]:
    forward = c.chance(0.4)
    height = c.u(0.12, 0.35) * c.amp
    flight = 2 * np.sqrt(2 * height / 9.81)
    phases = [[c.dur(0.45), c.dur(0.25), flight, c.dur(0.2), c.dur(0.45)] for _ in range(c.count(1, 2))]
    events = c.schedule(phases, gap=(0.2, 0.6))
    distance = 0.0
    for times in events:
        hip, knee = c.deg(45, 65), c.deg(60, 80)
        m.squat(track(c.t, times, [0, hip, -5, 10, hip * 0.8, 0]),
                track(c.t, times, [0, knee, 0, 5, knee * 0.8, 0]))  # fmt: skip
        m.ankle(R, flex=track(c.t, times, [0, 0, 30, 10, 0, 0]))
        m.ankle(L, flex=track(c.t, times, [0, 0, 30, 10, 0, 0]))
        m.spine(flex=track(c.t, times, [0, 20, 0, 0, 15, 0]))
        _both_arms(m, flex=track(c.t, times, [0, -30, 30, c.deg(100, 130), 60, 0]), elbow=15)
        u = np.clip((c.t - times[2]) / flight, 0.0, 1.0)
        airborne = (c.t > times[2]) & (c.t < times[3])
        m.air += np.where(airborne, 4 * height * u * (1 - u), 0.0)
        m.pin[airborne] = 0.0
        if forward:
            hop = c.u(0.3, 0.7)
            m.root[:, 2] += distance + hop * u
            distance += hop
    return {"count": len(events), "direction": "forward" if forward else "up"}


def sit_down(c: Ctx, m: Motion) -> dict[str, Any]:
    _sit(c, m, standing_up=False)
    return {}


def stand_up(c: Ctx, m: Motion) -> dict[str, Any]:
    _sit(c, m, standing_up=True)
    return {}


def _sit(c: Ctx, m: Motion, standing_up: bool) -> None:
    """Sit onto (or rise from) an invisible chair: thighs level, lean forward on the way."""
    (times,) = c.schedule([[c.dur(0.7), c.dur(0.8)]], gap=(0.0, 0.0))
    seated = [0.0, 0.5, 1.0] if not standing_up else [1.0, 0.5, 0.0]
    s = track(c.t, times, seated)
    lean = track(c.t, times, [0.0, 1.0, 0.0]) * c.deg(25, 40)
    m.squat(c.deg(80, 95) * s, c.deg(85, 100) * s)
    m.spine(flex=lean + 8 * s)
    _both_arms(m, flex=0.6 * lean + 25 * s, elbow=35 * s)


def turn(c: Ctx, m: Motion) -> dict[str, Any]:
    angle = c.u(90, 170)
    (times,) = c.schedule([[c.dur(0.9 + angle / 250)]])
    m.body(yaw=track(c.t, times, [0, angle]))
    m.neck(twist=track(c.t, [times[0] - 0.2, times[0] + 0.2, times[1]], [0, 20, 0]))
    steps = max(2, int(round(angle / 60)))
    for k, key in enumerate(np.linspace(times[0], times[1], steps + 1)[:-1]):
        side = R if k % 2 == 0 else L
        d = (times[1] - times[0]) / steps
        m.knee(side, flex=track(c.t, [key, key + d / 2, key + d], [0, 30, 0]))
        m.hip(side, flex=track(c.t, [key, key + d / 2, key + d], [0, 12, 0]))
    return {"around": "around" if angle >= 150 else ""}


def look_around(c: Ctx, m: Motion) -> dict[str, Any]:
    looks = c.count(2, 4)
    (times,) = c.schedule([[c.dur(0.7)] * (looks + 1)])
    values = [0.0] + [c.deg(35, 65) * (1 if k % 2 == 0 else -1) for k in range(looks)] + [0.0]
    head = track(c.t, times, values[: len(times)])
    m.neck(twist=head, flex=c.u(-10, 10) * np.abs(head) / 60)
    m.spine(twist=0.3 * head)
    return {}


def dance(c: Ctx, m: Motion) -> dict[str, Any]:
    env = c.intro()
    beat = 2 * np.pi * c.u(1.6, 2.4) * np.sqrt(c.speed) * c.t + c.u(0, 6.3)
    half = beat / 2
    m.squat(5 * env, env * (8 + c.u(6, 14) * (1 - np.cos(beat)) / 2))
    m.spine(bend=env * c.deg(5, 12) * np.sin(half), twist=env * c.u(5, 20) * np.sin(half + 1))
    m.body(roll=env * c.u(2, 6) * np.sin(half))
    m.neck(flex=env * 6 * np.sin(beat))
    style = c.count(0, 2)
    if style == 0:  # arms up, swaying
        sway = c.deg(15, 30) * np.sin(half) * env
        _both_arms(m, abd=c.deg(110, 150) * env, elbow=c.u(20, 45) * env)
        m.shoulder(R, abd=sway)
        m.shoulder(L, abd=-sway)
    elif style == 1:  # alternating arm pumps
        for side, offset in ((R, 0.0), (L, np.pi)):
            m.shoulder(side, flex=env * (30 + c.deg(40, 70) * (1 + np.sin(half + offset)) / 2))
            m.elbow(side, flex=c.u(70, 100) * env)
    else:  # step-touch with swinging arms
        for side, offset in ((R, 0.0), (L, np.pi)):
            m.hip(side, abd=env * c.deg(6, 12) * np.maximum(0.0, np.sin(half + offset)))
            m.shoulder(side, horiz=env * c.deg(20, 40) * np.sin(half + offset), abd=40 * env)
            m.elbow(side, flex=40 * env)
    return {}


def crouch(c: Ctx, m: Motion) -> dict[str, Any]:
    rises = c.chance(0.4)
    (times,) = c.schedule([[c.dur(1.1), c.dur(c.u(0.8, 2.0)), c.dur(1.0)]])
    s = track(c.t, times, [0, 1, 1, 0 if rises else 1])
    tilt = c.deg(15, 30) * s
    m.hinge(tilt)
    m.squat(c.deg(80, 100) * s, c.deg(110, 130) * s)
    m.spine(flex=c.deg(10, 25) * s)
    _both_arms(m, flex=c.deg(30, 60) * s + tilt, elbow=c.u(30, 70) * s)
    return {}


def duck(c: Ctx, m: Motion) -> dict[str, Any]:
    cover = c.chance(0.5)
    phases = [[c.dur(0.3), c.dur(c.u(0.3, 0.8)), c.dur(0.45)] for _ in range(c.count(1, 2))]
    events = c.schedule(phases, gap=(0.3, 0.8))
    for times in events:
        s = track(c.t, times, [0, 1, 1, 0])
        m.squat(c.deg(55, 80) * s, c.deg(60, 90) * s)
        m.spine(flex=c.deg(30, 45) * s)
        m.neck(flex=15 * s)
        if cover:
            _both_arms(m, flex=c.deg(110, 140) * s, horiz=20 * s, elbow=c.u(100, 120) * s)
    return {"count": len(events)}


def squat(c: Ctx, m: Motion) -> dict[str, Any]:
    phases = [[c.dur(0.85), c.dur(0.15), c.dur(0.85)] for _ in range(c.count(2, 4))]
    events = c.schedule(phases, gap=(0.05, 0.4))
    for times in events:
        s = track(c.t, times, [0, 1, 1, 0])
        m.hinge(c.deg(10, 20) * s)
        m.squat(c.deg(70, 95) * s, c.deg(90, 120) * s)
        m.spine(flex=c.deg(10, 20) * s)
        _both_arms(m, flex=c.deg(70, 90) * s)
    return {"count": len(events)}


def pick_up(c: Ctx, m: Motion) -> dict[str, Any]:
    (times,) = c.schedule([[c.dur(0.9), c.dur(0.35), c.dur(1.0)]])
    s = track(c.t, times, [0, 1, 1, 0])
    carry = track(c.t, times, [0, 0, 0, 1])
    tilt, bend = c.u(50, 70), c.u(10, 20)  # not amplitude-scaled: the hand must reach the floor
    m.hinge(tilt * s)
    m.spine(flex=bend * s)
    m.squat(c.u(55, 70) * s, c.u(110, 130) * s)
    m.shoulder(R, flex=(tilt + bend + 10) * s + c.u(30, 45) * carry)  # then hold it at the chest
    m.elbow(R, flex=c.u(90, 110) * carry)
    m.neck(flex=15 * s)
    return {}


def lift(c: Ctx, m: Motion) -> dict[str, Any]:
    overhead = c.chance(0.35)
    (times,) = c.schedule([[c.dur(0.9), c.dur(0.3), c.dur(1.0), c.dur(0.8)]])
    s = track(c.t, times, [0, 1, 1, 0, 0])
    carry = track(c.t, times, [0, 0, 0, 1, 1])
    high = track(c.t, times, [0, 0, 0, 0, 1]) if overhead else 0.0
    tilt = c.deg(20, 35)
    m.hinge(tilt * s)
    m.squat(c.deg(65, 85) * s, c.deg(90, 110) * s)
    m.spine(flex=10 * s)
    _both_arms(m, flex=(tilt + 30) * s + c.u(20, 35) * carry + 130 * high,
               elbow=c.deg(85, 105) * carry * (1 - np.asarray(high)), horiz=10 * s)  # fmt: skip
    return {"direction": "over the head" if overhead else "up to the chest"}


def stretch(c: Ctx, m: Motion) -> dict[str, Any]:
    overhead = c.chance(0.6)
    (times,) = c.schedule([[c.dur(0.8), c.dur(c.u(1.5, 3.0)), c.dur(0.8)]])
    s = track(c.t, times, [0, 1, 1, 0])
    if overhead:
        _both_arms(m, flex=c.deg(160, 178) * s, elbow=5 * s)
        inner = track(c.t, [times[1] - 0.2, times[1] + 0.3, times[2] - 0.3, times[2]], [0, 1, 1, 0])
        m.spine(bend=c.deg(15, 25) * np.sin(2 * np.pi * c.u(0.3, 0.5) * c.speed * (c.t - times[1])) * inner)
        text = "stretches both arms overhead and leans from side to side"
    else:
        _both_arms(m, abd=c.deg(80, 95) * s, horiz=-c.deg(15, 25) * s)
        m.spine(flex=-c.deg(8, 15) * s)
        m.neck(flex=-10 * s)
        text = "stretches both arms out wide and opens the chest"
    return {"style_text": text}


def bow(c: Ctx, m: Motion) -> dict[str, Any]:
    hand = c.chance(0.3)
    phases = [[c.dur(0.8), c.dur(c.u(0.4, 1.2)), c.dur(0.8)] for _ in range(c.count(1, 2))]
    events = c.schedule(phases, gap=(0.2, 0.6))
    for times in events:
        s = track(c.t, times, [0, 1, 1, 0])
        m.hinge(c.deg(25, 55) * s)
        m.spine(flex=c.u(5, 15) * s)
        m.neck(flex=10 * s)
        if hand:
            m.shoulder(R, flex=30 * s, horiz=40 * s)
            m.elbow(R, flex=100 * s)
    return {"count": len(events)}


def stand(c: Ctx, m: Motion) -> dict[str, Any]:
    shift = c.u(2, 5) * np.sin(2 * np.pi * c.u(0.15, 0.35) * c.t + c.u(0, 6.3))
    m.hip(R, abd=shift)
    m.hip(L, abd=-shift)
    pose = c.count(0, 2)
    if pose == 1:
        _both_arms(m, flex=c.u(25, 35), horiz=c.u(45, 55), elbow=c.u(95, 110))
    elif pose == 2:
        _both_arms(m, abd=c.u(30, 45), horiz=-10, elbow=c.u(90, 110))
    return {"pose": ("relaxed", "with the arms crossed", "with the hands on the hips")[pose]}


# --------------------------------------------------------------------------- the table


Generator = Callable[[Ctx, Motion], dict[str, Any]]


@dataclass(frozen=True)
class ActionSpec:
    """One class of the corpus.

    Attributes:
        name: BABEL-style label.
        category: the violent category (``datasets.violence``) or ``None``.
        generate: the generator function.
        captions: 2-4 caption predicates; slots: ``{side}``, ``{other}``, ``{adv}``,
            ``{adj}``, ``{times}``, ``{count_word}``, ``{s}`` and the generator's keys.
        lateral: the action has a side (hand, leg, direction) named by ``{side}``.
        limb: ``"arm"``/``"leg"`` if one limb on that side does the action.
        low: the head may come down to pelvis height (crouching/bending classes).
    """

    name: str
    category: str | None
    generate: Generator
    captions: tuple[str, ...]
    lateral: bool = False
    limb: str | None = None
    low: bool = False


def _spec(name: str, category: str | None, generate: Generator, *captions: str, **kw: Any) -> ActionSpec:
    return ActionSpec(name, category, generate, captions, **kw)


ACTIONS: tuple[ActionSpec, ...] = (
    # the six violent categories
    _spec("kick", "kick", kick,
          "kicks with the {side} leg", "does a {adj} {kind} kick with the {side} foot",
          "kicks {times} with the {side} leg", lateral=True, limb="leg"),
    _spec("punch", "punch", punch,
          "punches with the {side} fist", "throws {count_word} {adj} punch{es} with the {side} hand",
          "punches forward {times} with the {side} arm", lateral=True, limb="arm"),
    _spec("hit", "hit", hit,
          "hits {adv} with the {side} arm", "strikes {style} with the {side} hand",
          "swings the {side} arm to hit something {times}", lateral=True, limb="arm"),
    _spec("martial art", "martial art", martial_art,
          "performs a martial arts routine", "practices {adj} karate moves",
          "does a sequence of {count_word} martial arts techniques"),
    _spec("evade", "evade", evade,
          "dodges {direction}", "evades an attack by moving {direction}",
          "leans {direction} {adv} to avoid a blow"),
    _spec("grab person", "grab person", grab_person,
          "grabs someone with both hands", "reaches out {adv} and grabs another person",
          "grabs a person and pulls them closer"),
    # non-violent look-alikes of the violent categories
    _spec("wave", None, wave,
          "waves with the {side} hand", "waves {adv} with the {side} arm",
          "raises the {side} hand and waves hello", lateral=True, limb="arm"),
    _spec("step", None, step,
          "takes {count_word} step{s} forward", "steps forward leading with the {side} foot",
          "steps forward {adv}", lateral=True),
    _spec("walk", None, walk, "walks forward", "walks {adv}", "is walking {path}"),
    _spec("hug", None, hug,
          "hugs someone", "opens the arms and gives a hug", "wraps both arms around someone in a {adj} hug"),
    _spec("dance", None, dance, "dances", "dances {adv} to the music", "moves rhythmically as if dancing"),
    _spec("reach", None, reach,
          "reaches {direction} with the {side} hand",
          "stretches out the {side} arm {adv} to reach for something", lateral=True, limb="arm"),
    _spec("point", None, point,
          "points with the {side} hand", "points at something with the {side} arm",
          "raises the {side} arm and points {direction}", lateral=True, limb="arm"),
    _spec("crouch", None, crouch, "crouches down", "squats down low", "crouches {adv}", low=True),
    _spec("duck", None, duck,
          "ducks", "ducks down {adv}", "lowers the head and body to duck {times}", low=True),
    # everyday actions
    _spec("run", None, run, "runs forward", "runs {adv}", "is running {path}"),
    _spec("jump", None, jump, "jumps {direction}", "jumps {times}", "bends the knees and jumps {direction}"),
    _spec("sit down", None, sit_down,
          "sits down", "sits down {adv} on a chair", "lowers into a seated position"),
    _spec("stand up", None, stand_up,
          "stands up", "stands up {adv} from a chair", "rises from a seated position"),
    _spec("turn", None, turn,
          "turns to the {side}", "turns {around} to the {side}", "turns {adv} to the {side}", lateral=True),
    _spec("raise arms", None, raise_arms,
          "raises both arms", "lifts both arms over the head", "raises the arms {times}"),
    _spec("clap", None, clap, "claps", "claps the hands {adv}", "claps the hands {times}"),
    _spec("throw", None, throw,
          "throws something with the {side} hand", "throws a ball overhand with the {side} arm",
          "winds up and throws {adv}", lateral=True, limb="arm"),
    _spec("pick up", None, pick_up,
          "picks something up with the {side} hand", "bends down and picks up an object",
          "reaches down with the {side} hand to pick something up", lateral=True, limb="arm", low=True),
    _spec("stretch", None, stretch, "stretches", "does a stretch", "{style_text}"),
    _spec("bow", None, bow, "bows", "bows {times}", "bends forward at the waist in a bow"),
    _spec("squat", None, squat, "does squats", "squats {times}", "does {count_word} squat{s}", low=True),
    _spec("jog in place", None, jog_in_place, "jogs in place", "runs on the spot", "jogs in place {adv}"),
    _spec("wave both hands", None, wave_both_hands,
          "waves both hands", "waves both arms above the head", "waves both hands in the air {adv}"),
    _spec("side step", None, side_step,
          "steps sideways to the {side}", "side-steps to the {side} {times}",
          "moves to the {side} with side steps", lateral=True),
    _spec("look around", None, look_around,
          "looks around", "turns the head to look {side} and then {other}", "looks around {adv}",
          lateral=True),
    _spec("scratch head", None, scratch_head,
          "scratches the head with the {side} hand", "scratches the head",
          "raises the {side} hand to scratch the head", lateral=True, limb="arm"),
    _spec("drink", None, drink,
          "drinks from a cup with the {side} hand", "takes a drink",
          "raises the {side} hand to the mouth and drinks", lateral=True, limb="arm"),
    _spec("lift", None, lift,
          "lifts something heavy from the floor", "picks up a heavy object with both hands",
          "squats and lifts a box {direction}", low=True),
    _spec("push", None, push,
          "pushes something with both hands", "pushes forward {times}", "pushes a heavy object {adv}"),
    _spec("pull", None, pull,
          "pulls something toward the body", "pulls a rope with both hands", "pulls {times} with both arms"),
    _spec("stand", None, stand, "stands still", "stands in place", "stands {pose}"),
)  # fmt: skip

ACTION_NAMES: tuple[str, ...] = tuple(a.name for a in ACTIONS)
ACTIONS_BY_NAME: dict[str, ActionSpec] = {a.name: a for a in ACTIONS}

# (violent class, non-violent neighbour that looks alike)
CONFUSABLE_PAIRS: tuple[tuple[str, str], ...] = (
    ("punch", "wave"), ("kick", "step"), ("kick", "walk"), ("grab person", "hug"), ("martial art", "dance"),
    ("hit", "reach"), ("hit", "point"), ("evade", "crouch"), ("evade", "duck"), ("punch", "throw"),
)  # fmt: skip
