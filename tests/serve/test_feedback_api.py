"""Alerts and feedback over HTTP (issue 30): stable alert ids, ``GET /v1/alerts``,
``POST /v1/alerts/{id}/feedback`` stored in SQLite (WAL) with the alert window's motion
and the detector version; a restart loses nothing; bad requests and a bad or full
database get a clear error and leave stored feedback intact."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the serve extra (starlette, uvicorn, httpx, websockets) is not installed")
pytest.importorskip("httpx", reason="starlette's TestClient needs httpx (dev extra)")
from starlette.testclient import TestClient  # noqa: E402

from motionvigil.cli import main  # noqa: E402
from motionvigil.serve import ServeConfig, create_app  # noqa: E402
from motionvigil.serve.alert_ids import alert_id  # noqa: E402
from motionvigil.serve.feedback import FeedbackError, FeedbackStore, decode_motion  # noqa: E402
from motionvigil.serve.recorder import detector_version  # noqa: E402

from console_helpers import CONSOLE_KEY, alerting_detector, frames_message, scripted_joints  # noqa: E402,F401

KEY = {"x-api-key": CONSOLE_KEY}
T0 = 1000.0  # the client's clock at its first frame


def _stream(client: TestClient, name: str, joints: np.ndarray, frames: int = 100) -> list[dict]:
    """A scripted stream: ``frames`` frames then end; every message the server sent."""
    with client.websocket_connect(f"/v1/streams/{name}", headers=KEY) as ws:
        ws.send_text(json.dumps({"type": "start", "layout": "smpl22", "fps": 20}))
        assert ws.receive_json()["type"] == "ready"
        ws.send_text(frames_message(joints[:frames], 0, T0))
        ws.send_text(json.dumps({"type": "end"}))
        out = []
        while not out or out[-1]["type"] not in ("closed", "bye"):
            out.append(ws.receive_json())
    return out


def _app(detector, db):
    return create_app(detector, ServeConfig(api_keys=(CONSOLE_KEY,), feedback_db=str(db)))


def test_alert_ids_are_stable_and_order_free():
    a = alert_id("cam-1", 12.35, (4, 2))
    assert a == alert_id("cam-1", 12.3500001, (2, 4)) and len(a) == 20
    assert len({a, alert_id("cam-2", 12.35, (2, 4)), alert_id("cam-1", 12.40, (2, 4)), alert_id("cam-1", 12.35, (2,)),
                alert_id("cam-1", 12.35)}) == 5


def test_alerts_are_stored_reviewed_and_survive_a_restart(alerting_detector, scripted_joints, tmp_path):
    db = tmp_path / "feedback.db"
    with TestClient(_app(alerting_detector, db)) as c:
        msgs = _stream(c, "cam-1", scripted_joints)
        alerts = [m for m in msgs if m["type"] == "alert"]
        assert [m["event"] for m in alerts] == ["start", "end"]
        ident = alert_id("cam-1", T0 + alerts[0]["start"])
        assert alerts[0]["id"] == alerts[1]["id"] == ident
        listed = c.get("/v1/alerts", headers=KEY).json()["alerts"]
        assert [a["id"] for a in listed] == [ident]
        assert listed[0]["open"] is False and listed[0]["verdict"] is None
        assert listed[0]["detector"] == detector_version(alerting_detector)
        one = c.get(f"/v1/alerts/{ident}", headers=KEY).json()
        body = one["motion"]["persons"]
        want_frames = round((alerts[1]["end"] - alerts[1]["start"]) * 20)
        assert len(body) == 1 and np.asarray(body[0]["joints"]).shape == (want_frames, 22, 3)
        assert len(one["timeline"]) == alerts[1]["windows"]
        r = c.post(f"/v1/alerts/{ident}/feedback", headers=KEY, json={"verdict": "dismiss", "note": "a wave"})
        assert r.status_code == 200 and r.json()["verdict"] == "dismiss"
        r = c.post(f"/v1/alerts/{ident}/feedback", headers=KEY, json={"verdict": "confirm", "note": "no, a punch"})
        assert r.json()["verdict"] == "confirm"
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with TestClient(_app(alerting_detector, db)) as c:  # a new server process on the same file
        one = c.get(f"/v1/alerts/{ident}", headers=KEY).json()
        assert (one["verdict"], one["note"]) == ("confirm", "no, a punch")
        assert [h["verdict"] for h in one["history"]] == ["dismiss", "confirm"]
        assert c.get("/v1/alerts?verdict=confirm", headers=KEY).json()["alerts"][0]["id"] == ident
        assert c.get("/v1/alerts?verdict=dismiss", headers=KEY).json()["alerts"] == []
        assert c.get("/v1/alerts?stream=cam-2", headers=KEY).json()["alerts"] == []
        assert c.get("/v1/alerts?since=1e12", headers=KEY).json()["alerts"] == []
    joints = next(FeedbackStore(db).reviewed_motions("confirm"))[1]
    start = round(alerts[1]["start"] * 20)
    np.testing.assert_allclose(joints[0, 0], scripted_joints[start], atol=1e-5)  # the window's own motion


def test_bad_requests_get_clear_errors(alerting_detector, scripted_joints, tmp_path):
    db = tmp_path / "feedback.db"
    with TestClient(_app(alerting_detector, db)) as c:
        ident = [m for m in _stream(c, "cam-1", scripted_joints) if m["type"] == "alert"][0]["id"]
        assert c.post(f"/v1/alerts/{ident}/feedback", headers=KEY, json={"verdict": "confirm"}).status_code == 200
        unknown = c.post("/v1/alerts/0123456789abcdef0123/feedback", headers=KEY, json={"verdict": "confirm"})
        assert unknown.status_code == 404 and "no alert" in unknown.json()["error"]
        assert c.get("/v1/alerts/not-an-id", headers=KEY).status_code == 404
        bad = c.post(f"/v1/alerts/{ident}/feedback", headers=KEY, json={"verdict": "maybe"})
        assert bad.status_code == 400 and "confirm, dismiss" in bad.json()["error"]
        assert c.post(f"/v1/alerts/{ident}/feedback", headers=KEY, content=b"{not json").status_code == 400
        assert c.post(f"/v1/alerts/{ident}/feedback", headers=KEY, json=["confirm"]).status_code == 400
        assert c.get("/v1/alerts?since=soon", headers=KEY).status_code == 400
        assert c.get("/v1/alerts?verdict=perhaps", headers=KEY).status_code == 400
        for path in ("/v1/alerts", f"/v1/alerts/{ident}", "/v1/streams", "/v1/events"):  # wrong key: nothing
            r = c.get(path, headers={"x-api-key": "wrong"})
            assert r.status_code == 401 and ident not in r.text
        assert c.post(f"/v1/alerts/{ident}/feedback", json={"verdict": "dismiss"}).status_code == 401
        assert c.get(f"/v1/alerts/{ident}", headers=KEY).json()["verdict"] == "confirm"  # nothing changed


def test_full_disk_is_an_error_and_keeps_stored_feedback(alerting_detector, scripted_joints, tmp_path):
    db = tmp_path / "feedback.db"
    app = _app(alerting_detector, db)
    with TestClient(app) as c:
        ident = [m for m in _stream(c, "cam-1", scripted_joints) if m["type"] == "alert"][0]["id"]
        assert c.post(f"/v1/alerts/{ident}/feedback", headers=KEY, json={"verdict": "confirm"}).status_code == 200
        store = app.state.serve.console.store
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        store.db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own SQLITE_FULL, as on a full disk
        r = c.post(f"/v1/alerts/{ident}/feedback", headers=KEY, json={"verdict": "dismiss", "note": "x" * 3000})
        assert r.status_code == 507, r.text
        assert "full" in r.json()["error"] and "nothing was written" in r.json()["error"]
        # the stream side goes on: a new stream's alerts are not stored, but still sent with their id
        more = [m for m in _stream(c, "cam-2", scripted_joints) if m["type"] == "alert"]
        assert more and all("id" in m for m in more)
        assert app.state.serve.console.store_errors >= 1
    with TestClient(_app(alerting_detector, db)) as c:
        one = c.get(f"/v1/alerts/{ident}", headers=KEY).json()
        assert one["verdict"] == "confirm" and [h["verdict"] for h in one["history"]] == ["confirm"]


def test_a_file_that_is_not_a_feedback_database_is_refused(alerting_detector, tmp_path, capsys):
    junk = tmp_path / "notes.db"
    junk.write_bytes(b"these are my notes, not a database\n" * 100)
    before = junk.read_bytes()
    with pytest.raises(FeedbackError, match="not a motionvigil feedback database"):
        _app(alerting_detector, junk)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE people (name TEXT)").connection.commit()
    with pytest.raises(FeedbackError, match="something else"):
        FeedbackStore(other)
    assert junk.read_bytes() == before
    assert main(["serve", "--feedback-db", str(junk), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(junk) in err and "Traceback" not in err
