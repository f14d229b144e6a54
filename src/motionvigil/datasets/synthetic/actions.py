"""The action library of the synthetic corpus: one :class:`ActionSpec` per class.

Every action is a generator ``fn(c: Ctx, m: Motion) -> dict`` that adds joint-angle
curves (degrees) to a :class:`~.motion.Motion` already holding a relaxed standing pose
(:func:`~.moves.idle`), and returns the facts its captions need (``count``,
``direction``, ...). All randomness comes from ``c.rng``. Actions are authored for the
RIGHT side (the striking hand, the kicking leg, the direction of a turn); the corpus
mirrors a motion to get the left one.

The pieces live in their own modules, imported in one direction: :mod:`.curves`
(curve/easing helpers) -> :mod:`.motion` (per-clip :class:`~.motion.Ctx`, the
:class:`~.motion.Motion` object) -> :mod:`.moves` (idle pose, shared moves) ->
``generators_*`` (:mod:`.generators_violent`, :mod:`.generators_arms`,
:mod:`.generators_locomotion`, :mod:`.generators_body`) -> this table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from motionvigil.datasets.synthetic.generators_arms import (
    clap,
    drink,
    hug,
    point,
    pull,
    push,
    raise_arms,
    reach,
    scratch_head,
    throw,
    wave,
    wave_both_hands,
)
from motionvigil.datasets.synthetic.generators_body import (
    bow,
    crouch,
    dance,
    duck,
    lift,
    look_around,
    pick_up,
    sit_down,
    squat,
    stand,
    stand_up,
    stretch,
)
from motionvigil.datasets.synthetic.generators_locomotion import (
    jog_in_place,
    jump,
    run,
    side_step,
    step,
    turn,
    walk,
)
from motionvigil.datasets.synthetic.generators_violent import (
    evade,
    grab_person,
    hit,
    kick,
    martial_art,
    punch,
)
from motionvigil.datasets.synthetic.motion import Ctx, Motion

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
