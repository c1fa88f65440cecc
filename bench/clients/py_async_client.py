"""PyPI rocketchat-async: DDP digest login, one stream-room-messages subscription per room.

Speaks the harness's line protocol (bench/README.md). argv: WS_URL COUNT [latency];
BENCH_EVERY as in harness.js.
"""
import asyncio
import json
import os
import sys
import time

from rocketchat_async import RocketChat


PROGRESS_EVERY = 100


class Tally:
    def __init__(self, count, latency, every):
        self.count = count // every
        self.every = every
        self.seen = bytearray(self.count)
        self.latency = latency
        self.received = self.duplicates = self.out_of_order = self.unexpected = self.crossed = 0
        self.last = -1
        self.latencies_us = []
        self.finished = asyncio.Event()

    def record(self, text):
        if not isinstance(text, str) or not text.startswith("seq="):
            return
        fields = text.split(" ", 2)
        seq = int(fields[0][4:])
        if (seq + 1) % self.every:
            self.unexpected += 1
            return
        slot = (seq + 1) // self.every - 1
        if not 0 <= slot < self.count or self.seen[slot]:
            self.duplicates += 1
            return
        self.seen[slot] = 1
        self.received += 1
        if seq < self.last:
            self.out_of_order += 1
        self.last = seq
        if self.latency:
            self.latencies_us.append(time.time_ns() // 1000 - int(fields[1][2:]))
        if self.received % PROGRESS_EVERY == 0:  # for a run that will not finish in its budget
            print(f"progress {self.received} {time.perf_counter() - self.start}", flush=True)
        if self.received == self.count:
            self.finished.set()


async def main():
    url, count = sys.argv[1], int(sys.argv[2])
    every = int(os.environ.get("BENCH_EVERY") or 1)
    tally = Tally(count, len(sys.argv) > 3 and sys.argv[3] == "latency", every)
    # Busy rooms: the bot's own check of every message it receives (the callback gets the
    # sender's id and the text, not the mentions).
    alice, mention = os.environ.get("BENCH_SENDER_ID"), "@" + os.environ["BENCH_BOT_USER"]
    rc = RocketChat()
    await rc.start(url, os.environ["BENCH_BOT_USER"], os.environ["BENCH_BOT_PASSWORD"])

    def on_message(channel_id, sender_id, msg_id, thread_id, msg, qualifier, unread, repeated):
        tally.crossed += 1
        if every == 1 or (sender_id == alice and mention in msg):
            tally.record(msg)

    for rid in os.environ["BENCH_ROOMS"].split(","):
        await rc.subscribe_to_channel_messages(rid, on_message)
    await rc.get_channels()  # a round trip: the subscriptions are in place
    loop = asyncio.get_running_loop()
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    start = time.perf_counter()
    tally.start = start
    await tally.finished.wait()
    seconds = time.perf_counter() - start
    print(json.dumps({
        "received": tally.received,
        "duplicates": tally.duplicates,
        "outOfOrder": tally.out_of_order,
        "unexpected": tally.unexpected,
        "crossed": tally.crossed,
        "seconds": seconds,
        "latenciesUs": sorted(tally.latencies_us),
    }), flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    os._exit(0)


asyncio.run(main())
