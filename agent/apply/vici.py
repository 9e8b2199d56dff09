"""charon over VICI: a thin seam that speaks ``str`` instead of ``bytes``.

The agent never starts charon; it connects to the socket the config names
and fails with a TransientError when nothing listens there.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlparse

import vici
from vici.exception import CommandException, SessionException

from agent.errors import AccessError, ApplyError, TransientError

LOG = logging.getLogger(__name__)

Message = dict[str, Any]


def decode(value: Any) -> Any:
    """VICI's bytes and nested OrderedDicts as plain str, dict and list."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, Mapping):
        return {decode(k): decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


class Charon:
    """One VICI session to charon."""

    def __init__(self, uri: str, timeout: float = 10.0) -> None:
        self.uri = uri
        parsed = urlparse(uri)
        if parsed.scheme != "unix":
            raise TransientError(f"charon: unsupported VICI URI {uri}")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(parsed.path)
        except (FileNotFoundError, ConnectionRefusedError) as err:
            sock.close()
            raise TransientError(
                f"charon: not running at {uri} ({err.strerror}); start "
                "strongSwan (systemctl start strongswan)"
            ) from err
        except PermissionError as err:
            sock.close()
            raise AccessError(f"charon: {uri}: {err.strerror}; run as root") from err
        self._sock = sock
        self._session = vici.Session(sock)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Charon:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, what: str, method: Any, *args: Any) -> Any:
        try:
            return method(*args)
        except CommandException as err:
            raise ApplyError(f"charon: {what}: {err}") from err
        except (SessionException, OSError) as err:
            raise TransientError(f"charon: {what}: connection lost: {err}") from err

    def _stream(self, what: str, method: Any, *args: Any) -> list[Any]:
        return list(self._call(what, lambda: list(method(*args))))

    # -- queries ---------------------------------------------------------

    def version(self) -> Message:
        reply: Message = decode(self._call("version", self._session.version))
        return reply

    def stats(self) -> Message:
        reply: Message = decode(self._call("stats", self._session.stats))
        return reply

    def conns(self) -> dict[str, Message]:
        """Loaded connections by name (``list-conns``)."""
        out: dict[str, Message] = {}
        for item in self._stream("list-conns", self._session.list_conns):
            out.update(decode(item))
        return out

    def sas(self, ike: str | None = None) -> list[tuple[str, Message]]:
        """IKE_SAs as (connection name, details), optionally for one conn."""
        query = {"ike": ike} if ike else None
        out = []
        for item in self._stream("list-sas", self._session.list_sas, query):
            for name, details in decode(item).items():
                out.append((name, details))
        return out

    def shared_ids(self) -> list[str]:
        reply = decode(self._call("get-shared", self._session.get_shared))
        return list(reply.get("keys", []))

    # -- changes ---------------------------------------------------------

    def load_conn(self, name: str, message: Message) -> None:
        self._call(f"load-conn {name}", self._session.load_conn, {name: message})

    def unload_conn(self, name: str) -> None:
        self._call(f"unload-conn {name}", self._session.unload_conn, {"name": name})

    def load_shared(self, message: Message) -> None:
        # The message holds the PSK: name only its id in errors and logs.
        self._call(f"load-shared {message['id']}", self._session.load_shared, message)

    def unload_shared(self, key_id: str) -> None:
        self._call(
            f"unload-shared {key_id}", self._session.unload_shared, {"id": key_id}
        )

    def reload_settings(self) -> None:
        self._call("reload-settings", self._session.reload_settings)

    def initiate(self, child: str, ike: str, timeout_ms: int = -1) -> Iterator[str]:
        """Start ``child`` of ``ike``; yields charon's log lines as it goes.

        A negative ``timeout_ms`` returns at once, without waiting for the
        result (0 would make charon wait until the attempt ends, which for a
        silent peer is never).
        """
        request = {"child": child, "ike": ike, "timeout": str(timeout_ms)}
        if timeout_ms < 0:
            request["init-limits"] = "no"
        try:
            for log in self._session.initiate(request):
                message = decode(log).get("msg", "")
                if message:
                    yield message
        except CommandException as err:
            raise ApplyError(f"charon: initiate {child}: {err}") from err
        except (SessionException, OSError) as err:
            raise TransientError(f"charon: initiate {child}: {err}") from err

    def terminate_child(self, child_id: int, timeout_ms: int = 3000) -> None:
        request = {"child-id": str(child_id), "timeout": str(timeout_ms)}
        self._stream(f"terminate child #{child_id}", self._session.terminate, request)

    def terminate_ike_id(self, ike_id: int, timeout_ms: int = 3000) -> None:
        """Terminate one IKE_SA by unique id; 0 forces it at once."""
        request = {"ike-id": str(ike_id), "timeout": str(timeout_ms), "force": "yes"}
        self._stream(f"terminate IKE_SA #{ike_id}", self._session.terminate, request)

    def terminate_ike(self, ike: str, timeout_ms: int = 3000) -> None:
        request = {"ike": ike, "timeout": str(timeout_ms), "force": "yes"}
        self._stream(f"terminate {ike}", self._session.terminate, request)
