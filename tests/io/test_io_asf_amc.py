"""ASF/AMC reader: real HDM05 files, a hand-computed tiny skeleton, bad input, fuzzing."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from motionvigil.errors import MotionFileError
from motionvigil.io import load_motion
from motionvigil.io.asf_amc import CMU_BONES, AsfSkeleton, find_asf, read_amc, read_asf

M_PER_UNIT = 0.0254 / 0.45  # HDM05 and the tiny skeleton: ":units length 0.45", inches = value / 0.45

KICK_TRAIN = "hdm05/train/6"
KICK_TEST = "hdm05/test/6"
SQUAT_TRAIN = "hdm05/train/10"  # HDM_bd_squat1Reps_*


# --------------------------------------------------------------------------- helpers


def bone_lengths_per_frame(joints: np.ndarray, parents: tuple[int, ...]) -> np.ndarray:
    """``[T, J-1]`` distance between each non-root joint and its parent joint."""
    par = np.asarray(parents)
    child = np.arange(len(par))[par >= 0]
    return np.linalg.norm(joints[:, child].astype(np.float64) - joints[:, par[child]], axis=-1)


def rot_x(deg: float) -> np.ndarray:
    a = np.deg2rad(deg)
    return np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])


def rot_y(deg: float) -> np.ndarray:
    a = np.deg2rad(deg)
    return np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])


def rot_z(deg: float) -> np.ndarray:
    a = np.deg2rad(deg)
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])


# A 2-bone skeleton: "upper" points up (9 units = 0.508 m) with 3 rotation dofs; "lower"
# points along +X (4.5 units = 0.254 m), has axis (0, 0, 90) and one dof rx: its local
# rotation C @ Rx(t) @ C^-1 with C = Rz(90) is a rotation about Y by t.
TINY_ASF = """\
# tiny test skeleton
:version 1.10
:name tiny
:units
  mass 1.0
  length 0.45
  angle deg
:documentation
  two bones, written by hand
:root
  order TX TY TZ RX RY RZ
  axis XYZ
  position 0 0 0
  orientation 0 0 0
:bonedata
  begin
    id 1
    name upper
    direction 0 1 0
    length 9
    axis 0 0 0 XYZ
    dof rx ry rz
    limits (-180.0 180.0)
           (-180.0 180.0)
           (-180.0 180.0)
  end
  begin
    id 2
    name lower
    direction 2 0 0
    length 4.5
    axis 0 0 90 XYZ
    dof rx
    limits (-180.0 180.0)
  end
:hierarchy
  begin
    root upper
    upper lower
  end
