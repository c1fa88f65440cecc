// Medians, percentiles and the printed table with the targets beside the figures.

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Nearest-rank percentile of an ascending array. */
export const percentile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]

const pad = (s, n) => String(s).padStart(n)
const fixed = (x, d) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d))

export function printTable(rows, o) {
  const core = rows.find((r) => r.key === 'core')
  const peers = rows.filter((r) => !['core', 'floor'].includes(r.key))
  const floor = rows.find((r) => r.key === 'floor')
  const out = []
  out.push(`Inbound throughput: ${o.count} messages per run, median of ${o.reps} run(s); 0.3-2 KB texts over a`)
  out.push('channel, a group and a DM, 1 in 5 a thread reply; counted when the last one reaches the callback.')
  out.push(`A client still short of all messages after ${o.budget} s is stopped: its rate is over what it got (received < 100%).`)
  out.push('core × = the core\'s msg/s over this row\'s; ÷ core = this row\'s CPU per message over the core\'s.')
  out.push(`${'client'.padEnd(38)}${pad('msg/s', 10)}${pad('core ×', 9)}${pad('CPU s/100k', 12)}${pad('÷ core', 9)}${pad('peak RSS MB', 13)}${pad('received', 10)}${pad('dup', 5)}${pad('reordered', 11)}`)
  for (const r of rows) {
    out.push(
      `${r.name.padEnd(38)}${pad(fixed(r.rate, 0), 10)}${pad(fixed(core.rate / r.rate, 2), 9)}` +
        `${pad(fixed(r.cpuPer100k, 2), 12)}${pad(fixed(r.cpuPer100k / core.cpuPer100k, 2), 9)}` +
        `${pad(fixed(r.rssMb, 1), 13)}${pad(`${fixed(r.share * 100, 0)}%`, 10)}${pad(r.duplicates, 5)}${pad(r.outOfOrder, 11)}`,
    )
  }
  out.push('')
  out.push(`Latency: flood publish -> callback, ${o.latencyCount} messages at ${o.latencyRate} msg/s, ${o.reps} run(s);`)
  out.push('p50 and p99 are medians over the runs, max the highest; p99 per run and their spread (highest - lowest) beside')
  out.push(`${'client'.padEnd(38)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('max ms', 9)}${pad('received', 10)}  p99 per run ms (spread)`)
  for (const r of rows) {
    const perRun = r.p99Runs.map((x) => fixed(x / 1000, 2)).join(' / ')
    const spread = Math.max(...r.p99Runs) - Math.min(...r.p99Runs)
    out.push(
      `${r.name.padEnd(38)}${pad(fixed(r.p50 / 1000, 2), 9)}${pad(fixed(r.p99 / 1000, 2), 9)}${pad(fixed(r.max / 1000, 2), 9)}` +
        `${pad(`${fixed(r.latencyShare * 100, 0)}%`, 10)}  ${perRun} (${fixed(spread / 1000, 2)})`,
    )
  }
  out.push('')
  const speedup = Math.min(...peers.map((p) => p.rate / core.rate).map((x) => 1 / x))
  const cpuShare = Math.max(...peers.map((p) => core.cpuPer100k / p.cpuPer100k))
  const ofFloor = floor.rate / core.rate
  const verdict = (ok) => (ok ? 'met   ' : 'MISSED')
  out.push('Targets')
  out.push(`  ${verdict(speedup >= 10)} >= 10x the msg/s of every JS and Python peer: lowest ${fixed(speedup, 1)}x`)
  out.push(`  ${verdict(cpuShare < 0.2)} < 1/5 of their CPU per message: highest share ${fixed(cpuShare, 3)}`)
  out.push(`  ${verdict(ofFloor <= 2)} within 2x of the raw-parse floor: floor is ${fixed(ofFloor, 2)}x the core's msg/s`)
  const worstP99 = Math.max(...core.p99Runs)
  out.push(`  ${verdict(worstP99 < 1000)} p99 < 1 ms at ${o.latencyRate} msg/s in each of ${core.p99Runs.length} run(s): highest ${fixed(worstP99 / 1000, 2)} ms`)
  console.log(out.join('\n'))
}

export function printScale(rows, o) {
  const out = ['']
  out.push(`Scale: one core, ${o.scaleRooms} rooms (a DM per account, the rest private groups) split over the`)
  out.push(`accounts; idle: after every account logged in; load = ${o.scaleCount} messages as fast as read`)
  out.push(`${'accounts'.padEnd(10)}${pad('idle RSS MB', 13)}${pad('idle CPU %', 12)}${pad('MB/extra acct', 15)}${pad('msg/s', 9)}${pad('CPU s/100k', 12)}${pad('peak RSS MB', 13)}${pad('received', 10)}`)
  const first = rows[0]
  for (const r of rows) {
    const perExtra = r.bots > first.bots ? (r.idle.rssMb - first.idle.rssMb) / (r.bots - first.bots) : undefined
    out.push(
      `${String(r.bots).padEnd(10)}${pad(fixed(r.idle.rssMb, 1), 13)}${pad(fixed(r.idle.cpuPercent, 2), 12)}${pad(fixed(perExtra, 2), 15)}` +
        `${pad(Math.round(r.received / r.seconds), 9)}${pad(fixed((r.cpu / r.received) * 100_000, 2), 12)}${pad(fixed(r.rssMb, 1), 13)}` +
        `${pad(`${fixed((r.received / r.sent) * 100, 0)}%`, 10)}`,
    )
  }
  const last = rows[rows.length - 1]
  const perExtra = (last.idle.rssMb - first.idle.rssMb) / (last.bots - first.bots)
  out.push(`  ${perExtra < 3 ? 'met   ' : 'MISSED'} < 3 MB RSS per extra idle account: ${fixed(perExtra, 2)} MB (${first.bots} -> ${last.bots} accounts)`)
  console.log(out.join('\n'))
}

