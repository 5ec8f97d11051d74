"""A small protocol client for end-to-end tests (PROTOCOL.md), over a real WebSocket."""
import asyncio
import hashlib
import hmac
import itertools
import json
import os
import time

import websockets


class ProtocolError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Client:
    def __init__(self, ws):
        self.ws = ws
        self.ids = itertools.count(1)
        self.pending = {}
        self.pushes = asyncio.Queue()
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, url):
        ws = await websockets.connect(url, max_size=None)
        return cls(ws)

    async def _read(self):
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                if "channel" in msg:
                    await self.pushes.put(msg)
                    continue
                fut = self.pending.pop(msg.get("id"), None)
                if fut is not None and not fut.done():
                    fut.set_result(msg)
        except websockets.ConnectionClosed:
            pass
        for fut in self.pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError("closed"))

    async def raw(self, method, params=None, id_=None):
        id_ = next(self.ids) if id_ is None else id_
        fut = asyncio.get_running_loop().create_future()
        self.pending[id_] = fut
        req = {"id": id_, "method": method}
        if params is not None:
            req["params"] = params
        await self.ws.send(json.dumps(req))
        return await asyncio.wait_for(fut, 30)

    async def call(self, method, **params):
        reply = await self.raw(method, params)
        if "error" in reply:
            raise ProtocolError(reply["error"]["code"], reply["error"].get("message", ""))
        return reply["result"]

    async def error(self, method, **params):
        reply = await self.raw(method, params)
        assert "error" in reply, f"{method} should fail, got {reply}"
        return reply["error"]["code"]

    async def login(self, key, secret):
        ts = int(time.time() * 1000)
        nonce = os.urandom(12).hex()
        sig = hmac.new(secret.encode(), f"{key}\n{ts}\n{nonce}".encode(), hashlib.sha256).hexdigest()
        return await self.call("auth.login", key=key, ts=ts, nonce=nonce, sig=sig)

    async def next_push(self, channel=None, timeout=10):
        while True:
            p = await asyncio.wait_for(self.pushes.get(), timeout)
            if channel is None or p["channel"] == channel:
                return p

    async def close(self):
        await self.ws.close()
        self.reader.cancel()