"""

# (root tx ty tz rx ry rz, upper rx ry rz, lower rx) per frame.
TINY_FRAMES = [
    ((0, 0, 0, 0, 0, 0), (0, 0, 0), (0,)),
    ((4.5, 9, 0, 0, 90, 0), (0, 0, 0), (90,)),
    ((1, 2, 3, 10, 20, 30), (-15, 25, 40), (35,)),
    ((-2, 0.5, 7, -120, 45, 170), (80, -10, 5), (-60,)),
]


def amc_text(frames=TINY_FRAMES, start: int = 1, header: str = ":FULLY-SPECIFIED\n:DEGREES\n") -> str:
    """AMC text for the tiny skeleton."""
    out = ["#!OML:ASF tiny.asf\n", header]
    for k, (root, upper, lower) in enumerate(frames):
        out.append(f"{start + k}\n")
        out.append("root " + " ".join(str(v) for v in root) + "\n")
        out.append("upper " + " ".join(str(v) for v in upper) + "\n")
        out.append("lower " + " ".join(str(v) for v in lower) + "\n")
    return "".join(out)


def tiny_expected(root, upper, lower) -> np.ndarray:
    """Joint positions (root, upper end, lower end) for one frame, computed by hand."""
    tx, ty, tz, rx, ry, rz = root
    p0 = np.array([tx, ty, tz], dtype=float) * M_PER_UNIT
    g0 = rot_z(rz) @ rot_y(ry) @ rot_x(rx)  # root axis XYZ: X first, then Y, then Z
    g1 = g0 @ rot_z(upper[2]) @ rot_y(upper[1]) @ rot_x(upper[0])  # C = identity
    p1 = p0 + g1 @ np.array([0.0, 9 * M_PER_UNIT, 0.0])
    g2 = g1 @ rot_y(lower[0])  # Rz(90) Rx(t) Rz(-90) = Ry(t)
    p2 = p1 + g2 @ np.array([4.5 * M_PER_UNIT, 0.0, 0.0])
    return np.stack([p0, p1, p2])


@pytest.fixture()
def tiny(tmp_path: Path):
    """Write the tiny ASF and a valid AMC; return ``(asf_path, amc_path, write)``."""
    asf = tmp_path / "tiny.asf"
    asf.write_text(TINY_ASF)
    amc = tmp_path / "tiny_01.amc"
    amc.write_text(amc_text())

    def write(name: str, text: str | bytes) -> Path:
        p = tmp_path / name
        p.write_bytes(text if isinstance(text, bytes) else text.encode("latin-1"))
        return p

    return asf, amc, write


def assert_error_names(exc_info, path: Path, *words: str) -> None:
    """The MotionFileError message names the file and contains each of ``words``."""
    msg = str(exc_info.value)
    assert path.name in msg, msg
    for w in words:
        assert w.lower() in msg.lower(), msg


# --------------------------------------------------------------------------- tiny skeleton


def test_tiny_asf_parsed_in_metres(tiny):
    asf, _, _ = tiny
    sk = read_asf(asf)
    assert isinstance(sk, AsfSkeleton)
    assert sk.bone_names == ("upper", "lower")
    assert sk.parents == (-1, 0)
    assert sk.joint_parents == (-1, 0, 1)
    np.testing.assert_allclose(sk.lengths, [9 / 0.45 * 0.0254, 4.5 / 0.45 * 0.0254])
    np.testing.assert_allclose(sk.lengths, [0.508, 0.254])
    np.testing.assert_allclose(sk.directions[1], [1.0, 0.0, 0.0])  # normalised from (2, 0, 0)
    assert sk.dofs == (("rx", "ry", "rz"), ("rx",))
    assert sk.axis_orders == ("XYZ", "XYZ")
    np.testing.assert_allclose(sk.axis_angles[1], [0, 0, 90])
    assert sk.root_order == ("TX", "TY", "TZ", "RX", "RY", "RZ")
    assert sk.units_length == 0.45 and sk.units_angle == "deg"
    assert sk.layout().name == "asf"


def test_tiny_fk_matches_hand_computation(tiny):
    asf, amc, _ = tiny
    m = read_amc(amc, asf=asf, fps=60.0)
    assert m.joints.shape == (4, 3, 3)
    assert m.fps == 60.0
    assert m.layout.joint_names == ("root", "upper", "lower")
    assert m.layout.parents == (-1, 0, 1)
    for t, frame in enumerate(TINY_FRAMES):
        np.testing.assert_allclose(m.joints[t], tiny_expected(*frame), atol=1e-6, err_msg=f"frame {t}")


def test_tiny_fk_literal_values(tiny):
    """Two frames whose answers are plain numbers, independent of the helper above."""
    asf, amc, _ = tiny
    j = read_amc(amc, asf=asf).joints
    # frame 0: rest pose; upper end 0.508 m above the root, lower end 0.254 m along +X from it
    np.testing.assert_allclose(j[0], [[0, 0, 0], [0, 0.508, 0], [0.254, 0.508, 0]], atol=1e-6)
    # frame 1: root at (0.254, 0.508, 0) turned 90 deg about Y; lower turns another 90 about Y,
    # so its +X direction ends up along -X.
    np.testing.assert_allclose(
        j[1], [[0.254, 0.508, 0], [0.254, 1.016, 0], [0.0, 1.016, 0]], atol=1e-6
    )


def test_radians_header_and_asf_autodetect(tiny):
    asf, _, write = tiny
    frames = [
        (r[:3] + tuple(np.deg2rad(r[3:])), tuple(np.deg2rad(u)), tuple(np.deg2rad(lo)))
        for r, u, lo in TINY_FRAMES
    ]
    amc = write("tiny_02.amc", amc_text(frames, header=":FULLY-SPECIFIED\n:RADIANS\n"))
    assert find_asf(amc) == asf  # "<subject>_<trial>.amc" -> "<subject>.asf"
    m = read_amc(amc)
    for t, frame in enumerate(TINY_FRAMES):
        np.testing.assert_allclose(m.joints[t], tiny_expected(*frame), atol=1e-6)


def test_frames_may_start_at_any_number_and_bone_order_is_free(tiny):
    asf, _, write = tiny
    text = amc_text(start=100)
    # move "lower" before "root" in the first frame
    first = "100\nroot 0 0 0 0 0 0\nupper 0 0 0\nlower 0\n"
    assert first in text
    text = text.replace(first, "100\nlower 0\nroot 0 0 0 0 0 0\nupper 0 0 0\n")
    m = read_amc(write("tiny_03.amc", text), asf=asf)
    assert m.num_frames == 4 and m.meta["first_frame"] == 100
    np.testing.assert_allclose(m.joints[0, 2], [0.254, 0.508, 0], atol=1e-6)


# --------------------------------------------------------------------------- bad input


def test_truncated_last_frame_is_dropped_and_reported(tiny):
    asf, _, write = tiny
    text = amc_text()
    cut = text[: text.rindex("upper") + len("upper 80 -1")]  # cut inside the last frame's 2nd line
    m = read_amc(write("tiny_cut.amc", cut), asf=asf)
    assert m.num_frames == 3
    assert m.meta["dropped_incomplete_last_frame"] == 4
    full = read_amc(write("tiny_full.amc", text), asf=asf)
    assert full.meta["dropped_incomplete_last_frame"] is None
    np.testing.assert_array_equal(m.joints, full.joints[:3])


def test_truncated_to_one_frame_fails(tiny):
    asf, _, write = tiny
    text = amc_text()
    amc = write("tiny_short.amc", text[: text.index("\n3\n") - 4])  # frame 2 cut in its last line
    with pytest.raises(MotionFileError) as ei:
        read_amc(amc, asf=asf)
    assert_error_names(ei, amc, "incomplete last frame", "at least 2")


def test_missing_bone_in_middle_frame_fails(tiny):
    asf, _, write = tiny
    text = amc_text().replace("2\nroot 4.5 9 0 0 90 0\nupper 0 0 0\n", "2\nroot 4.5 9 0 0 90 0\n")
    amc = write("tiny_gap.amc", text)
    with pytest.raises(MotionFileError) as ei:
        read_amc(amc, asf=asf)
    assert_error_names(ei, amc, "frame 2", "upper")


@pytest.mark.parametrize(
    ("name", "old", "new", "words"),
    [
        ("unknown", "lower 35\n", "lower 35\nelbow 3\n", ("unknown bone", "elbow", "tiny.asf")),
        ("count", "upper -15 25 40\n", "upper -15 25\n", ("upper", "2 value", "declares 3")),
        ("toomany", "lower 35\n", "lower 35 1\n", ("lower", "2 value", "declares 1")),
        ("nan", "upper -15 25 40\n", "upper -15 nan 40\n", ("non-finite", "upper")),
        ("inf", "root 1 2 3", "root 1 inf 3", ("non-finite", "root")),
        ("text", "upper -15 25 40\n", "upper -15 2x5 40\n", ("non-numeric", "2x5")),
        ("dup", "lower 35\n", "lower 35\nlower 35\n", ("appears twice",)),
        ("number", "\n3\n", "\n7\n", ("frame number 7",)),
        ("badnumber", "\n3\n", "\n3.5\n", ("frame number",)),
        ("late_header", "\n3\n", "\n:DEGREES\n3\n", ("header keyword",)),
    ],
)
def test_bad_amc_values_fail(tiny, name, old, new, words):
    asf, _, write = tiny
    text = amc_text()
    assert old in text
    amc = write(f"tiny_{name}.amc", text.replace(old, new, 1))
    with pytest.raises(MotionFileError) as ei:
        read_amc(amc, asf=asf)
    assert_error_names(ei, amc, *words)


def test_bone_line_before_first_frame_fails(tiny):
    asf, _, write = tiny
    amc = write("tiny_pre.amc", ":DEGREES\nroot 0 0 0 0 0 0\n" + amc_text(header=""))
    with pytest.raises(MotionFileError) as ei:
        read_amc(amc, asf=asf)
    assert_error_names(ei, amc, "before the first frame")


def test_one_frame_amc_fails(tiny):
    asf, _, write = tiny
    amc = write("tiny_one.amc", amc_text(TINY_FRAMES[:1]))
    with pytest.raises(MotionFileError) as ei:
        read_amc(amc, asf=asf)
    assert_error_names(ei, amc, "1 complete frame")


@pytest.mark.parametrize("content", ["", "   \n\n", ":FULLY-SPECIFIED\n:DEGREES\n"])
def test_empty_amc_fails(tiny, content):
    asf, _, write = tiny
    amc = write("tiny_empty.amc", content)
    with pytest.raises(MotionFileError) as ei:
        read_amc(amc, asf=asf)
    assert_error_names(ei, amc)


def test_missing_asf_fails(tmp_path):
    amc = tmp_path / "walk_01.amc"
    amc.write_text(amc_text())
    with pytest.raises(MotionFileError) as ei:
        read_amc(amc)  # no .asf anywhere in the folder
    assert_error_names(ei, amc, "--asf")  # names the CLI flag
    with pytest.raises(MotionFileError) as ei:
        read_amc(amc, asf=tmp_path / "nowhere.asf")
    assert_error_names(ei, tmp_path / "nowhere.asf", "no such")
    hdm = tmp_path / "HDM_xx_walk_001_120.amc"
    hdm.write_text(amc_text())
    (tmp_path / "other.asf").write_text(TINY_ASF)  # another actor's skeleton must not be used
    with pytest.raises(MotionFileError) as ei:
        read_amc(hdm)
    assert_error_names(ei, hdm, "HDM_xx.asf", "--asf")


def test_ambiguous_asf_fails(tmp_path):
    (tmp_path / "a.asf").write_text(TINY_ASF)
    (tmp_path / "b.asf").write_text(TINY_ASF)
    amc = tmp_path / "motion.amc"
    amc.write_text(amc_text())
    with pytest.raises(MotionFileError) as ei:
        read_amc(amc)
    assert_error_names(ei, amc, "2 .asf files", "--asf")
    assert read_amc(amc, asf=tmp_path / "a.asf").num_frames == 4


@pytest.mark.parametrize(
    ("name", "old", "new", "words"),
    [
        ("nobonedata", ":bonedata", ":bonesdata", ("no :bonedata",)),
        ("nohierarchy", ":hierarchy", ":hierarchi", ("no :hierarchy",)),
        ("noroot", ":root", ":rooot", ("no :root",)),
        ("unknownparent", "upper lower\n", "uper lower\n", ("unknown bone", "uper")),
        ("unknownchild", "upper lower\n", "upper lower hand\n", ("unknown bone", "hand")),
        ("unattached", "upper lower\n", "\n", ("does not attach", "lower")),
        ("cycle", "root upper\n    upper lower\n", "root\n    upper lower\n    lower upper\n", ("cycle",)),
        ("twoparents", "upper lower\n", "upper lower\n    root lower\n", ("two parents",)),
        ("nolength", "    length 4.5\n", "", ("no 'length'",)),
        ("badlength", "length 4.5", "length four", ("non-numeric", "four")),
        ("nanlength", "length 4.5", "length nan", ("non-finite",)),
        ("direction", "direction 0 1 0", "direction 0 1", ("direction needs 3",)),
        ("zerodir", "direction 0 1 0", "direction 0 0 0", ("zero direction",)),
        ("dof", "dof rx\n", "dof rx rq\n", ("dof",)),
        ("axisorder", "axis 0 0 90 XYZ", "axis 0 0 90 XXZ", ("rotation order",)),
        ("dupname", "name lower", "name upper", ("used twice",)),
        ("rootname", "name lower", "name root", ("'root'",)),
        ("noend", "    dof rx\n    limits (-180.0 180.0)\n  end\n", "    dof rx\n", ("no 'end'",)),
        ("units", "length 0.45", "length 0", ("positive",)),
        ("overflow", "length 0.45", "length 1e-320", ("overflow",)),
        ("rootorder", "order TX TY TZ RX RY RZ", "order TX TY TZ RX RY RQ", ("root order",)),
    ],
)
def test_broken_asf_fails(tiny, name, old, new, words):
    _, amc, write = tiny
    assert old in TINY_ASF
    asf = write(f"broken_{name}.asf", TINY_ASF.replace(old, new, 1))
    with pytest.raises(MotionFileError) as ei:
        read_amc(amc, asf=asf)
    assert_error_names(ei, asf, *words)


def test_empty_and_missing_asf_files_fail(tmp_path):
    empty = tmp_path / "empty.asf"
    empty.write_text("")
    for p in (empty, tmp_path / "absent.asf"):
        with pytest.raises(MotionFileError) as ei:
            read_asf(p)
        assert_error_names(ei, p)


# --------------------------------------------------------------------------- fuzzing

_MUTATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(b"")),
        st.tuples(st.just("flip"), st.integers(0, 10**6), st.binary(min_size=1, max_size=1)),
        st.tuples(st.just("delete"), st.integers(0, 10**6), st.just(b"")),
        st.tuples(
            st.just("insert"),
            st.integers(0, 10**6),
            st.sampled_from([b"\n", b" ", b"nan", b"-", b"7", b"e99", b"#", b":", b"\r\n", b"upper 1 2 3\n"]),
        ),
    ),
    min_size=1,
    max_size=4,
)


def mutate(data: bytes, mutations) -> bytes:
    """Apply truncations, byte flips, deletions and insertions at positions modulo the length."""
    for kind, pos, payload in mutations:
        if not data:
            break
        i = pos % (len(data) + (kind in ("truncate", "insert")))
        if kind == "truncate":
            data = data[:i]
        elif kind == "flip":
            data = data[:i] + payload + data[i + 1 :]
        elif kind == "delete":
            data = data[:i] + data[i + 1 :]
        else:
            data = data[:i] + payload + data[i:]
    return data


def check_motion_or_error(amc: Path, asf: Path, joints: int) -> None:
    """``read_amc`` returns a valid Motion or raises MotionFileError naming a file (no warnings)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            m = read_amc(amc, asf=asf)
    except MotionFileError as exc:
        assert amc.name in str(exc) or asf.name in str(exc), str(exc)
        return
    assert m.joints.ndim == 3 and m.joints.shape[1:] == (joints, 3)
    assert m.num_frames >= 2
    assert m.joints.dtype == np.float32 and np.isfinite(m.joints).all()


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("fuzz")
    (d / "tiny.asf").write_text(TINY_ASF)
    return d


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=_MUTATIONS)
def test_fuzzed_amc_gives_motion_or_motion_file_error(fuzz_dir, mutations):
    amc = fuzz_dir / "fuzzed.amc"
    amc.write_bytes(mutate(amc_text().encode(), mutations))
    check_motion_or_error(amc, fuzz_dir / "tiny.asf", joints=3)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=_MUTATIONS)
