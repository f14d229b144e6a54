"""A few-shot violence detector: a motion-text model, class prototypes and a threshold.

A :class:`Detector` scores 3.2 s windows of motion (see :mod:`.windows`) by their cosine
similarity to one prototype per class. Prototypes come from a handful of labelled
support clips per class (optionally after adapting the motion encoder to them with the
MAML inner loop, TMR-to-Violence [docs/papers.md] Section 3.3) or, zero-shot, from class-name prompts through
the text encoder. The violence score of a window is its highest similarity to a violent
class; the detector raises an alert when it reaches ``threshold``, which is chosen on
the support clips (:mod:`.thresholds`: best F1, or a target false-positive rate).

With a violence **head** (:meth:`Detector.with_head`, the default of
``build-detector``) the violence score is instead the head's probability that the window
is violent, computed from body-size-free kinematics (:mod:`.head`), and the threshold
keeps calm motion under a target rate of false alerts per minute (:mod:`.head_fit`).
The prototypes still name the violent class of an alert. This is what transfers to
sources the detector never saw (``motionvigil study detection``, docs/detection.md).

Saved as one checkpoint folder: the model (adapted weights included) as
``weights.safetensors`` with the prototypes as the extra tensor
``detector.prototypes``, and ``config.json`` with a ``"detector"`` section (classes,
violent mask, threshold, policy, window, stride, calibration).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from motionvigil.datasets.captions import LABEL_TEMPLATE, label_caption
from motionvigil.datasets.clip import Clip
from motionvigil.datasets.labelled import LabelledSet
from motionvigil.datasets.violence import is_violent
from motionvigil.detect.head import ViolenceHead
from motionvigil.detect.thresholds import choose_threshold, cosine_scores, leave_one_out_violence, violence_of
from motionvigil.detect.windows import (
    DEFAULT_STRIDE,
    DEFAULT_WINDOW,
    EmbedFn,
    WindowResult,
    centre_crop,
    embed_windows,
    gated,
    seconds,
)
from motionvigil.errors import CheckpointError
from motionvigil.fewshot.adaptation import AdaptSettings, InputCache, adapt, encoder_params
from motionvigil.losses import class_prototypes
from motionvigil.models.bundle import MotionTextBundle
from motionvigil.models.checkpoint import CONFIG, load_checkpoint, read_config
from motionvigil.models.text import TextEmbeddingCache

PROTOTYPES = "detector.prototypes"
DEFAULT_PROMPT_THRESHOLD = 0.5  # zero-shot detectors: a placeholder until calibrate() is called


def _labelled(support: LabelledSet | Sequence[Clip], classes: Sequence[str] | None) -> LabelledSet:
    if isinstance(support, LabelledSet):
        if classes is None or tuple(classes) == support.classes:
            return support
        return LabelledSet.build(support.clips, classes)
    if classes is None:
        raise ValueError("pass the class names along with a list of support clips")
    return LabelledSet.build(list(support), classes)


def _violent_mask(classes: Sequence[str], violent: Sequence[str] | None) -> np.ndarray:
    """Boolean mask over ``classes``: the named ``violent`` ones, else the built-in violent set."""
    if violent is None:
        mask = np.array([is_violent(c) for c in classes], dtype=bool)
    else:
        unknown = sorted(set(violent) - set(classes))
        if unknown:
            raise ValueError(f"alert classes {unknown} are not among the detector's classes")
        mask = np.array([c in set(violent) for c in classes], dtype=bool)
    if not mask.any():
        raise ValueError(f"none of the classes {list(classes)} is violent: "
                         "name the classes to alert on (violent=...)")
    return mask


class Detector:
    """Scores windows of motion against class prototypes; alerts on the violence score.

    Args:
        bundle: the motion-text model (with adapted motion-encoder weights, if adapted).
        prototypes: ``[C, D]`` unit class prototypes.
        classes: the ``C`` class names.
        violent: ``[C]`` boolean, the classes whose score makes the violence score.
        threshold: alert when the violence score is ``>= threshold``.
        policy: how the threshold was chosen (``"f1"``, ``"target_fpr=0.05"``, ``"fixed"``).
        window, stride: window length and hop in frames at 20 Hz.
        calibration: the threshold's summary on the clips it was chosen on.
        info: provenance (support shots, adaptation, prompts).
        head: a violence head; when set, it (not the prototypes) gives the violence score.
    """

    def __init__(self, bundle: MotionTextBundle, prototypes: np.ndarray, classes: Sequence[str], violent: np.ndarray,
                 threshold: float, policy: str = "fixed", window: int = DEFAULT_WINDOW, stride: int = DEFAULT_STRIDE,
                 calibration: dict[str, Any] | None = None, info: dict[str, Any] | None = None,
                 head: ViolenceHead | None = None):
        self.bundle = bundle
        self.prototypes = np.ascontiguousarray(prototypes, dtype=np.float32)
        self.classes = tuple(classes)
        self.violent = np.asarray(violent, dtype=bool)
        self.threshold = float(threshold)
        self.policy = policy
        self.window = int(window)
        self.stride = int(stride)
        self.calibration = dict(calibration or {})
        self.info = dict(info or {})
        self.head = head
        # overrides the model's pair network (tests): an object with .results(keys, scenes, own, threshold),
        # own keyed (key, person id) and the result {key: pair results};
        # the cascade's gate then sees only the persons' own violence
        self.pair_model: Any = None
        c = len(self.classes)
        if self.prototypes.shape != (c, bundle.config.embed_dim):
            raise ValueError(f"prototypes must be [{c}, {bundle.config.embed_dim}], got {self.prototypes.shape}")
        if self.violent.shape != (c,) or not self.violent.any():
            raise ValueError("violent must be a boolean mask over the classes with at least one violent class")
        if not math.isfinite(self.threshold):
            raise ValueError(f"threshold must be finite, got {threshold}")
        if self.window < 2 or self.stride < 1:
            raise ValueError(f"need window >= 2 and stride >= 1 frames, got {self.window}, {self.stride}")

    # ---- construction ---------------------------------------------------------------
    @classmethod
    def build(cls, bundle: MotionTextBundle, support: LabelledSet | Sequence[Clip],
              classes: Sequence[str] | None = None, *, adapt: bool = False, target_fpr: float | None = None,
              violent: Sequence[str] | None = None, window: int = DEFAULT_WINDOW, stride: int = DEFAULT_STRIDE,
              settings: AdaptSettings | None = None, seed: int = 0) -> "Detector":
        """A detector from labelled support clips (a few per class).

        Support clips are centre-cropped to ``window`` frames. Clips with none of the
        ``classes`` are background: in no prototype, but their scores count as
        non-violent when the threshold is chosen. With ``adapt`` the motion encoder of a
        copy of ``bundle`` first takes the FOMAML inner-loop steps of ``settings`` on the
        labelled clips (``bundle`` itself is not changed). The threshold policy is
        ``"f1"``, or ``"target_fpr"`` when ``target_fpr`` is given, on leave-one-out
        support scores (see :mod:`motionvigil.detect.thresholds`; with ``adapt`` the
        encoder has seen every support clip, so those scores are somewhat optimistic).

        Raises:
            ValueError: a class without support clips, no violent class, or a threshold
                policy the support cannot serve.
        """
        data = _labelled(support, classes)
        counts = data.class_counts()
        empty = [c for c, n in zip(data.classes, counts) if n == 0]
        if empty:
            raise ValueError(f"no support clips for class(es) {empty}")
        mask = _violent_mask(data.classes, violent)
        clips = [centre_crop(c, window) for c in data.clips]
        labelled = np.flatnonzero(data.labels.any(1))
        info: dict[str, Any] = {"prototypes_from": "support", "support_clips": len(clips),
                                "shots": {c: int(n) for c, n in zip(data.classes, counts)}, "adapted": adapt}
        if adapt:
            settings = settings or AdaptSettings()
            bundle = MotionTextBundle(copy.deepcopy(bundle.model), bundle.inputs, dict(bundle.info))
            fast = adapt_encoder(bundle, clips, labelled, data.labels[labelled], mask, settings, seed)
            with torch.no_grad():
                for name, p in encoder_params(bundle).items():
                    p.copy_(fast[name])
            info["adapt"] = {"steps": settings.steps, "lr": settings.lr, "seed": seed}
        z = bundle.embed_clips(clips)
        protos = class_prototypes(torch.from_numpy(z[labelled]), torch.from_numpy(data.labels[labelled])).numpy()
        loo = leave_one_out_violence(z, data.labels, mask)
        truth = (data.labels & mask[None]).any(1)
        calibration = choose_threshold(loo, truth, target_fpr)
        calibration["scores"] = "leave-one-out support scores"
        return cls(bundle, protos, data.classes, mask, calibration["threshold"], _policy_name(target_fpr),
                   window, stride, calibration, info)

    @classmethod
    def from_prompts(cls, bundle: MotionTextBundle, classes: Sequence[str], cache: TextEmbeddingCache, *,
                     threshold: float = DEFAULT_PROMPT_THRESHOLD, violent: Sequence[str] | None = None,
                     window: int = DEFAULT_WINDOW, stride: int = DEFAULT_STRIDE) -> "Detector":
        """A zero-shot detector: prototypes are the text embeddings of ``"a person {label}"``.

        No labelled clip is involved, so the threshold is ``threshold`` (policy
        ``"fixed"``) until :meth:`calibrate` chooses one on labelled clips.
        """
        classes = tuple(classes)
        mask = _violent_mask(classes, violent)
        text = bundle.embed_texts([label_caption(c) for c in classes], cache)
        protos = text / np.maximum(np.linalg.norm(text, axis=1, keepdims=True), 1e-12)
        info = {"prototypes_from": "prompts", "prompt_template": LABEL_TEMPLATE, "adapted": False}
        return cls(bundle, protos, classes, mask, threshold, "fixed", window, stride, {}, info)

    def calibrate(self, clips: LabelledSet | Sequence[Clip], target_fpr: float | None = None) -> "Detector":
        """A copy whose threshold is chosen on labelled ``clips`` (``"f1"`` or ``target_fpr``).

        The clips play no part in the prototypes, so they are scored directly (not
        leave-one-out). Labels outside the detector's classes count as non-violent.
        """
        data = _labelled(clips, self.classes)
        truth = (data.labels & self.violent[None]).any(1)
        calibration = choose_threshold(self.clip_violence(data.clips), truth, target_fpr)
        calibration["scores"] = f"{len(data.clips)} calibration clips"
        return Detector(self.bundle, self.prototypes, self.classes, self.violent, calibration["threshold"],
                        _policy_name(target_fpr), self.window, self.stride, calibration, self.info, self.head)

    def clip_violence(self, clips: Sequence[Clip]) -> np.ndarray:
        """``[N]`` violence score of each clip's centred window (the head's, or the prototypes')."""
        cropped = [centre_crop(c, self.window) for c in clips]
        if self.head is not None:
            return self.head.score_windows([c.joints for c in cropped])
        return violence_of(self.scores(self.bundle.embed_clips(cropped)), self.violent)

    def with_head(self, clips: Sequence[Clip], violent: Sequence[bool], *, alerts_per_min: float | None = None,
                  seed: int = 0, procedural: int | None = None, c: float | None = None,
                  augment: bool | None = None) -> "Detector":
        """A copy scored by a violence head trained on ``clips`` (labelled ``violent``)
        plus the procedural corpus, with the threshold at ``alerts_per_min`` false alerts
        per minute of the calm clips (see :func:`motionvigil.detect.head_fit.train_head`)."""
        from motionvigil.detect import head_fit

        kwargs: dict[str, Any] = {"seed": seed}
        if alerts_per_min is not None:
            kwargs["alerts_per_min"] = alerts_per_min
        for key, value in (("procedural", procedural), ("c", c), ("augment", augment)):
            if value is not None:
                kwargs[key] = value
        head, calibration = head_fit.train_head(clips, violent, self.window, self.stride, **kwargs)
        return Detector(self.bundle, self.prototypes, self.classes, self.violent, calibration["threshold"],
                        calibration["policy"], self.window, self.stride, calibration, self.info, head)

    def with_model(self, clips: Sequence[Clip], violent: Sequence[bool], *, scenes: Sequence[Any] = (),
                   procedural: int | None = None, seed: int = 0, alerts_per_min: float | None = None,
                   hidden: int | None = None, alpha: float | None = None, augment: bool = False) -> "Detector":
        """A copy scored by the learned violence model (:mod:`motionvigil.detect.model`)
        trained on ``clips`` (labelled ``violent``), ``procedural`` clips per class of the
        procedural corpus and two-person ``scenes``; threshold as in
        :func:`motionvigil.detect.model_fit.train_model`."""
        from motionvigil.detect import head_fit, model_fit

        s = model_fit.ModelSettings(window=self.window, stride=self.stride)
        for key, value in (("hidden", hidden), ("alpha", alpha), ("alerts_per_min", alerts_per_min)):
            if value is not None:
                s = replace(s, **{key: value})
        extra = head_fit.procedural_clips(seed, head_fit.PROCEDURAL_CLIPS_PER_CLASS if procedural is None
                                          else procedural) if procedural != 0 else []
        model, calibration = model_fit.train_model(clips, violent, scenes=scenes, procedural=extra, settings=s,
                                                   augment=augment, seed=seed)
        return Detector(self.bundle, self.prototypes, self.classes, self.violent, calibration["threshold"],
                        calibration["policy"], self.window, self.stride, calibration, self.info, model)

    # ---- scoring --------------------------------------------------------------------
    @property
    def hold_s(self) -> float:
        """Seconds an alert stays open through a lull (the event logic chosen on validation
        when the threshold was set, :mod:`.model_fit`; 0 for detectors made before it)."""
        return float(self.calibration.get("hold_s", 0.0))

    @property
    def violent_classes(self) -> tuple[str, ...]:
        return tuple(c for c, v in zip(self.classes, self.violent) if v)

    def scores(self, z: np.ndarray) -> np.ndarray:
        """``[N, C]`` cosine similarity of embeddings ``z [N, D]`` to the prototypes."""
        return cosine_scores(z, self.prototypes)

    def score_windows(self, windows: Sequence[np.ndarray], starts: Sequence[int], batch_size: int = 64,
                      gate: float | None = None, embed: EmbedFn | None = None) -> list[WindowResult]:
        """Results for 20 Hz SMPL-22 joint ``windows`` starting at frames ``starts``.

        ``gate``: with a violence head, the motion encoder embeds only the windows whose
        violence is ``>= gate`` (the cascade, :mod:`.cascade`); the others get no class
        scores. ``embed``: windows -> ``[N, D]`` embeddings (default
        :func:`~motionvigil.detect.windows.embed_windows`)."""
        if not windows:
            return []
        violence = self.violence(windows)
        rows = gated(violence, gate, len(windows))
        return self.results(windows, starts, self._embed(windows, rows, batch_size, embed), rows, violence)

    def _embed(self, windows: Sequence[np.ndarray], rows: np.ndarray, batch_size: int,
               embed: EmbedFn | None) -> np.ndarray:
        if not len(rows):
            return np.zeros((0, self.bundle.config.embed_dim), np.float32)
        chosen = [windows[i] for i in rows]
        return embed(chosen) if embed is not None else embed_windows(self.bundle, chosen, batch_size)

    def violence(self, windows: Sequence[np.ndarray]) -> np.ndarray | None:
        """``[N]`` violence scores of 20 Hz SMPL-22 ``windows`` without the motion encoder
        (the head's), or None for a detector whose violence score needs the embeddings
        (no head: the prototypes' score). The cascade (:mod:`.cascade`) gates the encoder on it."""
        if self.head is None:
            return None
        return self.head.score_windows(windows)

    def results(self, windows: Sequence[np.ndarray], starts: Sequence[int], z: np.ndarray,
                rows: Sequence[int] | None = None, violence: np.ndarray | None = None) -> list[WindowResult]:
        """Results for ``windows`` whose embeddings ``z`` are already computed (by
        :func:`~motionvigil.detect.windows.embed_windows` or an equivalent batched path).

        ``z [N, D]`` embeds every window; or, with ``rows``, ``z [len(rows), D]`` embeds only
        ``windows[rows]`` (a head detector's cascade): the other windows keep their violence
        score and alert but get no class scores (``scores == {}``, ``violent_class == ""``).
        ``violence`` passes scores of :meth:`violence` already computed.
        """
        if rows is None:
            rows = range(len(windows))
        if violence is None:
            violence = self.violence(windows)
        if violence is None and len(rows) != len(windows):
            raise ValueError("a detector without a head needs the embedding of every window")
        row_of = {int(i): k for k, i in enumerate(rows)}
        scores = self.scores(z) if len(z) else np.zeros((0, len(self.classes)), np.float32)
        vidx = np.flatnonzero(self.violent)
        out = []
        for i, (s, w) in enumerate(zip(starts, windows)):
            k = row_of.get(i)
            row = scores[k] if k is not None else None
            best = int(vidx[np.argmax(row[vidx])]) if row is not None else -1
            v = float(row[best]) if violence is None else float(violence[i])
            out.append(WindowResult(seconds(s), seconds(s + len(w)),
                                    {} if row is None else dict(zip(self.classes, map(float, row))),
                                    v, v >= self.threshold, "" if row is None else self.classes[best]))
        return out

    def score_scene(self, starts: Sequence[int], scenes: Sequence[dict[int, np.ndarray]], batch_size: int = 64,
                    gate: float | None = None, embed: EmbedFn | None = None) -> list[WindowResult]:
        """Results for multi-person input (docs/persons.md).

        ``scenes[i]`` maps person id -> that person's 20 Hz SMPL-22 window starting at
        ``starts[i]``, in the shared (not canonical) frame, holding only the persons
        scorable in that window. Returns, per window start in order, one result per person
        (``persons=(id,)``) and then one per pair of persons close enough to touch
        (``persons=(a, b)``, ``a < b``, :mod:`.pairs`), scored by the learned model's pair
        network. ``gate`` and ``embed`` as in :meth:`score_windows`; a person window is
        embedded when its own violence or that of a pair it is in reaches ``gate``, so
        an alerting pair names its class.
        """
        return [r for group in self.score_scenes(starts, scenes, batch_size, gate, embed) for r in group]

    def score_scenes(self, starts: Sequence[int], scenes: Sequence[dict[int, np.ndarray]], batch_size: int = 64,
                     gate: float | None = None, embed: EmbedFn | None = None) -> list[list[WindowResult]]:
        """:meth:`score_scene`'s results, one list per scene; the scenes may come from several
        streams (equal starts are fine): every person and pair of all of them is scored in
        one batch, which is how ``serve`` and ``worker`` score their streams' scenes together."""
        from motionvigil.detect.pairs import pair_results, scene_pairs

        flat: list[tuple[int, int, np.ndarray]] = [(i, pid, w) for i, scene in enumerate(scenes)
                                                   for pid, w in sorted(scene.items())]
        if not flat:
            return [[] for _ in scenes]
        windows = [w for _, _, w in flat]
        index = {(i, pid): k for k, (i, pid, _) in enumerate(flat)}
        paired = self.pair_model is None and getattr(self.head, "pair", None) is not None
        keys = scene_pairs(range(len(scenes)), scenes) if paired else []
        links = [(index[(i, a)], index[(i, b)]) for i, a, b in keys]
        if self.head is None:
            violence, pair_violence = None, np.zeros(0)
        elif paired:
            violence, pair_violence = self.head.score_scene(windows, links)
        else:
            violence, pair_violence = self.head.score_windows(windows), np.zeros(0)
        rows = gated(violence, gate, len(windows))
        if gate is not None and len(links):
            hot = np.asarray(links)[np.asarray(pair_violence) >= gate]
            rows = np.union1d(rows, hot.ravel()).astype(int)
        z = self._embed(windows, rows, batch_size, embed)
        own = self.results(windows, [starts[i] for i, _, _ in flat], z, rows, violence)
        own = [replace(r, persons=(pid,)) for r, (_, pid, _) in zip(own, flat)]
        by_key = {(i, pid): r for r, (i, pid, _) in zip(own, flat)}
        if self.pair_model is not None:
            pairs = self.pair_model.results(range(len(scenes)), scenes, by_key, self.threshold)
        else:
            pairs = pair_results(keys, pair_violence, by_key, self.threshold)
        out: list[list[WindowResult]] = [[] for _ in scenes]
        for r, (i, _, _) in zip(own, flat):
            out[i].append(r)
        for i, extra in pairs.items():
            out[i].extend(extra)
        return out

    # ---- description and storage ------------------------------------------------------
    def describe(self) -> str:
        """A few lines: classes, where the prototypes came from, windows, threshold and policy."""
        info, cal = self.info, self.calibration
        lines = [f"detector: {len(self.classes)} classes, alerting on {len(self.violent_classes)}: "
                 f"{', '.join(self.violent_classes)}"]
        if info.get("prototypes_from") == "prompts":
            lines.append(f"prototypes: class-name prompts '{info.get('prompt_template', '')}' (zero-shot)")
        elif info.get("prototypes_from") == "support":
            shots = info.get("shots", {})
            lo, hi = (min(shots.values()), max(shots.values())) if shots else (0, 0)
            k = f"{lo}" if lo == hi else f"{lo}-{hi}"
            adapted = info.get("adapt")
            how = f", encoder adapted ({adapted['steps']} steps, lr {adapted['lr']:g})" if adapted else ""
            lines.append(f"prototypes: {k}-shot support ({info.get('support_clips', 0)} clips){how}")
        lines.append(f"windows: {self.window} frames ({seconds(self.window):.2f} s) every {self.stride} frames "
                     f"({seconds(self.stride):.2f} s) at 20 Hz")
        if self.window > self.bundle.inputs.max_frames:
            lines.append(f"  note: the model sees the centred {self.bundle.inputs.max_frames} frames of each window")
        if getattr(self.head, "kind", "") == "model":
            pair = ("; no pair network" if self.head.pair is None
                    else f"; pair network on {len(self.head.pair.features)} pair descriptors")
            lines.append(f"violence score: learned model (person network on {len(self.head.person.features)} "
                         f"descriptors{pair}; calibrated out of fold)")
        elif self.head is not None:
            lines.append(f"violence score: kinematic head ({len(self.head.coef)} features; trained on "
                         f"{cal.get('n_violent_clips', '?')} violent + {cal.get('n_calm_clips', '?')} calm clips and "
                         f"{cal.get('procedural_clips', 0)} procedural clips)")
        line = f"threshold: {self.threshold:.4f} on the violence score (policy {self.policy}"
        if "site" in cal:
            site = cal["site"]
            line += (f"; set on {site['minutes']:.1f} min of calm recordings at the site ({site['recordings']} "
                     f"files), {site['alerts_per_min']:.3f} alerts/min there; before: {site['threshold_before']:.4f}")
        elif self.head is not None and cal:
            line += (f"; {cal.get('alerts_per_min', 0):.3f} false alerts/min on {cal.get('calm_minutes', 0):.1f} min "
                     "of calm motion, out of fold")
            if "hold_s" in cal:
                line += f"; alerts held open through lulls of {cal['hold_s']:g} s, chosen on validation"
        elif cal:
            fpr = "n/a" if cal.get("FPR") is None else f"{cal['FPR']:.3f}"
            vdr = "n/a" if cal.get("VDR") is None else f"{cal['VDR']:.3f}"
            line += (f"; on {cal.get('scores', 'calibration scores')}: VDR {vdr} over {cal['n_violent']} violent, "
                     f"FPR {fpr} over {cal['n_nonviolent']} non-violent")
        lines.append(line + ")")
        cfg = self.bundle.config
        lines.append(f"model: {cfg.preset} {cfg.motion_encoder} encoder, {cfg.embed_dim}-dim embeddings")
        return "\n".join(lines)

    def settings(self) -> dict[str, Any]:
        """The JSON ``"detector"`` section of the saved configuration."""
        return {"classes": list(self.classes), "violent": [bool(v) for v in self.violent],
                "threshold": self.threshold, "policy": self.policy, "window": self.window, "stride": self.stride,
                "calibration": self.calibration, "info": self.info,
                **({"head": self.head.to_json()} if self.head is not None else {})}

    def save(self, folder: str | Path) -> None:
        """Write the detector as one checkpoint folder (atomically, file by file)."""
        self.bundle.save(folder, {PROTOTYPES: torch.from_numpy(self.prototypes)}, {"detector": self.settings()})

    @classmethod
    def load(cls, folder: str | Path, device: str | torch.device = "cpu") -> "Detector":
        """Load a saved detector, verifying the weights' SHA-256 and every setting.

        Raises:
            CheckpointError (a MotionFileError): not a detector folder, or a corrupt / inconsistent one.
        """
        folder = Path(folder)
        if not (folder / CONFIG).is_file():
            raise CheckpointError(folder, "not a detector folder (no config.json); build one with "
                                          "`motionvigil build-detector`")
        section = read_config(folder).get("detector")
        if not isinstance(section, dict):
            raise CheckpointError(folder / CONFIG, "a model checkpoint, not a detector (no 'detector' settings); "
                                                   "build one with `motionvigil build-detector`")
        tensors, _ = load_checkpoint(folder)
        bundle = MotionTextBundle.load(folder, device)
        if PROTOTYPES not in tensors:
            raise CheckpointError(folder / "weights.safetensors", f"detector tensor {PROTOTYPES!r} is missing")
        protos = tensors[PROTOTYPES].numpy()
        try:
            det = cls(bundle, protos, [str(c) for c in section["classes"]],
                      np.array([bool(v) for v in section["violent"]]), float(section["threshold"]),
                      str(section["policy"]), int(section["window"]), int(section["stride"]),
                      section.get("calibration"), section.get("info"),
                      head_from_json(section["head"]) if "head" in section else None)
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(folder / CONFIG, f"invalid detector settings ({exc})") from None
        if not np.isfinite(det.prototypes).all():
            raise CheckpointError(folder / "weights.safetensors", "detector prototypes contain NaN or inf")
        return det


def head_from_json(d: dict[str, Any]) -> Any:
    """The violence scorer stored in a detector's settings: the learned model
    (``"kind": "model"``) or the kinematic logistic head (older detectors)."""
    if d.get("kind") == "model":
        from motionvigil.detect.model import ViolenceModel

        return ViolenceModel.from_json(d)
    return ViolenceHead.from_json(d)


def _policy_name(target_fpr: float | None) -> str:
    return "f1" if target_fpr is None else f"target_fpr={target_fpr:g}"


def adapt_encoder(bundle: MotionTextBundle, clips: Sequence[Clip], rows: np.ndarray, targets: np.ndarray,
                  violent: np.ndarray, settings: AdaptSettings, seed: int) -> dict[str, torch.Tensor]:
    """Motion-encoder weights after the inner loop on ``clips[rows]`` (``targets [S, C]``)."""
    cache = InputCache(bundle, clips)
    return adapt(bundle, encoder_params(bundle), cache, rows, targets, violent, settings,
                 np.random.default_rng(seed))
