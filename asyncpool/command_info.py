"""Former home of the command tables; they live in :mod:`asyncpool.command` now.

Kept so that ``asyncpool.command_info.SAFE_TO_RETRY`` and friends still import.
"""

from .command import (
    BLOCKING,
    BLOCKING_TIMEOUT_INDEX,
    SAFE_TO_RETRY,
    SAFE_TO_RETRY_NAMES,
    STATEFUL,
    blocking_timeout,
    command_name,
    is_safe_to_retry,
)

__all__ = [
    "BLOCKING",
    "BLOCKING_TIMEOUT_INDEX",
    "SAFE_TO_RETRY",
    "SAFE_TO_RETRY_NAMES",
    "STATEFUL",
    "blocking_timeout",
    "command_name",
    "is_safe_to_retry",
]