def test_fuzzed_real_hdm05_excerpt(data_path, fuzz_dir, mutations):
    """The same property on the first 3 frames of a real file (CRLF, latin-1 header comment)."""
    folder = data_path(KICK_TRAIN)
    data = first_amc(folder).read_bytes()
    excerpt = data[: data.index(b"\n4\r\n") + 1] if b"\n4\r\n" in data else data[: data.index(b"\n4\n") + 1]
    amc = fuzz_dir / "HDM_bd_fuzzed_001_120.amc"
    amc.write_bytes(mutate(excerpt, mutations))
    check_motion_or_error(amc, folder / "HDM_bd.asf", joints=31)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=_MUTATIONS)
def test_fuzzed_asf_gives_skeleton_or_motion_file_error(fuzz_dir, mutations):
    asf = fuzz_dir / "fuzzed.asf"
    asf.write_bytes(mutate(TINY_ASF.encode(), mutations))
    amc = fuzz_dir / "plain.amc"
    amc.write_text(amc_text())
    try:
        sk = read_asf(asf)
    except MotionFileError as exc:
        assert asf.name in str(exc)
        return
    assert len(sk.bone_names) == len(sk.parents) == len(sk.lengths)
    assert np.isfinite(sk.lengths).all() and (sk.lengths >= 0).all()
    try:
        m = read_amc(amc, asf=asf)
    except MotionFileError as exc:
        assert amc.name in str(exc) or asf.name in str(exc)
        return
    assert np.isfinite(m.joints).all() and m.num_joints == sk.num_bones + 1


