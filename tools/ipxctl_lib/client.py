"""One WebSocket connection to ipxd, per PROTOCOL.md: request/reply by id, pushes, HMAC login."""
import asyncio
import hashlib
import hmac
import itertools
import json
import os
import time

try:
    import websockets
except ImportError:  # pragma: no cover - reported by the CLI
    websockets = None


class ProtocolError(Exception):
    def __init__(self, method, code, message):
        super().__init__(f"{code}: {message}")
        self.method = method
        self.code = code
        self.message = message


class ConnectError(Exception):
    pass


def sign(secret, key, ts, nonce):
    return hmac.new(secret.encode(), f"{key}\n{ts}\n{nonce}".encode(), hashlib.sha256).hexdigest()


class Connection:
    def __init__(self, url, timeout=30.0):
        self.url = url
        self.timeout = timeout
        self.ws = None
        self.ids = itertools.count(1)
        self.pending = {}
        self.pushes = asyncio.Queue()
        self.reader = None
        self.closed_reason = None
        self.identity = None  # auth.login's result

    async def open(self):
        if websockets is None:
            raise ConnectError("the Python package 'websockets' is missing: apt-get install "
                               "python3-websockets (and run ipxctl with /usr/bin/python3)")
        try:
            self.ws = await asyncio.wait_for(
                websockets.connect(self.url, max_size=None, open_timeout=None, ping_interval=None),
                self.timeout)
        except asyncio.TimeoutError:
            raise ConnectError(f"no answer from {self.url} within {self.timeout:g}s")
        except (OSError, websockets.exceptions.InvalidURI,
                websockets.exceptions.InvalidHandshake) as e:
            raise ConnectError(f"cannot connect to {self.url}: {e}")
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        try:
            async for raw in self.ws:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(msg, dict) and "channel" in msg and "id" not in msg:
                    await self.pushes.put(msg)
                    continue
                fut = self.pending.pop(msg.get("id"), None)
                if fut is not None and not fut.done():
                    fut.set_result(msg)
        except websockets.ConnectionClosed as e:
            self.closed_reason = f"closed by the server (code {e.code}{', ' + e.reason if e.reason else ''})"
        except Exception as e:  # noqa: BLE001 - surfaced to the waiting callers
            self.closed_reason = f"connection lost: {e}"
        self.closed_reason = self.closed_reason or "closed by the server"
        for fut in self.pending.values():
            if not fut.done():
                fut.set_exception(ConnectError(self.closed_reason))
        self.pending.clear()
        await self.pushes.put(None)

    async def raw(self, method, params=None):
        if self.closed_reason:
            raise ConnectError(self.closed_reason)
        id_ = next(self.ids)
        fut = asyncio.get_running_loop().create_future()
        self.pending[id_] = fut
        req = {"id": id_, "method": method}
        if params is not None:
            req["params"] = params
        try:
            await self.ws.send(json.dumps(req))
        except websockets.ConnectionClosed:
            raise ConnectError(self.closed_reason or "the server closed the connection")
        try:
            return await asyncio.wait_for(fut, self.timeout)
        except asyncio.TimeoutError:
            raise ConnectError(f"no reply to {method} within {self.timeout:g}s")

    async def call(self, method, **params):
        params = {k: v for k, v in params.items() if v is not None}
        reply = await self.raw(method, params)
        if "error" in reply:
            err = reply["error"] or {}
            raise ProtocolError(method, err.get("code", "?"), err.get("message", ""))
        return reply.get("result")

    async def login(self, key, secret):
        ts = int(time.time() * 1000)
        nonce = os.urandom(12).hex()
        self.identity = await self.call("auth.login", key=key, ts=ts, nonce=nonce,
                                        sig=sign(secret, key, ts, nonce))
        return self.identity

    async def next_push(self, timeout=None):
        p = await (asyncio.wait_for(self.pushes.get(), timeout) if timeout else self.pushes.get())
        if p is None:
            raise ConnectError(self.closed_reason or "closed by the server")
        return p

    async def close(self):
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 2)
            except Exception:  # noqa: BLE001
                pass
        if self.reader is not None:
            self.reader.cancel()
