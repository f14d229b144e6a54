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

Needs the ``serve`` extra (``pip install motionvigil[serve]``).
"""

from motionvigil.serve.app import ServeConfig, create_app, load_api_keys

__all__ = ["ServeConfig", "create_app", "load_api_keys"]