# --------------------------------------------------------------------------- real HDM05 data


def first_amc(folder: Path, actor: str = "bd") -> Path:
    files = sorted(folder.glob(f"HDM_{actor}_*_120.amc"))
    if not files:
        pytest.skip(f"no HDM_{actor} AMC files in {folder}")
    return files[0]


def test_hdm05_asf_lengths_in_metres(data_path):
    bd = read_asf(data_path(f"{KICK_TRAIN}/HDM_bd.asf"))
    assert bd.layout().name == "cmu_asf" and bd.is_cmu
    assert bd.num_bones == 30 and set(bd.bone_names) == set(CMU_BONES)
    assert bd.units_length == 0.45
    # HDM_bd.asf: "name lfemur ... length 7.34031" -> 7.34031 / 0.45 * 0.0254 = 0.41432 m
    assert bd.lengths[bd.bone_index("lfemur")] == pytest.approx(0.41432, abs=1e-3)
    # HDM_mm.asf: "length 7.14046" -> 0.40304 m (the README's "7.14 -> 0.403 m")
    mm = read_asf(data_path(f"{KICK_TEST}/HDM_mm.asf"))
    assert mm.lengths[mm.bone_index("lfemur")] == pytest.approx(0.403, abs=1e-3)
    # hierarchy: thorax -> lclavicle, lclavicle -> lhumerus; lhipjoint hangs off the root
    assert bd.bone_names[bd.parents[bd.bone_index("lhumerus")]] == "lclavicle"
    assert bd.bone_names[bd.parents[bd.bone_index("lclavicle")]] == "thorax"
    assert bd.parents[bd.bone_index("lhipjoint")] == -1
    assert bd.dofs[bd.bone_index("ltibia")] == ("rx",)


