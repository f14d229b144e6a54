"""Building blocks shared by the action generators.

:func:`idle` is the relaxed standing pose the corpus puts under every action; the
private moves (guard, straight strike, kick, one step, periodic gait, curved path,
both arms at once) are reused by several generators. All are authored for the RIGHT
side unless given a ``side``, and take all randomness from ``c.rng``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from motionvigil.datasets.synthetic.curves import bump, smooth_noise, track
from motionvigil.datasets.synthetic.motion import Ctx, L, Motion, R


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
