"""rocketchat-async 4.3.0 (import name `rocketchat_async`) against rocketchat-sim: the realtime oracle.

Notes from the client's source (it wins over the spec where they differ):
- `start(address, ...)` takes the full WebSocket URL (`ws://host:port/websocket`).
- `subscribe_to_channel_messages` does not wait for `ready`; a following method round
  trip (the server handles a connection's frames in order) is used as the barrier.
- Its dispatcher keys callbacks by collection name: the last subscription on a stream wins.
- `repeated` is `bool(replies) or bool(reactions)`: an edit alone is NOT flagged repeated.
"""
import asyncio
import hashlib
import json
import time

import pytest
from rocketchat_API.rocketchat import RocketChat as RestClient
from rocketchat_async import RocketChat
from rocketchat_async import core as rocketchat_async_core

from rawddp import RawDDP
from seed import (ALICE_ID, ALICE_PASSWORD, BOB_TOKEN, GENERAL, LOGGED_OUT_REASON, MYBOT_ID,
                  MYBOT_PASSWORD)

EVENT_TIMEOUT = 2.0  # §8.4: the callback must fire within 2 s


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


async def barrier(rc):
    """Round trip on the same connection so earlier `sub` frames are processed."""
    await rc.get_channels()


async def next_event(queue, pred, timeout=EVENT_TIMEOUT):
    async def wait():
        while True:
            event = await queue.get()
            if pred(event):
                return event
    return await asyncio.wait_for(wait(), timeout)


def collect_into(queue):
    def callback(channel_id, sender_id, msg_id, thread_id, msg, qualifier, unread, repeated):
        queue.put_nowait(dict(channel_id=channel_id, sender_id=sender_id, msg_id=msg_id,
                              thread_id=thread_id, msg=msg, qualifier=qualifier,
                              unread=unread, repeated=repeated))
    return callback


async def stop(rc):
    task = getattr(rc, "_ws_connection_task", None)
    if task is not None:
        task.cancel()
        try:
            await task
        except BaseException:
            pass


def test_realtime_round_trip(sim):
    async def scenario():
        rc = RocketChat()
        await rc.start(sim.ws_url, "mybot", MYBOT_PASSWORD)  # DDP login with sha-256 digest
        try:
            assert rc.user_id == MYBOT_ID
            channels = await rc.get_channels()
            assert (GENERAL, "c") in channels

            events = asyncio.Queue()
            await rc.subscribe_to_channel_messages(GENERAL, collect_into(events))
            await barrier(rc)

            alice = await asyncio.to_thread(RestClient, "alice", ALICE_PASSWORD, server_url=sim.url)
            posted = await asyncio.to_thread(alice.chat_post_message, "hello @mybot", room_id=GENERAL)
            mid = posted["message"]["_id"]

            ev = await next_event(events, lambda e: e["msg_id"] == mid)
            assert ev["channel_id"] == GENERAL
            assert ev["sender_id"] == ALICE_ID
            assert ev["msg"] == "hello @mybot"
            assert ev["thread_id"] is None
            assert ev["qualifier"] is None
            assert ev["repeated"] is False

            # Edit: delivered again with the same _id and the new text. The client's
            # `repeated` flag only reflects replies/reactions, so it stays False here.
            sim.edit(mid, "hello @mybot (edited)")
            ev = await next_event(events, lambda e: e["msg_id"] == mid)
            assert ev["msg"] == "hello @mybot (edited)"
            assert ev["sender_id"] == ALICE_ID
            assert ev["repeated"] is False

            # Reaction: same _id again, now flagged repeated.
            sim.react("bob", mid, ":+1:")
            ev = await next_event(events, lambda e: e["msg_id"] == mid)
            assert ev["repeated"] is True

            # Thread reply: one event for the reply and one for the updated root.
            reply = await asyncio.to_thread(
                alice.chat_send_message, {"rid": GENERAL, "msg": "in thread", "tmid": mid})
            rid_ = reply["message"]["_id"]
            seen = {}
            deadline = time.monotonic() + EVENT_TIMEOUT
            while len(seen) < 2:
                ev = await next_event(events, lambda e: e["msg_id"] in (mid, rid_),
                                      timeout=max(0.01, deadline - time.monotonic()))
                seen[ev["msg_id"]] = ev
            assert seen[rid_]["thread_id"] == mid
            assert seen[rid_]["msg"] == "in thread"
            assert seen[rid_]["sender_id"] == ALICE_ID
            assert seen[mid]["repeated"] is True  # root now carries `replies`
            assert seen[mid]["thread_id"] is None
        finally:
            await stop(rc)

    run(scenario())