@pytest.mark.parametrize("folder", [KICK_TRAIN, KICK_TEST])
def test_hdm05_left_right_limbs_match(data_path, folder):
    for asf in sorted(data_path(folder).glob("HDM_*.asf")):
        sk = read_asf(asf)
        for bone in ("femur", "humerus", "tibia"):
            left, right = sk.lengths[sk.bone_index("l" + bone)], sk.lengths[sk.bone_index("r" + bone)]
            assert abs(left - right) < 0.02, f"{asf.name} {bone}: {left:.3f} vs {right:.3f} m"


def test_hdm05_kick_motion(data_path):
    amc = first_amc(data_path(KICK_TRAIN))
    m = read_amc(amc)
    assert m.num_joints == 31
    assert m.fps == 120.0
    assert m.layout.name == "cmu_asf"
    assert m.layout.joint_names[0] == "root"
    assert m.layout.joint_names[1:] == read_asf(m.meta["asf"]).bone_names
    assert Path(m.meta["asf"]).name == "HDM_bd.asf"
    assert m.meta["units_length"] == 0.45
    assert m.meta["dropped_incomplete_last_frame"] is None
    n_lines = sum(1 for ln in amc.read_bytes().splitlines() if ln.strip().isdigit())
    assert m.num_frames == n_lines
    names = m.layout.joint_names
    parents = m.layout.parents
    assert names[parents[names.index("ltibia")]] == "lfemur"
    assert names[parents[names.index("lhipjoint")]] == "root"


