'use strict'
// Preloaded (NODE_OPTIONS=--require) into a Node that itself runs under qemu-user, on a machine
// where binfmt_misc has no qemu entry (containers, most CI runners): the kernel cannot start a
// foreign executable, so each child process whose file is an ELF of another machine (the test
// runner's per-file children of process.execPath, tests/node/exit.test.mjs and loader.test.mjs,
// the contract test's cross-built rpc driver) is started as `$QEMU_SPAWN_QEMU <file> <args>`.
// The sysroot comes from QEMU_LD_PREFIX in the environment, which the children inherit, as they
// inherit this preload. Host executables (the simulator, cc, curl) start as they are.
//   QEMU_SPAWN_QEMU      the qemu-user binary, e.g. /usr/bin/qemu-aarch64-static
//   QEMU_SPAWN_MACHINE   the ELF e_machine to redirect (183 = aarch64)
const childProcess = require('node:child_process')
const fs = require('node:fs')
const { syncBuiltinESMExports } = require('node:module')
const path = require('node:path')

const qemu = process.env.QEMU_SPAWN_QEMU
const machine = Number(process.env.QEMU_SPAWN_MACHINE)
if (!qemu || !machine) throw new Error('qemu-spawn.cjs: set QEMU_SPAWN_QEMU and QEMU_SPAWN_MACHINE')

const seen = new Map()
function foreign(file) {
  if (typeof file !== 'string' || !file.includes('/')) return false
  const full = path.resolve(file)
  if (!seen.has(full)) {
    let yes = false
    try {
      const fd = fs.openSync(full, 'r')
      const head = Buffer.alloc(20)
      fs.readSync(fd, head, 0, 20, 0)
      fs.closeSync(fd)
      yes = head.readUInt32BE(0) === 0x7f454c46 && head.readUInt16LE(18) === machine
    } catch {}
    seen.set(full, yes)
  }
  return seen.get(full)
}

// Asynchronous spawns, including the ones Node's own modules make (the test runner's): all go
// through ChildProcess.prototype.spawn with {file, args: [argv0, ...]}.
const { ChildProcess } = childProcess
const spawn = ChildProcess.prototype.spawn
ChildProcess.prototype.spawn = function (options) {
  if (options && foreign(options.file)) {
    options = { ...options, args: [qemu, options.file, ...(options.args ?? [options.file]).slice(1)], file: qemu }
  }
  return spawn.call(this, options)
}

// Synchronous ones: the exported functions (what the tests call; ESM imports see the change
// through syncBuiltinESMExports).
for (const name of ['spawnSync', 'execFileSync']) {
  const orig = childProcess[name]
  childProcess[name] = function (file, ...rest) {
    if (foreign(file)) {
      const args = Array.isArray(rest[0]) ? rest.shift() : []
      return orig.call(this, qemu, [file, ...args], ...rest)
    }
    return orig.call(this, file, ...rest)
  }
}
syncBuiltinESMExports()
