// Scale: one core with 1, 10, 100 and 1 000 bot accounts sharing 1 000 rooms, idle after login and then
// under a flood. The seed is generated so every room has exactly one bot (a DM per bot, the rest
// private groups dealt round-robin), hence each message reaches exactly one account.
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { startSimulator } from '../tests/e2e/simulator.mjs'
import { stormComplete, stormRun } from './storm.mjs'

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

/** The scale rows, then the reconnect storm. */
export async function scaleRows(o, measure) {
  const scale = []
  for (const bots of o.scaleAccounts) {
    const r = await scaleRun(o, measure, bots, o.scaleRooms)
    process.stderr.write(`  ${bots} account(s): ${r.received} in ${r.seconds.toFixed(2)} s\n`)
    scale.push({ bots, ...r })
  }
  const storm = []
  for (const bots of o.stormAccounts) {
    const r = await stormRun(o, bots, o.scaleRooms)
    process.stderr.write(`  storm ${bots} account(s): ${r.backMs.length} back, ${r.received}/${r.sent} caught up\n`)
    storm.push(r)
  }
  return { scale, storm }
}

/** What --smoke refuses in these rows. */
export function scaleIncomplete({ scale, storm }) {
  const bad = scale.filter((r) => r.received !== r.sent || r.duplicates !== 0 || !r.idle).map((r) => ({ ...r, key: `scale${r.bots}` }))
  for (const r of storm.filter((r) => !stormComplete(r))) {
    bad.push({ key: `storm${r.bots} back=${r.backMs.length}/${r.bots} received=${r.received}/${r.sent} loginsRefused=${r.loginsRefused}`, duplicates: r.duplicates })
  }
  return bad
}