def test_resume_with_rest_token(sim):
    async def scenario():
        rest = await asyncio.to_thread(RestClient, "mybot", MYBOT_PASSWORD, server_url=sim.url)
        token = rest.headers["X-Auth-Token"]
        assert rest.headers["X-User-Id"] == MYBOT_ID
        rc = RocketChat()
        await rc.resume(sim.ws_url, "mybot", token)
        try:
            assert rc.user_id == MYBOT_ID
            assert (GENERAL, "c") in await rc.get_channels()
        finally:
            await stop(rc)

    run(scenario())


def test_resume_with_unknown_token(sim):
    async def scenario():
        # rocketchat-async does not check `error` on resume: it fails with KeyError('result').
        rc = RocketChat()
        try:
            with pytest.raises(KeyError, match="result"):
                await rc.resume(sim.ws_url, "mybot", "not-a-token")
        finally:
            await stop(rc)
        # The frame it choked on, seen raw: Meteor.Error 403.
        raw = await RawDDP.open(sim.ws_url)
        try:
            res = await raw.method("login", {"resume": "not-a-token"})
            assert "result" not in res
            assert res["error"]["error"] == 403
            assert res["error"]["reason"] == LOGGED_OUT_REASON
        finally:
            await raw.close()

    run(scenario())


def test_typing_seen_by_another_client(sim):
    async def scenario():
        observer = await RawDDP.open(sim.ws_url)
        rc = RocketChat()
        try:
            res = await observer.method("login", {"resume": BOB_TOKEN})
            assert "error" not in res, res
            ready = await observer.sub("stream-notify-room", f"{GENERAL}/user-activity",
                                       {"useCollection": False, "args": []})
            assert ready["msg"] == "ready", ready

            await rc.start(sim.ws_url, "alice", ALICE_PASSWORD)
            assert rc.user_id == ALICE_ID
            await rc.send_typing_event(GENERAL)

            frame = await observer.expect(
                lambda f: f.get("msg") == "changed" and f.get("collection") == "stream-notify-room",
                timeout=EVENT_TIMEOUT)
            assert frame["id"] == "id"
            assert frame["fields"]["eventName"] == f"{GENERAL}/user-activity"
            assert frame["fields"]["args"] == ["alice", ["user-typing"], {}]
        finally:
            await stop(rc)
            await observer.close()

    run(scenario())


# The heartbeat scenarios run on their own simulator with `--heartbeat 3` (ping after 3 s of
# inbound silence, close 3 s after an unanswered ping) instead of Meteor's 15 s + 15 s default,
# which the simulator's own tests pin; the behaviour checked is the same, only scaled down.
HEARTBEAT = 3.0


def test_heartbeat_idle_connection_stays_open(sim_factory, monkeypatch):
    fast = sim_factory("--heartbeat", HEARTBEAT)
    # websockets 10.4 sends WebSocket-level pings (every 20 s by default); like Meteor, the
    # simulator must not count those as DDP activity. Here the client sends them every 0.5 s,
    # far more often than the DDP heartbeat: were they counted, no DDP ping would ever come.
    real_connect = rocketchat_async_core.websockets.connect
    monkeypatch.setattr(rocketchat_async_core.websockets, "connect",
                        lambda *a, **kw: real_connect(*a, ping_interval=0.5, **kw))

    async def scenario():
        rc = RocketChat()
        await rc.start(fast.ws_url, "mybot", MYBOT_PASSWORD)
        try:
            ws = rc._dispatcher._websocket
            assert ws.ping_interval == 0.5
            pings = []
            original_recv = ws.recv

            async def recording_recv():
                raw = await original_recv()
                if json.loads(raw).get("msg") == "ping":
                    pings.append(time.monotonic())
                return raw

            ws.recv = recording_recv
            # Four heartbeat intervals: several ping/pong rounds, each of which would have ended
            # the connection had the client's pong not counted.
            await asyncio.sleep(4 * HEARTBEAT)
            assert pings, "the server never pinged an idle connection"
            assert not rc._ws_connection_task.done(), "connection closed although the client answered pings"
            assert (GENERAL, "c") in await rc.get_channels()
        finally:
            await stop(rc)

    run(scenario())


def test_client_that_never_pongs_is_closed(sim_factory):
    fast = sim_factory("--heartbeat", HEARTBEAT)

    async def scenario():
        raw = await RawDDP.open(fast.ws_url)
        started = time.monotonic()
        try:
            ping = await raw.expect(lambda f: f.get("msg") == "ping", timeout=25)
            assert "id" not in ping  # server heartbeats carry no id
            await asyncio.wait_for(asyncio.shield(raw.closed), 30)
            elapsed = time.monotonic() - started
            # Closed one interval of silence plus one unanswered-ping timeout after connect:
            # not at the ping itself (HEARTBEAT), nor much later.
            expected = 2 * HEARTBEAT
            assert 0.75 * expected <= elapsed <= expected + 15, \
                f"closed after {elapsed:.1f}s, expected about {expected:.0f}s"
        finally:
            await raw.close()

    run(scenario())
