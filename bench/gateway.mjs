// Gateway under busy rooms: a real OpenClaw gateway with the packed plugin and the fake model, the
// bot in many rooms (busy.mjs's seed), a steady flood of messages not addressed to the bot, and
// alice asking the bot something every 2 s. The same gateway is measured idle first (the same
// questions, no flood), then under the flood: CPU and RSS of its whole process group from /proc,
// and the time from alice's post until the bot's answer shows in her stream (watchRoom).
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { createStateDir, freePort, installPlugin, killAllChildren, packPlugin, SIM_BOT, startFakeModel, startGateway, waitChannelConnected } from '../tests/e2e/gateway.mjs'
import { ALICE_TOKEN, startSimulator, watchRoom } from '../tests/e2e/simulator.mjs'
import { busySeed } from './busy.mjs'
import { percentile } from './table.mjs'

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim())
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
// How long an unanswered question is waited for after its phase.
const ANSWER_WAIT_MS = 60_000

/** CPU seconds and RSS of every process in a group: the gateway may run helpers of its own. */
function groupStats(pgid) {
  let cpu = 0
  let rssKb = 0
  let procs = 0
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(f[2]) !== pgid) continue
      // With the reaped children's time (cutime, cstime): a helper that exited still counts.
      cpu += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK
      rssKb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
      procs++
    } catch {
      // gone meanwhile
    }
  }
  return { cpu, rssMb: rssKb / 1024, procs }
}

/** The channel section: the default access rules, alice allowlisted, a mention needed in rooms. */
const section = (simUrl) => ({
  enabled: true,
  baseUrl: simUrl,
  authToken: SIM_BOT.pat,
  userId: SIM_BOT.userId,
  dmPolicy: 'allowlist',
  allowFrom: ['alice'],
  groupPolicy: 'allowlist',
  groupAllowFrom: ['alice'],
  requireMention: true,
})

/** Alice asks in `rid` (the answer echoes the tag); resolves with the latency, or undefined. */
async function ask(sim, watch, rid, tag) {
  const t0 = performance.now()
  await sim.post('alice', rid, `@${SIM_BOT.username} ${tag} how is it going?`)
  try {
    const e = await watch.waitFor((e) => e.kind === 'message' && e.user === SIM_BOT.username && e.text.includes(tag), ANSWER_WAIT_MS, `the answer to ${tag}`)
    return e.at - t0
  } catch {
    return undefined
  }
}

/** Bot messages in `rid` since `since` answering each tag: exactly one per question is complete. */
async function answerCounts(sim, rid, since, tags) {
  const msgs = (await sim.messages(rid, SIM_BOT.username, since)).messages
  return tags.map((t) => msgs.filter((m) => (m.msg ?? '').includes(t)).length)
}

/** One phase: `asks` questions, one every `everyMs`, while `load` (a promise or nothing) runs. */
async function phase(sim, watch, rid, name, o, pgid, load) {
  const since = new Date().toISOString()
  const samples = []
  const sample = () => samples.push(groupStats(pgid).rssMb)
  const timer = setInterval(sample, 500)
  const start = groupStats(pgid)
  const t0 = performance.now()
  const pending = []
  const tags = []
  for (let i = 0; i < o.gatewayAsks; i++) {
    const tag = `ask-${name}-${String(i).padStart(3, '0')}`
    tags.push(tag)
    pending.push(ask(sim, watch, rid, tag))
    await sleep(t0 + (i + 1) * o.gatewayEveryMs - performance.now())
  }
  const end = groupStats(pgid)
  const seconds = (performance.now() - t0) / 1000
  clearInterval(timer)
  sample()
  const flood = await load
  const latencies = (await Promise.all(pending)).filter((x) => x !== undefined).sort((a, b) => a - b)
  await sleep(2000) // a second answer to one question would come about now
  const counts = await answerCounts(sim, rid, since, tags)
  return {
    cpuPercent: ((end.cpu - start.cpu) / seconds) * 100,
    rssMb: Math.max(...samples),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    posted: tags.length,
    answered: latencies.length,
    exactlyOnce: counts.every((c) => c === 1),
    counts,
    flood,
    seconds,
  }
}

