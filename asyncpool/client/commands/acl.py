"""ACL commands: users, their rules, the ACL log."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...errors import ConfigError
from .. import replies
from ..base import EncodableT
from ._base import CommandMixin, Reply, StrT

__all__ = ["AclCommands"]


def _words(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


#: The order Redis lists a user's flags in; RESP3 sends them as a set, which has none.
_FLAG_ORDER = ("on", "off", "allkeys", "allchannels", "allcommands", "nopass",
               "skip-sanitize-payload", "sanitize-payload")  # fmt: skip


def _flag_rank(flag: str) -> tuple[int, str]:
    return (_FLAG_ORDER.index(flag) if flag in _FLAG_ORDER else len(_FLAG_ORDER), flag)


def _rules(value: Any) -> list[str]:
    if isinstance(value, (set, frozenset)):
        return sorted((replies.to_str(v) for v in value), key=_flag_rank)
    if isinstance(value, (list, tuple)):
        return [replies.to_str(v) for v in value]
    text = replies.to_str(value)
    return text.split(" ") if text else []


def _getuser(reply: Any) -> dict[str, Any] | None:
    """ACL GETUSER in redis-py's shape: ``str`` keys; ``flags``, ``passwords``,
    ``keys``, ``channels`` lists of ``str``; the command rules split into
    ``commands`` and ``categories`` (``@`` rules); ``enabled``; ``selectors``
    as dicts of ``str``."""
    if reply is None:
        return None
    user = replies.to_str_dict(reply)
    for key in ("flags", "passwords", "keys", "channels"):
        if key in user:
            user[key] = _rules(user[key])
    rules = _rules(user.get("commands", ""))
    user["commands"] = [rule for rule in rules if "@" not in rule]
    user["categories"] = [rule for rule in rules if "@" in rule]
    user["enabled"] = "on" in user.get("flags", ())
    if "selectors" in user:
        user["selectors"] = [
            {k: replies.to_str(v) for k, v in replies.to_str_dict(sel).items()}
            for sel in user["selectors"]
        ]
    return user


def _acl_log(reply: Any) -> list[dict[str, Any]]:
    """ACL LOG entries as redis-py gives them: ``str`` keys and text values,
    ``age-seconds`` a ``float``, ``client-info`` parsed (counters as ``int``)."""
    entries = []
    for item in reply:
        entry = {
            k: replies.to_str(v) if isinstance(v, (bytes, str)) else v
            for k, v in replies.to_str_dict(item).items()
        }
        if "age-seconds" in entry:
            entry["age-seconds"] = float(entry["age-seconds"])
        if "client-info" in entry:
            entry["client-info"] = replies.parse_client_info(entry["client-info"])
        entries.append(entry)
    return entries


class AclCommands(CommandMixin[StrT]):
    """Access control lists (Redis 6+)."""

    __slots__ = ()

    def acl_cat(self, category: str | None = None) -> Reply[list[str]]:
        """ACL CAT: the command categories, or the commands of ``category`` (``str``)."""
        args = ("ACL", "CAT") if category is None else ("ACL", "CAT", category)
        return self._cmd(args, replies.to_str_list)

    def acl_deluser(self, *username: str) -> Reply[int]:
        """ACL DELUSER; how many users were deleted."""
        return self._cmd(("ACL", "DELUSER", *username))

    def acl_dryrun(self, username: str, *args: EncodableT) -> Reply[StrT]:
        """ACL DRYRUN (Redis 7): ``OK`` when ``username`` may run the command ``args``,
        else the reason."""
        return self._cmd(("ACL", "DRYRUN", username, *args))

    def acl_genpass(self, bits: int | None = None) -> Reply[str]:
        """ACL GENPASS: a random password of ``bits`` bits (default 256) as hex."""
        if bits is not None and not 0 < bits <= 4096:
            raise ConfigError("acl_genpass: bits must be between 1 and 4096")
        args = ("ACL", "GENPASS") if bits is None else ("ACL", "GENPASS", bits)
        return self._cmd(args, replies.to_str)

    def acl_getuser(self, username: str) -> Reply[dict[str, Any] | None]:
        """ACL GETUSER: the user's rules (``None`` when there is no such user)."""
        return self._cmd(("ACL", "GETUSER", username), _getuser)

    def acl_help(self) -> Reply[list[str]]:
        """ACL HELP (``str`` lines)."""
        return self._cmd(("ACL", "HELP"), replies.to_str_list)

    def acl_list(self) -> Reply[list[str]]:
        """ACL LIST: every user's rules as ACL SETUSER text (``str``)."""
        return self._cmd(("ACL", "LIST"), replies.to_str_list)

    def acl_load(self) -> Reply[bool]:
        """ACL LOAD the users from the ACL file."""
        return self._cmd(("ACL", "LOAD"), replies.ok)

    def acl_save(self) -> Reply[bool]:
        """ACL SAVE the users to the ACL file."""
        return self._cmd(("ACL", "SAVE"), replies.ok)

    def acl_log(self, count: int | None = None) -> Reply[list[dict[str, Any]]]:
        """ACL LOG: recent denials, newest first, as dicts with ``str`` keys."""
        return self._cmd(("ACL", "LOG") if count is None else ("ACL", "LOG", count), _acl_log)

    def acl_log_reset(self) -> Reply[bool]:
        """ACL LOG RESET."""
        return self._cmd(("ACL", "LOG", "RESET"), replies.ok)

    def acl_users(self) -> Reply[list[str]]:
        """ACL USERS: the user names (``str``)."""
        return self._cmd(("ACL", "USERS"), replies.to_str_list)

    def acl_whoami(self) -> Reply[str]:
        """ACL WHOAMI: the user of the connection that ran it (``str``)."""
        return self._cmd(("ACL", "WHOAMI"), replies.to_str)

    def acl_setuser(
        self,
        username: str,
        enabled: bool = False,
        nopass: bool = False,
        passwords: str | Iterable[str] | None = None,
        hashed_passwords: str | Iterable[str] | None = None,
        categories: Iterable[str] | None = None,
        commands: Iterable[str] | None = None,
        keys: Iterable[EncodableT] | None = None,
        channels: Iterable[EncodableT] | None = None,
        selectors: Iterable[tuple[str, EncodableT]] | None = None,
        reset: bool = False,
        reset_keys: bool = False,
        reset_channels: bool = False,
        reset_passwords: bool = False,
    ) -> Reply[bool]:
        """ACL SETUSER: create or change a user.

        ``passwords`` / ``hashed_passwords`` are rules such as ``"+secret"`` or
        ``"-old"`` (a bare password means add); ``categories`` like
        ``"+@read"``; ``commands`` like ``"+get"``; ``keys`` are key patterns
        (``~`` is added); ``channels`` channel patterns (``&`` is added);
        ``selectors`` ``(command rule, key pattern)`` pairs (Redis 7).  The
        ``reset*`` flags come first.  The user is ``off`` unless ``enabled``.
        """
        args: list[Any] = ["ACL", "SETUSER", username]
        if reset:
            args.append("reset")
        if reset_keys:
            args.append("resetkeys")
        if reset_channels:
            args.append("resetchannels")
        if reset_passwords:
            args.append("resetpass")
        args.append("on" if enabled else "off")
        if nopass:
            args.append("nopass")
        for password in _words(passwords):
            if password.startswith("-"):
                args.append("<" + password[1:])
            else:
                args.append(">" + password.removeprefix("+"))
        for hashed in _words(hashed_passwords):
            if hashed.startswith("-"):
                args.append("!" + hashed[1:])
            else:
                args.append("#" + hashed.removeprefix("+"))
        args.extend(_words(categories))
        args.extend(_words(commands))
        for pattern in keys or ():
            text = replies.to_str(pattern)
            args.append(text if text.startswith(("~", "%")) else f"~{text}")
        for pattern in channels or ():
            text = replies.to_str(pattern)
            args.append(text if text.startswith("&") else f"&{text}")
        for command_rule, key_pattern in selectors or ():
            key_text = replies.to_str(key_pattern)
            if not key_text.startswith(("~", "%")):
                key_text = f"~{key_text}"
            args.append(f"({command_rule} {key_text})")
        return self._cmd(tuple(args), replies.ok)
