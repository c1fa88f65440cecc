// The committed TypeScript event types match the core's Event schema (drift check), and they
// cover the golden event files.
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'

import { generate } from '../../bindings/node/scripts/gen-event-types.mjs'
import { BINDING_DIR, ROOT, binding } from './helpers.mjs'

const committed = readFileSync(join(BINDING_DIR, 'events.d.ts'), 'utf8')
const schema = binding.RocketChatCore.eventSchema()

test('events.d.ts is what the generator makes from the current schema', () => {
  assert.equal(
    generate(schema),
    committed,
    'bindings/node/events.d.ts is out of date: run node bindings/node/scripts/gen-event-types.mjs',
  )
})

/** Field names per interface of the generated file (top-level fields only). */
function interfaces(text) {
  const out = new Map()
  const re = /export interface (\w+)(?: extends (\w+))? \{\n([\s\S]*?)\n\}/g
  for (const m of text.matchAll(re)) {
    const names = [...m[3].matchAll(/^ {2}(\w+)\??:/gm)].map((f) => f[1])
    out.set(m[1], { base: m[2], names })
  }
  return out
}

test('every event variant has a type, and every golden event fits its interface', () => {
  const ifaces = interfaces(committed)
  const tags = schema.oneOf.map((v) => v.properties.type.const)
  const byTag = new Map()
  for (const tag of tags) {
    const name = `${tag[0].toUpperCase()}${tag.slice(1)}Event`
    assert.ok(ifaces.has(name), `interface ${name}`)
    assert.match(committed, new RegExp(`\\| ${name}\\n`), `${name} in RocketChatEvent`)
    byTag.set(tag, name)
  }
  const envelope = ifaces.get('EventEnvelope').names
  const dir = join(ROOT, 'tests', 'golden', 'events')
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'))
  assert.ok(files.length > 0)
  for (const file of files) {
    const event = JSON.parse(readFileSync(join(dir, file), 'utf8'))
    const name = byTag.get(event.type)
    assert.ok(name, `${file}: type ${event.type} has an interface`)
    const declared = new Set([...envelope, ...ifaces.get(name).names])
    for (const key of Object.keys(event)) {
      assert.ok(declared.has(key), `${file}: ${key} is declared on ${name}`)
    }
    if (event.type === 'message' || event.type === 'messageEdited') {
      const msgFields = new Set(ifaces.get('InboundMessage').names)
      for (const key of Object.keys(event.message)) {
        assert.ok(msgFields.has(key), `${file}: message.${key} is declared on InboundMessage`)
      }
    }
  }
})

import { generate as generateIndex } from '../../bindings/node/scripts/gen-types.mjs'

test('index.d.ts is what the generator makes from the current verb list', () => {
  const { RocketChatCore } = binding
  assert.equal(
    generateIndex(RocketChatCore.verbsSchema(), schema, RocketChatCore.errorCodes()),
    readFileSync(join(BINDING_DIR, 'index.d.ts'), 'utf8'),
    'bindings/node/index.d.ts is out of date: run node bindings/node/scripts/gen-types.mjs',
  )
})

test('every verb of the core is a method of RocketChatCore', () => {
  const { RocketChatCore } = binding
  for (const verb of RocketChatCore.verbs()) {
    assert.equal(typeof RocketChatCore.prototype[verb], 'function', `RocketChatCore.${verb}`)
  }
})