/** The whole row: one gateway, idle then busy. */
export async function gatewayRun(o) {
  const { seed, rooms } = busySeed(o.root, o.gatewayRooms)
  const file = join(tmpdir(), `bench-gateway-seed-${process.pid}.json`)
  writeFileSync(file, JSON.stringify(seed))
  // Each phase asks in a channel of its own, so both start from a session with one warm-up turn.
  const [idleRoom, busyRoom] = [rooms[0], rooms[2]]
  let sim, model, state, pack, gw, watches
  try {
    sim = await startSimulator({ bin: o.sim, args: ['--seed', file] })
    model = await startFakeModel()
    state = createStateDir({ modelBaseUrl: model.baseUrl, port: await freePort(), prefix: 'openclaw-bench-' })
    pack = packPlugin()
    await installPlugin(state, pack.tgz)
    await state.setRocketchat(section(sim.url))
    gw = await startGateway(state)
    await waitChannelConnected(state, gw, { timeoutMs: 120_000 })
    process.stderr.write(`  gateway ready in ${gw.readyMs} ms, ${o.gatewayRooms} rooms, ${groupStats(gw.pid).procs} process(es)\n`)
    watches = { idle: await watchRoom(sim.wsUrl, ALICE_TOKEN, idleRoom), busy: await watchRoom(sim.wsUrl, ALICE_TOKEN, busyRoom) }
    const warm = [await ask(sim, watches.idle, idleRoom, 'ask-warm-idle'), await ask(sim, watches.busy, busyRoom, 'ask-warm-busy')]
    await sleep(2000) // the warm-up turns' bookkeeping
    const idle = await phase(sim, watches.idle, idleRoom, 'idle', o, gw.pid, undefined)
    process.stderr.write(`  gateway idle: ${idle.answered}/${idle.posted} answered, p50 ${Math.round(idle.p50)} ms\n`)
    const count = Math.round((o.gatewayAsks * o.gatewayEveryMs * o.gatewayRate) / 1000)
    const spec = { user: 'alice', count, seed: 11, rooms, rate: o.gatewayRate, replay: true }
    await sim.control('flood/prepare', spec) // encoded before the phase: the flood starts with it
    const flood = sim.flood(spec)
    const busy = await phase(sim, watches.busy, busyRoom, 'busy', o, gw.pid, flood)
    process.stderr.write(`  gateway busy: ${busy.answered}/${busy.posted} answered, p50 ${Math.round(busy.p50)} ms, flood ${busy.flood.count} in ${busy.flood.seconds.toFixed(1)} s\n`)
    return { idle, busy, warm, floodCount: count, readyMs: gw.readyMs }
  } finally {
    for (const w of Object.values(watches ?? {})) w.close()
    await gw?.stop()
    await model?.stop()
    await sim?.stop()
    state?.remove()
    pack?.remove()
    killAllChildren()
  }
}

/** Every question answered exactly once in both phases, the warm-ups answered, the flood sent. */
export const gatewayComplete = (g) =>
  g.warm.every((x) => x !== undefined) &&
  [g.idle, g.busy].every((p) => p.answered === p.posted && p.posted > 0 && p.exactlyOnce) &&
  g.busy.flood?.count === g.floodCount

const pad = (s, n) => String(s).padStart(n)
const fixed = (x, d) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d))

export function printGateway(g, o) {
  const out = []
  const rate = (g.busy.flood.count / g.busy.flood.seconds).toFixed(0)
  out.push(`Gateway under busy rooms: a real OpenClaw gateway with this plugin and a fake model, the bot in ${o.gatewayRooms} rooms`)
  out.push(`(requireMention, alice allowlisted); alice asks the bot in a channel every ${o.gatewayEveryMs / 1000} s, ${o.gatewayAsks} times,`)
  out.push(`first idle, then while ${g.busy.flood.count} messages not for the bot arrive at ${rate} msg/s. CPU = the gateway's process group`)
  out.push('over the phase, % of one core; RSS = the sum of its processes, highest 0.5 s sample; answer = alice\'s post -> the answer in her stream.')
  out.push(`${'gateway'.padEnd(10)}${pad('CPU %', 8)}${pad('RSS MB', 9)}${pad('answer p50 ms', 15)}${pad('p99 ms', 9)}${pad('answered', 10)}`)
  for (const [name, p] of [['idle', g.idle], ['busy', g.busy]]) {
    out.push(`${name.padEnd(10)}${pad(fixed(p.cpuPercent, 1), 8)}${pad(fixed(p.rssMb, 0), 9)}${pad(fixed(p.p50, 0), 15)}${pad(fixed(p.p99, 0), 9)}${pad(`${p.answered}/${p.posted}`, 10)}`)
  }
  const cpuDelta = g.busy.cpuPercent - g.idle.cpuPercent
  const p99Delta = g.busy.p99 - g.idle.p99
  const verdict = (ok) => (ok ? 'met   ' : 'MISSED')
  const signed = (x, d) => `${x >= 0 ? '+' : ''}${fixed(x, d)}`
  out.push('Targets')
  out.push(`  ${verdict(cpuDelta <= 5)} busy gateway within 5 points of one core's CPU of the idle one: ${signed(cpuDelta, 1)} points`)
  out.push(`  ${verdict(p99Delta <= 50)} busy answers' p99 within 50 ms of the idle gateway's: ${signed(p99Delta, 0)} ms`)
  console.log(out.join('\n'))
}
