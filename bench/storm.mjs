// Reconnect storm: one core with N accounts connected (the scale seed), then the simulator
// restarts (`POST /_sim/restart`: sockets closed, the port closed for `downMs`, the same store
// served again). While it is down, alice posts `perAccount` messages to each account's rooms
// (stored as another instance of a cluster would take them), so they can only arrive through
// the catch-up. Measured: the time from the restart until each account is authenticated again
// and until its outage messages arrived, every message exactly once, and the logins the
// server's rate limits refused (`GET /_sim/stats`).
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { startSimulator } from '../tests/e2e/simulator.mjs'
import { spawnClient } from './client-process.mjs'
import { scaleSeed } from './scale.mjs'
import { median } from './table.mjs'

// The core's default reconnect backoff (src/ddp/realtime.rs): 1 s doubling, ±30 % jitter.
const BACKOFF = { initialMs: 1000, factor: 2, jitter: 0.3 }

/**
 * The stated bound for a server down `downMs`: every retry that can still fall inside the
 * outage fails, and the one after it waits at most its jittered backoff step; plus `slackMs` for
 * the logins, subscriptions and catch-ups of every account on a shared machine.
 */
export function stormBound(downMs, slackMs) {
  let earliest = 0
  let failures = 0
  // Attempts that may start before the port is open again: each such failure grows the step.
  for (;;) {
    earliest += BACKOFF.initialMs * BACKOFF.factor ** failures * (1 - BACKOFF.jitter)
    if (earliest >= downMs) break
    failures++
  }
  return downMs + BACKOFF.initialMs * BACKOFF.factor ** failures * (1 + BACKOFF.jitter) + slackMs
}

/** The outage messages: `perAccount` for each account, dealt over its rooms in turn. */
function outagePosts(seed, perAccount) {
  const rooms = new Map(seed.users.slice(1).map((u) => [u.username, []]))
  for (const r of seed.rooms) rooms.get(r.members[0]).push(r.id)
  const posts = []
  for (let k = 0; k < perAccount; k++) {
    for (const list of rooms.values()) {
      const seq = posts.length
      posts.push({ user: 'alice', rid: list[k % list.length], msg: `seq=${seq} t=${Date.now() * 1000} storm` })
    }
  }
  return posts
}

/** One storm with `bots` accounts over `rooms` rooms. */
export async function stormRun(o, bots, rooms) {
  const seed = scaleSeed(bots, rooms)
  const file = join(tmpdir(), `bench-storm-seed-${process.pid}-${bots}.json`)
  writeFileSync(file, JSON.stringify(seed))
  const sim = await startSimulator({ bin: o.sim, args: ['--seed', file] })
  const accounts = seed.users.slice(1).map((u) => ({ userId: u.id, pat: u.personalAccessTokens[0] }))
  const posts = outagePosts(seed, o.stormPerAccount)
  const client = join(o.root, 'bench', 'clients', 'core-scale.js')
  const env = { ...process.env, BENCH_ACCOUNTS: JSON.stringify(accounts) }
  const { child, next, fail } = spawnClient(process.execPath, [client, sim.url, String(posts.length), 'storm'], env, `storm${bots}`)
  try {
    const ready = await next(60_000)
    if (ready !== 'ready') throw fail(`expected ready, got ${ready}`)
    const before = await (await fetch(`${sim.url}/_sim/stats`)).json()
    child.stdin.write('go\n')
    await sim.control('restart', { downMs: o.stormDownMs, posts })
    // Out of budget, the last progress line is the result (accounts still out are missing).
    const deadline = Date.now() + o.budget * 1000
    let result = { received: 0, duplicates: 0, backMs: [], caughtUpMs: [], tries: [], accounts: bots }
    for (;;) {
      const line = await next(deadline - Date.now())
      if (line === undefined) break
      const progress = /^progress (\d+) (\S+)$/.exec(line)
      if (!progress) {
        result = JSON.parse(line)
        break
      }
      result.received = Number(progress[1])
    }
    const after = await (await fetch(`${sim.url}/_sim/stats`)).json()
    child.stdin.write('quit\n')
    const refused = Object.values(after.rateLimited).reduce((a, b) => a + b, 0) - Object.values(before.rateLimited).reduce((a, b) => a + b, 0)
    return {
      ...result,
      bots,
      sent: posts.length,
      downMs: o.stormDownMs,
      boundMs: stormBound(o.stormDownMs, o.stormSlackMs),
      slackMs: o.stormSlackMs,
      logins: after.logins - before.logins,
      loginsRefused: after.loginsRefused - before.loginsRefused,
      refused,
      restarts: after.restarts - before.restarts,
    }
  } finally {
    child.kill('SIGKILL')
    await sim.stop()
  }
}

const pad = (s, n) => String(s).padStart(n)
const secs = (ms) => (ms === undefined ? '-' : (ms / 1000).toFixed(2))
const mid = (xs) => (xs.length ? median(xs) : undefined)

/** Whether a storm's row is complete: every account back, every message once, no login refused. */
export const stormComplete = (r) =>
  r.backMs.length === r.bots && r.received === r.sent && r.duplicates === 0 && r.loginsRefused === 0

export function printStorm(rows) {
  const out = ['']
  const r0 = rows[0]
  out.push(`Reconnect storm: one core with the accounts connected, then the server restarts (every socket closed, the port`)
  out.push(`closed ${secs(r0.downMs)} s, the same data served again); ${r0.sent / r0.bots} message(s) per account posted while it is down reach`)
  out.push('it only through its catch-up. Seconds from the restart, median and max over the accounts; tries = connection')
  out.push('attempts per account; logins and refusals (any call a rate limit refused, logins among them) as the server counted them.')
  out.push(
    `${'accounts'.padEnd(10)}${pad('back med', 10)}${pad('back max', 10)}${pad('caught up med', 15)}${pad('caught up max', 15)}` +
      `${pad('tries max', 11)}${pad('logins', 8)}${pad('login refused', 15)}${pad('refused', 9)}${pad('lost', 6)}${pad('dup', 5)}`,
  )
  for (const r of rows) {
    out.push(
      `${String(r.bots).padEnd(10)}${pad(secs(mid(r.backMs)), 10)}${pad(r.backMs.length === r.bots ? secs(r.backMs.at(-1)) : `${r.backMs.length} back`, 10)}` +
        `${pad(secs(mid(r.caughtUpMs)), 15)}${pad(secs(r.caughtUpMs.at(-1)), 15)}${pad(r.tries.at(-1) ?? '-', 11)}` +
        `${pad(r.logins, 8)}${pad(r.loginsRefused, 15)}${pad(r.refused, 9)}${pad(r.sent - r.received, 6)}${pad(r.duplicates, 5)}`,
    )
  }
  for (const r of rows) {
    const worst = Math.max(r.backMs.at(-1) ?? Infinity, r.caughtUpMs.at(-1) ?? Infinity)
    const ok = stormComplete(r) && worst <= r.boundMs
    out.push(
      `  ${ok ? 'met   ' : 'MISSED'} ${r.bots} accounts all back and caught up within ${secs(r.boundMs)} s of the restart (down ${secs(r.downMs)} s,` +
        ` then at most one jittered backoff step, plus ${secs(r.slackMs)} s), no login refused: ${secs(worst)} s, ${r.loginsRefused} refused`,
    )
  }
  console.log(out.join('\n'))
}
