"""Whole-body posture actions done in place: sitting down and standing up, looking around,
dancing, crouching, ducking, squatting, picking up, lifting, stretching, bowing and
standing (see :mod:`.actions` for the generator protocol)."""

from __future__ import annotations

from typing import Any

import numpy as np

from motionvigil.datasets.synthetic.curves import track
from motionvigil.datasets.synthetic.motion import Ctx, L, Motion, R
from motionvigil.datasets.synthetic.moves import _both_arms


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
    events = c.holds(0.3, (0.3, 0.8), 0.45, gap=(0.3, 0.8))
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
    events = c.holds(0.8, (0.4, 1.2), 0.8, gap=(0.2, 0.6))
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
