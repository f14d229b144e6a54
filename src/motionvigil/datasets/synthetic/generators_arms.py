"""Action generators driven by the arms: waving, reaching, pointing, throwing, clapping,
raising the arms, scratching the head, drinking, hugging, pushing and pulling (see
:mod:`.actions` for the generator protocol)."""

from __future__ import annotations

from typing import Any

import numpy as np

from motionvigil.datasets.synthetic.curves import track
from motionvigil.datasets.synthetic.motion import Ctx, L, Motion, R
from motionvigil.datasets.synthetic.moves import _both_arms, _step_keys


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
    events = c.holds(0.7, (0.4, 1.5), 0.7, gap=(0.2, 0.6))
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
    for times in c.holds(0.7, (0.8, 2.0), 0.6, gap=(0.3, 1.0)):
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
