// The one loader (npm/src/loader.cjs): the binding and the plugin load the native core through
// it, and a platform whose package is not installed gets the error naming that package.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { test } from 'node:test'

import { NativeCoreMissingError, PLATFORMS, loadNative, platformTriple } from '../../npm/src/native.js'
import { BINDING_DIR, ROOT, binding } from './helpers.mjs'

const require = createRequire(import.meta.url)
const loader = require('../../npm/src/loader.cjs')
const pkg = JSON.parse(readFileSync(join(ROOT, 'npm', 'package.json'), 'utf8'))
const triple = platformTriple()
// A published platform other than this one, of which nothing is built or installed here (a
// cross run on arm64 finds the x64 core bundled into npm/ by the suite's earlier stages).
const other = PLATFORMS.map((p) => p.triple).find((t) => t !== triple && !existsSync(join(ROOT, 'npm', `openclaw-rocketchat.${t}.node`)))

test('the binding is what the loader finds in bindings/node (or ROCKETCHAT_NODE_BINDING)', () => {
  const native = loader.loadNative({ dirs: [BINDING_DIR], hint: '' })
  assert.equal(binding.RocketChatCore, native.RocketChatCore)
  assert.equal(binding.platformTriple(), triple)
  assert.equal(typeof native.RocketChatCore.configSchema().properties, 'object')
})

test('the plugin loads the native core through the same loader', () => {
  // In a child: the plugin may find npm/'s bundled copy, a second addon file for this process.
  const script = `import { loadNative } from ${JSON.stringify(join(ROOT, 'npm', 'src', 'native.js'))}
    console.log(Object.keys(loadNative().RocketChatCore.configSchema().properties).length)`
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  assert.ok(Number(out) > 0, out)
})

test('every platform of napi.targets is a platform package of the plugin', () => {
  assert.deepEqual(
    Object.keys(pkg.optionalDependencies),
    PLATFORMS.map((p) => `@alexwoo-awso/openclaw-rocketchat-${p.triple}`),
  )
})

test('a missing platform package is named in the error', () => {
  assert.throws(
    () => loadNative({ triple: other, env: {} }),
    (e) => {
      assert.ok(e instanceof NativeCoreMissingError, e.stack)
      assert.match(e.message, new RegExp(`no native core for ${other}: `))
      assert.ok(e.message.includes(`the package @alexwoo-awso/openclaw-rocketchat-${other} is not installed`), e.message)
      assert.ok(e.message.includes(`or install @alexwoo-awso/openclaw-rocketchat-${other} matching`), e.message)
      return true
    },
  )
})

test('a platform nothing is published for says so', () => {
  assert.throws(() => loadNative({ triple: 'freebsd-riscv64', env: {} }), (e) => {
    assert.ok(e instanceof NativeCoreMissingError)
    assert.match(e.message, /no native core for freebsd-riscv64: @alexwoo-awso\/openclaw-rocketchat is published for linux-x64-gnu, /)
    assert.match(e.message, /ROCKETCHAT_NODE_BINDING/)
    return true
  })
})

test('ROCKETCHAT_NODE_BINDING comes first', () => {
  const file = process.env.ROCKETCHAT_NODE_BINDING ?? join(BINDING_DIR, `openclaw-rocketchat.${triple}.node`)
  const native = loadNative({ triple: other, env: { ROCKETCHAT_NODE_BINDING: file } })
  assert.equal(native.RocketChatCore, binding.RocketChatCore)
})

test('the triple of each Rust target is the one napi uses', () => {
  const triples = Object.fromEntries(
    [
      'x86_64-unknown-linux-gnu',
      'aarch64-unknown-linux-musl',
      'armv7-unknown-linux-gnueabihf',
      'aarch64-apple-darwin',
      'x86_64-pc-windows-msvc',
      'aarch64-linux-android',
      'x86_64-unknown-freebsd',
    ].map((t) => [t, loader.targetPlatform(t).triple]),
  )
  assert.deepEqual(triples, {
    'x86_64-unknown-linux-gnu': 'linux-x64-gnu',
    'aarch64-unknown-linux-musl': 'linux-arm64-musl',
    'armv7-unknown-linux-gnueabihf': 'linux-arm-gnueabihf',
    'aarch64-apple-darwin': 'darwin-arm64',
    'x86_64-pc-windows-msvc': 'win32-x64-msvc',
    'aarch64-linux-android': 'android-arm64',
    'x86_64-unknown-freebsd': 'freebsd-x64',
  })
  assert.throws(() => loader.targetPlatform('wasm32-wasip1-threads'), /unknown Rust target wasm32-wasip1-threads/)
})
