// Scale: one core with 1, 10 and 100 bot accounts sharing 1 000 rooms, idle after login and then
// under a flood. The seed is generated so every room has exactly one bot (a DM per bot, the rest
// private groups dealt round-robin), hence each message reaches exactly one account.
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { startSimulator } from '../tests/e2e/simulator.mjs'

const ALICE = { id: 'k9ZfTqW2mHs8PxLcE', username: 'alice', name: 'Alice Doe', password: 'alice-pass', roles: ['user'] }

/** A seed of `bots` bot users and `rooms` rooms, alice in every room. */
export function scaleSeed(bots, rooms) {
  const users = Array.from({ length: bots }, (_, i) => ({
    id: `BenchBot${String(i).padStart(9, '0')}`,
    username: `benchbot${i}`,
    name: `Bench Bot ${i}`,
    password: 'bench-pass',
    roles: ['user', 'bot'],
    personalAccessTokens: [`bench-pat-${String(i).padStart(33, '0')}`],
  }))
  const dms = users.map((u) => ({ id: `${u.id}${ALICE.id}`, t: 'd', members: [u.username, 'alice'] }))
  const groups = Array.from({ length: rooms - dms.length }, (_, r) => ({
    id: `BenchRoom${String(r).padStart(8, '0')}`,
    t: 'p',
    name: `bench-room-${r}`,
    members: [users[r % bots].username, 'alice'],
  }))
  return { users: [ALICE, ...users], rooms: [...dms, ...groups] }
}

/**
 * Measure one account count with the driver's `measure`, which samples memory and CPU for
 * `idleMs` before `go`.
 */
export async function scaleRun(o, measure, bots, rooms) {
  const file = join(tmpdir(), `bench-seed-${process.pid}-${bots}.json`)
  writeFileSync(file, JSON.stringify(scaleSeed(bots, rooms)))
  const sim = await startSimulator({ bin: o.sim, args: ['--seed', file] })
  try {
    const accounts = scaleSeed(bots, rooms).users.slice(1).map((u) => ({ userId: u.id, pat: u.personalAccessTokens[0] }))
    const client = { key: `scale${bots}`, cmd: process.execPath, pre: [join(o.root, 'bench', 'clients', 'core-scale.js')], url: 'http' }
    return await measure(sim, client, { count: o.scaleCount, seed: 7, rooms: [], replay: true }, 'throughput', o.budget * 1000, {
      env: { BENCH_ACCOUNTS: JSON.stringify(accounts) },
      idleMs: o.smoke ? 500 : 5000,
    })
  } finally {
    await sim.stop()
  }
}