@pytest.mark.parametrize("folder", [KICK_TRAIN, KICK_TEST, SQUAT_TRAIN])
def test_hdm05_first_frame_standing_upright(data_path, folder):
    for actor in ("bd", "bk", "dg", "mm", "tr"):
        files = sorted(data_path(folder).glob(f"HDM_{actor}_*_120.amc"))[:1]
        for amc in files:
            m = read_amc(amc)
            n = m.layout.joint_names
            f0 = m.joints[0].astype(np.float64)
            y = {k: f0[n.index(k), 1] for k in ("head", "root", "lfoot", "rfoot", "ltoes", "rtoes")}
            assert max(y, key=y.get) == "head", f"{amc.name}: {y}"
            height = y["head"] - min(y["ltoes"], y["rtoes"])
            assert 1.4 <= height <= 2.1, f"{amc.name}: head {height:.3f} m above the lowest toe"
            assert -0.05 <= f0[:, 1].min() <= 0.15, f"{amc.name}: lowest joint at {f0[:, 1].min():.3f} m"
            assert y["root"] > y["lfoot"] and y["root"] > y["rfoot"]


@pytest.mark.parametrize("folder", [KICK_TRAIN, SQUAT_TRAIN])
def test_hdm05_fk_preserves_bone_lengths_every_frame(data_path, folder):
    """Distance joint-to-parent equals the ASF bone length in every frame of every file."""
    files = sorted(data_path(folder).glob("HDM_*_120.amc"))
    assert files
    for amc in files:
        m = read_amc(amc)
        sk = read_asf(m.meta["asf"])
        d = bone_lengths_per_frame(m.joints, m.layout.parents)
        err = np.abs(d - sk.lengths[None, :])
        assert err.max() < 1e-4, f"{amc.name}: bone length error {err.max():.2e} m"
        assert m.num_frames > 50


