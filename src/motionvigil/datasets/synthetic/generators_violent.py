"""Action generators of the six violent categories: kick, punch, hit, martial art, evade,
grab person (see :mod:`.actions` for the generator protocol)."""

from __future__ import annotations

from typing import Any

import numpy as np

from motionvigil.datasets.synthetic.curves import track
from motionvigil.datasets.synthetic.motion import Ctx, L, Motion, R
from motionvigil.datasets.synthetic.moves import _both_arms, _guard, _kick, _strike


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
    events = c.holds(0.22, (0.2, 0.5), 0.45, gap=(0.3, 0.8))
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