export function printOutbound(r, o) {
  const out = ['']
  out.push(`Outbound: one reply split into ${o.outboundCount} chunks, posted through the core's pacing queue`)
  out.push('(chat.sendMessage; the simulator applies Rocket.Chat\'s default REST rate limits, which a bot-role user bypasses)')
  out.push(`${pad('msg/s', 9)}${pad('seconds', 9)}${pad('posted', 8)}${pad('lost', 6)}  order kept`)
  out.push(`${pad(Math.round(r.received / r.seconds), 9)}${pad(fixed(r.seconds, 2), 9)}${pad(r.posted, 8)}${pad(o.outboundCount - r.posted, 6)}  ${r.inOrder ? 'yes' : 'NO'}`)
  console.log(out.join('\n'))
}

export function printReconnect(runs, o) {
  const out = ['']
  out.push(`Reconnect (this core): every socket dropped, ${o.outage} messages posted during the outage, then one every 10 ms;`)
  out.push(`median of ${runs.length}; the first retry waits the default backoff (1 s +-30 % jitter); every message posted before\nthe socket is back arrives through the catch-up (at least the ${o.outage} outage ones)`)
  out.push(`${pad('drop -> first live ms', 22)}${pad('via catch-up', 14)}${pad('received', 10)}${pad('dup', 5)}`)
  out.push(
    `${pad(fixed(median(runs.map((r) => r.firstLiveMs)), 0), 22)}${pad(Math.min(...runs.map((r) => r.catchUp)), 14)}` +
      `${pad(`${fixed(Math.min(...runs.map((r) => r.received / r.sent)) * 100, 0)}%`, 10)}${pad(Math.max(...runs.map((r) => r.duplicates)), 5)}`,
  )
  console.log(out.join('\n'))
}

export function printBusy(busy, list, o) {
  const out = ['']
  const name = (key) => list.find((c) => c.key === key).name
  const row = (key) => {
    const runs = busy[key]
    const last = runs[runs.length - 1]
    return {
      key,
      rate: median(runs.map((r) => r.sent / r.seconds)),
      perReceived: median(runs.map((r) => (r.cpu / r.sent) * 100_000)),
      perAnswered: median(runs.map((r) => (r.cpu / r.received) * 1000)),
      answered: Math.min(...runs.map((r) => r.received / r.expected)),
      unexpected: Math.max(...runs.map((r) => r.unexpected ?? 0)),
      // Events (core) or callbacks (peers) that reached the host language, per 100 messages.
      crossed: last.events ? (last.events.total / last.sent) * 100 : last.crossed === undefined ? undefined : (last.crossed / last.sent) * 100,
      byType: last.events?.byType,
    }
  }
  const rows = Object.keys(busy).map(row)
  const floor = rows.find((r) => r.key === 'floor')
  const core = rows.find((r) => r.key === 'core')
  out.push(`Busy rooms: the bot in ${o.busyRooms} rooms (half channels, half groups), ${o.busyCount} messages per run, 1 in 100 mentions`)
  out.push('it; median of the runs. The core keeps its default access rules (groupPolicy allowlist with the sender on it,')
  out.push('requireMention); the peers check sender and mention in their own language; the floor parses every frame, no gating;')
  out.push('peers and floor subscribe to __my_messages__ (Rocket.Chat\'s rate limits refuse most per-room subscriptions).')
  out.push('CPU per received message is over the whole flood, per answered over the messages for the bot;')
  out.push('× floor = CPU per received over the floor\'s; ÷ core = the row\'s CPU over the core\'s; into host = events (core)')
  out.push('or callbacks (peers) handed to JS / Python per 100 messages received.')
  out.push(`${'client'.padEnd(38)}${pad('msg/s', 9)}${pad('CPU s/100k', 12)}${pad('× floor', 9)}${pad('÷ core', 9)}${pad('CPU ms/answer', 15)}${pad('answered', 10)}${pad('into host', 11)}`)
  for (const r of rows) {
    out.push(
      `${name(r.key).padEnd(38)}${pad(fixed(r.rate, 0), 9)}${pad(fixed(r.perReceived, 2), 12)}${pad(fixed(r.perReceived / floor.perReceived, 2), 9)}` +
        `${pad(fixed(r.perReceived / core.perReceived, 2), 9)}${pad(r.key === 'floor' ? '-' : fixed(r.perAnswered, 3), 15)}` +
        `${pad(r.key === 'floor' ? '-' : `${fixed(r.answered * 100, 0)}%`, 10)}${pad(fixed(r.crossed, 2), 11)}`,
    )
  }
  out.push(`  the core's events in JS, last run: ${JSON.stringify(core.byType)}`)
  const peers = rows.filter((r) => !['core', 'floor'].includes(r.key))
  const ofFloor = core.perReceived / floor.perReceived
  const share = Math.max(...peers.map((p) => core.perReceived / p.perReceived))
  const verdict = (ok) => (ok ? 'met   ' : 'MISSED')
  out.push(`  ${verdict(ofFloor <= 1.5)} core CPU per received message <= 1.5x the raw-parse floor's: ${fixed(ofFloor, 2)}x`)
  out.push(`  ${verdict(share <= 1 / 3)} <= 1/3 of the peers' CPU per received message: highest share ${fixed(share, 3)}`)
  const leaked = core.byType?.dropped ?? 0
  out.push(`  ${verdict(leaked === 0)} no dropped message crosses into JS: ${leaked} dropped events in the last run`)
  console.log(out.join('\n'))
}
