"""A deliberately tiny DDP client on websockets 10.4, used as an independent observer.

It never answers server pings by itself (tests decide), and WebSocket-level pings are
disabled so that only DDP traffic counts as activity.
"""
import asyncio
import itertools
import json

import websockets


class RawDDP:
    def __init__(self, ws):
        self.ws = ws
        self.frames = asyncio.Queue()
        self._ids = itertools.count(1)
        self._reader = asyncio.create_task(self._read())
        self.closed = asyncio.get_running_loop().create_future()

    @classmethod
    async def open(cls, ws_url, version="1"):
        ws = await websockets.connect(ws_url, ping_interval=None)
        client = cls(ws)
        await client.send({"msg": "connect", "version": version, "support": [version]})
        await client.expect(lambda f: f.get("msg") == "connected")
        return client

    async def _read(self):
        try:
            async for raw in self.ws:
                await self.frames.put(json.loads(raw))
        except websockets.ConnectionClosed:
            pass
        finally:
            if not self.closed.done():
                self.closed.set_result(self.ws.close_code)

    async def send(self, frame):
        await self.ws.send(json.dumps(frame))

    async def expect(self, pred, timeout=5.0):
        """Next frame matching pred (others are dropped)."""
        async def wait():
            while True:
                frame = await self.frames.get()
                if pred(frame):
                    return frame
        return await asyncio.wait_for(wait(), timeout)

    async def method(self, name, *params, timeout=5.0):
        mid = f"m{next(self._ids)}"
        await self.send({"msg": "method", "method": name, "id": mid, "params": list(params)})
        return await self.expect(lambda f: f.get("msg") == "result" and f.get("id") == mid, timeout)

    async def sub(self, name, *params, timeout=5.0):
        sid = f"s{next(self._ids)}"
        await self.send({"msg": "sub", "id": sid, "name": name, "params": list(params)})
        return await self.expect(
            lambda f: (f.get("msg") == "ready" and sid in f.get("subs", []))
            or (f.get("msg") == "nosub" and f.get("id") == sid),
            timeout,
        )

    async def close(self):
        await self.ws.close()
        self._reader.cancel()
