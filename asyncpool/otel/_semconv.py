"""OpenTelemetry semantic-convention names used by :mod:`asyncpool.otel`.

Checked against the database client metrics and Redis conventions of the
OpenTelemetry semantic conventions (``db.client.operation.duration`` is
stable; the ``db.client.connection.*`` pool metrics are in development).
"""

from __future__ import annotations

from typing import Final

# -- metrics: (name, unit, description) ------------------------------------------
OPERATION_DURATION: Final = (
    "db.client.operation.duration",
    "s",
    "Duration of database client operations.",
)
CONNECTION_COUNT: Final = (
    "db.client.connection.count",
    "{connection}",
    "The number of connections that are currently in state described by the state attribute.",
)
CONNECTION_IDLE_MAX: Final = (
    "db.client.connection.idle.max",
    "{connection}",
    "The maximum number of idle open connections allowed.",
)
CONNECTION_IDLE_MIN: Final = (
    "db.client.connection.idle.min",
    "{connection}",
    "The minimum number of idle open connections allowed.",
)
CONNECTION_MAX: Final = (
    "db.client.connection.max",
    "{connection}",
    "The maximum number of open connections allowed.",
)
CONNECTION_PENDING_REQUESTS: Final = (
    "db.client.connection.pending_requests",
    "{request}",
    "The number of current pending requests for an open connection.",
)
CONNECTION_TIMEOUTS: Final = (
    "db.client.connection.timeouts",
    "{timeout}",
    "The number of connection timeouts that have occurred trying to obtain a connection"
    " from the pool.",
)
CONNECTION_CREATE_TIME: Final = (
    "db.client.connection.create_time",
    "s",
    "The time it took to create a new connection.",
)
CONNECTION_WAIT_TIME: Final = (
    "db.client.connection.wait_time",
    "s",
    "The time it took to obtain an open connection from the pool.",
)
CONNECTION_USE_TIME: Final = (
    "db.client.connection.use_time",
    "s",
    "The time between borrowing a connection and returning it to the pool.",
)

#: Bucket boundaries the conventions give for ``db.client.operation.duration``;
#: also used for the pool's time histograms, which have none of their own.
DURATION_BUCKETS: Final = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0)

# -- attributes --------------------------------------------------------------------
POOL_NAME: Final = "db.client.connection.pool.name"
STATE: Final = "db.client.connection.state"
STATE_IDLE: Final = "idle"
STATE_USED: Final = "used"
DB_SYSTEM_NAME: Final = "db.system.name"
DB_SYSTEM_REDIS: Final = "redis"
DB_OPERATION_NAME: Final = "db.operation.name"
DB_NAMESPACE: Final = "db.namespace"
DB_RESPONSE_STATUS_CODE: Final = "db.response.status_code"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
ERROR_TYPE: Final = "error.type"
#: The conventions' fallback value (used for unexpected operation names too).
OTHER: Final = "_OTHER"
