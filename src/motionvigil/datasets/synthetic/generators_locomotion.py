"""Action generators that move the feet: walking, running, jogging in place, stepping,
side-stepping, jumping and turning (see :mod:`.actions` for the generator protocol)."""

from __future__ import annotations

from typing import Any

import numpy as np

from motionvigil.datasets.synthetic.curves import track
from motionvigil.datasets.synthetic.motion import Ctx, L, Motion, R
from motionvigil.datasets.synthetic.moves import _both_arms, _curved_path, _gait, _step_keys


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
