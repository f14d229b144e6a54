"""``motionvigil serve``: live skeleton streams and file uploads scored over HTTP/WebSocket.

- :mod:`.app`: the Starlette app (``/v1/streams/{id}``, ``/v1/detect``, ``/healthz``,
  ``/metrics``), auth, back-pressure, isolation, graceful drain.
- :mod:`.session`: one stream's wire protocol, validation, windows and alert events.
- :mod:`.batcher`: cross-stream micro-batching of windows into encoder calls.
- :mod:`.metrics`: Prometheus text metrics.
- :mod:`.server`: uvicorn, the listening socket, the loopback rule, SIGTERM.
- :mod:`.capacity`: the streams a process carries, measured; overload is refused up front.
- ``motionvigil worker`` (the ``worker`` extra): :mod:`.broker` (Redis keys, frame entries,
  admission), :mod:`.worker` (leases, consumer group, fenced atomic commits, takeover),
  :mod:`.checkpoint`, :mod:`.webhook`, :mod:`.relay` (``serve --publish-redis``) and
  :mod:`.redis_server` (a private redis-server for tests and benchmarks).

- :mod:`.feedback`, :mod:`.recorder`, :mod:`.ui`, :mod:`.alert_ids`: the operator console
  (``/ui``), stored alerts and verdicts (SQLite), stable alert ids.

Needs the ``serve`` extra (``pip install motionvigil[serve]``), except :mod:`.feedback`
and :mod:`.alert_ids` (standard library and numpy only: ``build-detector --calm
FEEDBACK.db`` and ``feedback export`` read a store without the server's packages).
"""

__all__ = ["ServeConfig", "create_app", "load_api_keys"]


def __getattr__(name: str):
    if name in __all__:  # imported on first use, so that the store needs no web packages
        from motionvigil.serve import app

        return getattr(app, name)
    raise AttributeError(f"module 'motionvigil.serve' has no attribute {name!r}")
