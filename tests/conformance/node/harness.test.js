'use strict';
// The simulator start/stop helper, checked against a stand-in binary.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { startSim, simBinary, REPO_ROOT } = require('./sim');

const FAKE = path.join(__dirname, '..', 'fixtures', 'fake-rocketchat-sim');

test('reads the URL line, passes flags, stops the process', async () => {
  const sim = await startSim(['--profile', '6'], { binary: FAKE });
  try {
    assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(sim.wsUrl, sim.url.replace('http://', 'ws://') + '/websocket');
    const health = await sim.health();
    assert.equal(health.ok, true);
    assert.deepEqual(health.argv, ['--port', '0', '--profile', '6']);
  } finally {
    await sim.stop();
  }
  assert.notEqual(sim.process.exitCode ?? sim.process.signalCode, null);
  await assert.rejects(fetch(sim.url + '/_sim/health'));
});

test('a wrong first line fails loudly', async () => {
  await assert.rejects(
    startSim([], { binary: FAKE, env: { ...process.env, FAKE_SIM_MODE: 'garbage' } }),
    /listening somewhere/);
});

test('an early exit reports stderr', async () => {
  await assert.rejects(
    startSim([], { binary: FAKE, env: { ...process.env, FAKE_SIM_MODE: 'exit' } }),
    /refusing to start/);
});

test('a missing binary names the path', async () => {
  await assert.rejects(startSim([], { binary: '/nonexistent/rocketchat-sim' }), /not found/);
});

test('default binary is target/debug/rocketchat-sim under the repo root', () => {
  const saved = process.env.ROCKETCHAT_SIM_BIN;
  delete process.env.ROCKETCHAT_SIM_BIN;
  try {
    assert.equal(simBinary(), path.join(REPO_ROOT, 'target', 'debug', 'rocketchat-sim'));
  } finally {
    if (saved !== undefined) process.env.ROCKETCHAT_SIM_BIN = saved;
  }
});
