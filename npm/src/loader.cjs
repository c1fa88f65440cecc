'use strict'
// The one loader of the native core, for the plugin (src/native.js) and for the binding in a
// source checkout (bindings/node/index.js, its tests and the benchmarks). It lives here because
// the plugin is published on its own and must carry it; bindings/node is private and only used
// from a checkout, so it requires this file by path instead of keeping a copy that could drift.
//
// Names and platforms come from ../package.json: the platform packages are `<name>-<triple>`,
// the binary `<napi.binaryName>.<triple>.node`, one per Rust target in `napi.targets`
// (scripts/gen-platform-packages.mjs writes the packages from the same list). Triples and the
// search order follow the loader the napi CLI (@napi-rs/cli 3) generates:
//   1. $ROCKETCHAT_NODE_BINDING, an explicit path to a .node file;
//   2. `<dir>/<binaryName>.<triple>.node` in each of the caller's directories;
//   3. the platform package `<name>-<triple>`.

const { existsSync, readFileSync } = require('node:fs')
const { join } = require('node:path')

const pkg = require('../package.json')

const BINARY_NAME = pkg.napi.binaryName
const PLATFORM_PACKAGE_PREFIX = `${pkg.name}-`

// Rust target parts -> Node's process.platform / process.arch (napi's parseTriple tables).
const NODE_PLATFORM = { windows: 'win32', darwin: 'darwin', linux: 'linux', freebsd: 'freebsd', android: 'android' }
const NODE_ARCH = {
  x86_64: 'x64',
  aarch64: 'arm64',
  i686: 'ia32',
  armv7: 'arm',
  riscv64gc: 'riscv64',
  powerpc64le: 'ppc64',
  s390x: 's390x',
  loongarch64: 'loong64',
}

/**
 * The napi triple and npm `os`/`cpu`/`libc` of a Rust target, e.g. `x86_64-unknown-linux-gnu`
 * -> `{ triple: 'linux-x64-gnu', os: 'linux', cpu: 'x64', libc: 'glibc' }`.
 */
function targetPlatform(target) {
  const parts = target.split('-')
  const [cpu, sys, abi] = parts.length === 2 ? [parts[0], parts[1], null] : [parts[0], parts[2], parts[3] ?? null]
  const os = NODE_PLATFORM[sys]
  const arch = NODE_ARCH[cpu]
  if (!os || !arch) throw new Error(`napi.targets: unknown Rust target ${target}`)
  const triple = abi ? `${os}-${arch}-${abi}` : `${os}-${arch}`
  const libc = os === 'linux' ? (abi?.startsWith('musl') ? 'musl' : 'glibc') : null
  return { target, triple, os, cpu: arch, libc }
}

/** The published platforms, in `napi.targets` order. */
const PLATFORMS = pkg.napi.targets.map(targetPlatform)

function isMusl() {
  if (process.platform !== 'linux') return false
  try {
    return readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
  } catch {
    const report = typeof process.report?.getReport === 'function' ? process.report.getReport() : null
    return !report?.header?.glibcVersionRuntime
  }
}

/** The napi triple of this process: `linux-x64-gnu`, `linux-arm64-musl`, `darwin-arm64`, `win32-x64-msvc`, … */
function platformTriple() {
  const { platform, arch } = process
  if (platform === 'linux') {
    const libc = isMusl() ? 'musl' : 'gnu'
    return arch === 'arm' ? `linux-arm-${libc}eabihf` : `linux-${arch}-${libc}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  if (platform === 'android' && arch === 'arm') return 'android-arm-eabi'
  return `${platform}-${arch}`
}

class NativeCoreMissingError extends Error {
  constructor(message) {
    super(message)
    this.name = 'NativeCoreMissingError'
  }
}

/**
 * Load the native core (the search order above).
 * @param {object} options
 * @param {string[]} options.dirs  where a local `<binaryName>.<triple>.node` may be, in order
 * @param {string} options.hint    what the caller's user can do when nothing is found
 * @param {string} [options.triple]  defaults to this process's platformTriple()
 * @param {Record<string, string | undefined>} [options.env]  defaults to process.env
 */
function loadNative({ dirs, hint, triple = platformTriple(), env = process.env }) {
  const override = env.ROCKETCHAT_NODE_BINDING
  if (override) return require(override)
  const tried = []
  for (const dir of dirs) {
    const local = join(dir, `${BINARY_NAME}.${triple}.node`)
    tried.push(local)
    if (existsSync(local)) return require(local)
  }
  const name = `${PLATFORM_PACKAGE_PREFIX}${triple}`
  tried.push(name)
  try {
    return require(name)
  } catch (e) {
    if (e?.code !== 'MODULE_NOT_FOUND') throw e
  }
  if (!PLATFORMS.some((p) => p.triple === triple)) {
    throw new NativeCoreMissingError(
      `rocketchat: no native core for ${triple}: ${pkg.name} is published for ` +
        `${PLATFORMS.map((p) => p.triple).join(', ')} only (tried ${tried.join(', ')}). ` +
        'Build the core from source and set ROCKETCHAT_NODE_BINDING to the .node file.',
    )
  }
  throw new NativeCoreMissingError(
    `rocketchat: no native core for ${triple}: the package ${name} is not installed ` +
      `(tried ${tried.join(', ')}). ${hint.replaceAll('<package>', name)}`,
  )
}

module.exports = {
  BINARY_NAME,
  PLATFORM_PACKAGE_PREFIX,
  PLATFORMS,
  NativeCoreMissingError,
  loadNative,
  platformTriple,
  targetPlatform,
}
