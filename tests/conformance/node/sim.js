'use strict';
// Start rocketchat-sim for one test file and talk to its /_sim control API.
const { spawn } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');
const readline = require('node:readline');

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const URL_LINE = /^ROCKETCHAT_SIM_URL=(http:\/\/127\.0\.0\.1:\d+)\s*$/;

function simBinary() {
  const configured = process.env.ROCKETCHAT_SIM_BIN || 'target/debug/rocketchat-sim';
  return path.isAbsolute(configured) ? configured : path.join(REPO_ROOT, configured);
}

async function control(url, method, route, body) {
  const res = await fetch(url + route, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${route} -> ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * Run `<bin> --port 0 ...args`, resolve once the ROCKETCHAT_SIM_URL line is read.
 * @returns {Promise<{url:string, wsUrl:string, stop:()=>Promise<void>, post:Function, edit:Function,
 *   react:Function, fault:Function, resetFaults:Function, health:Function}>}
 */
function startSim(args = [], { binary = simBinary(), timeoutMs = 20000, env = process.env } = {}) {
  if (!fs.existsSync(binary)) {
    return Promise.reject(new Error(
      `simulator binary not found: ${binary} (build it with \`cargo build -p rocketchat-sim\` or set ROCKETCHAT_SIM_BIN)`));
  }
  const child = spawn(binary, ['--port', '0', ...args.map(String)], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });

  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    let settled = false;
    const fail = (why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      // give stderr a moment to flush before reporting
      setTimeout(() => reject(new Error(`${binary}: ${why}; stderr:\n${stderr}`)), 100);
    };
    const timer = setTimeout(() => fail(`no ROCKETCHAT_SIM_URL line within ${timeoutMs} ms`), timeoutMs);
    child.on('error', (e) => fail(`spawn failed: ${e.message}`));
    child.on('exit', (code) => fail(`exited with ${code} before the URL line`));
    lines.once('line', (line) => {
      const m = URL_LINE.exec(line);
      if (!m) return fail(`first stdout line is not ROCKETCHAT_SIM_URL=http://127.0.0.1:PORT: ${JSON.stringify(line)}`);
      settled = true;
      clearTimeout(timer);
      lines.on('line', () => {}); // keep draining stdout
      const url = m[1];
      const exited = new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      resolve({
        url,
        wsUrl: url.replace('http://', 'ws://') + '/websocket',
        process: child,
        stderr: () => stderr,
        health: () => control(url, 'GET', '/_sim/health'),
        post: (user, rid, msg, extra = {}) =>
          control(url, 'POST', '/_sim/post', { user, rid, msg, ...extra }).then((r) => r.message),
        edit: (msgId, msg) => control(url, 'POST', '/_sim/edit', { msgId, msg }),
        react: (user, msgId, emoji) => control(url, 'POST', '/_sim/react', { user, msgId, emoji }),
        fault: (f) => control(url, 'POST', '/_sim/faults', f),
        resetFaults: () => control(url, 'POST', '/_sim/reset-faults'),
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const t = setTimeout(() => child.kill('SIGKILL'), 5000);
            await exited;
            clearTimeout(t);
          }
        },
      });
    });
  });
}

/** Resolve with the first value for which `check` returns truthy; reject after `ms`. */
function waitFor(register, ms = 2000, what = 'event') {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    register((value) => { clearTimeout(t); resolve(value); });
  });
}

const seed = {
  MYBOT_ID: 'Bq7dYg4KxWnZcT3rA',
  MYBOT_PASSWORD: 's3cret',
  MYBOT_TOKEN: '9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq',
  MYBOT_PAT: 'Ra2-pCvh7QfE1GmbXW9yZk0sLtNnIuOdJ8Te4wVxY3c',
  ALICE_ID: 'k9ZfTqW2mHs8PxLcE',
  ALICE_PASSWORD: 'alice-pass',
  ALICE_TOKEN: 'alice-token-000000000000000000000000000000',
  GENERAL: 'GENERAL',
  RANDOM: 'RandomRoom0000001',
  DM_BOT_ALICE: 'Bq7dYg4KxWnZcT3rAk9ZfTqW2mHs8PxLcE',
  LOGGED_OUT_REASON: "You've been logged out by the server. Please log in again.",
};

module.exports = { startSim, simBinary, waitFor, seed, REPO_ROOT };

/** A fresh 17-character Meteor-style id (lets a test listen before it posts). */
function newId() {
  const chars = '23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz';
  let id = '';
  for (let i = 0; i < 17; i++) id += chars[Math.floor(Math.random() * chars.length)];
  return id;
}
module.exports.newId = newId;
