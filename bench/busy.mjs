// Busy rooms: the bot in 1 000 rooms (half channels, half private groups) with alice, who
// floods them; one message in 100 mentions the bot. The core runs with its default access rules
// (groupPolicy allowlist with alice on it, requireMention), the peers check each message in
// their own language, the floor parses every frame. The peers and the floor subscribe to
// `__my_messages__`: Rocket.Chat's DDP rate limits refuse most of 1 000 per-room subscriptions
// (the core subscribes to it too, and to the per-room streams it is granted).
import { readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { startSimulator } from '../tests/e2e/simulator.mjs'

export const BUSY_EVERY = 100

/** The default seed (its bot, alice and their credentials) and `rooms` rooms of the two. */
export function busySeed(root, rooms) {
  const seed = JSON.parse(readFileSync(join(root, 'tests', 'simulator', 'src', 'default_seed.json'), 'utf8'))
  const busy = Array.from({ length: rooms }, (_, r) => ({
    id: `BusyRoom${String(r).padStart(9, '0')}`,
    t: r % 2 ? 'p' : 'c',
    name: `busy-${r}`,
    members: ['mybot', 'alice'],
  }))
  return { seed: { ...seed, rooms: [...seed.rooms, ...busy] }, rooms: busy.map((r) => r.id) }
}

/** Each client in turn, `reps` replayed floods of `count` messages over the busy rooms. */
export async function busyRun(o, measure, list) {
  const { seed, rooms } = busySeed(o.root, o.busyRooms)
  const alice = seed.users.find((u) => u.username === 'alice').id
  const file = join(tmpdir(), `bench-busy-seed-${process.pid}.json`)
  writeFileSync(file, JSON.stringify(seed))
  const out = {}
  for (const c of list) {
    out[c.key] = []
    const env = { BENCH_ROOMS: '__my_messages__', BENCH_EVERY: c.key === 'floor' ? '1' : String(BUSY_EVERY), BENCH_SENDER_ID: alice }
    for (let rep = 0; rep < o.reps; rep++) {
      // A simulator per run: the core's subscriptions to 1 000 rooms use up the account's DDP
      // rate-limit budget for a minute, which would hold the next login back.
      const sim = await startSimulator({ bin: o.sim, args: ['--seed', file] })
      try {
        const flood = { count: o.busyCount, seed: rep + 1, rooms, mention: 'mybot', mentionEvery: BUSY_EVERY, replay: true }
        const r = await measure(sim, c, flood, 'throughput', o.budget * 1000, { env })
        const expected = c.key === 'floor' ? r.sent : Math.floor(r.sent / BUSY_EVERY)
        process.stderr.write(`  busy ${c.key} run ${rep + 1}: ${r.received}/${expected} in ${r.seconds.toFixed(2)} s\n`)
        out[c.key].push({ ...r, expected })
        if (r.received < expected) break
      } finally {
        await sim.stop()
      }
    }
  }
  return out
}