def test_hdm05_explicit_asf_and_load_motion(data_path):
    folder = data_path(KICK_TRAIN)
    amc = first_amc(folder)
    auto = read_amc(amc)
    explicit = read_amc(amc, asf=folder / "HDM_bd.asf", fps=120.0)
    via_load = load_motion(amc)
    np.testing.assert_array_equal(auto.joints, explicit.joints)
    np.testing.assert_array_equal(auto.joints, via_load.joints)
    assert via_load.source == str(amc) and via_load.layout == auto.layout
    other = read_amc(amc, asf=folder / "HDM_bk.asf")  # another actor's bones: same angles, other lengths
    assert not np.allclose(other.joints, auto.joints)


def test_hdm05_truncated_copy(data_path, tmp_path):
    folder = data_path(KICK_TRAIN)
    amc = first_amc(folder)
    data = amc.read_bytes()
    full = read_amc(amc)
    cut_at = data.index(b"lfemur", len(data) - 400)  # inside the last frame
    cut = tmp_path / amc.name
    cut.write_bytes(data[:cut_at])
    with pytest.raises(MotionFileError) as ei:
        read_amc(cut)  # the ASF is not beside the copy
    assert_error_names(ei, cut, "HDM_bd.asf")
    m = read_amc(cut, asf=folder / "HDM_bd.asf")
    assert m.num_frames == full.num_frames - 1
    assert m.meta["dropped_incomplete_last_frame"] == full.num_frames
    np.testing.assert_array_equal(m.joints, full.joints[:-1])
    # a real excerpt cut to 1.5 frames is unusable
    second = data.index(b"\n2\r\n") if b"\n2\r\n" in data else data.index(b"\n2\n")
    short = tmp_path / "short.amc"
    short.write_bytes(data[: data.index(b"lfoot", second)])
    with pytest.raises(MotionFileError) as ei:
        read_amc(short, asf=folder / "HDM_bd.asf")
    assert_error_names(ei, short, "at least 2")
