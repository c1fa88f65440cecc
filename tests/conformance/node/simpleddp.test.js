'use strict';
// simpleddp 2.2.4 + simpleddp-plugin-login 4.0.2: generic DDP (sub/ready, changed frames,
// reconnect and automatic {resume} re-login) against rocketchat-sim.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const SimpleDDP = require('simpleddp');
const { simpleDDPLogin } = require('simpleddp-plugin-login');
const { startSim, seed, newId } = require('./sim');

let sim;
let server;
before(async () => {
  sim = await startSim();
  server = new SimpleDDP({
    endpoint: sim.wsUrl,
    SocketConstructor: WebSocket, // simpleddp needs the constructor passed in on Node
    reconnectInterval: 200,
  }, [simpleDDPLogin]);
  await connectWithin(server, 5000);
});
after(async () => {
  if (server) await server.disconnect();
  await sim?.stop();
});

// simpleddp's connect() never settles while the server does not answer `connected`
// (it keeps retrying), so bound it; disconnect() in after() also stops the retries.
async function connectWithin(client, ms) {
  let timer;
  try {
    await Promise.race([client.connect(), new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`simpleddp: no 'connected' within ${ms} ms`)), ms);
    })]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with the next event `name` whose payload satisfies pred. Register before acting. */
function next(name, pred = () => true, ms = 2000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { listener.stop(); reject(new Error(`no '${name}' within ${ms} ms`)); }, ms);
    const listener = server.on(name, (m) => {
      if (!pred(m)) return;
      clearTimeout(timer);
      listener.stop();
      resolve(m);
    });
  });
}

const changedFor = (msgId) => (m) =>
  m.collection === 'stream-room-messages' && m.id === 'id' &&
  m.fields && m.fields.eventName === seed.GENERAL && m.fields.args && m.fields.args[0]._id === msgId;

test('login {resume}, sub ready, changed frame, reconnect + auto-resume', async () => {
  const login = await server.login({ resume: seed.MYBOT_TOKEN });
  assert.equal(login.id, seed.MYBOT_ID);
  assert.equal(login.token, seed.MYBOT_TOKEN);
  assert.equal(login.type, 'resume');
  assert.equal(server.userId, seed.MYBOT_ID);

  const sub = server.subscribe('stream-room-messages', seed.GENERAL, { useCollection: false, args: [] });
  await sub.ready();
  assert.equal(sub.isReady(), true);

  // a posted message arrives as a raw `changed` frame
  const firstId = newId();
  const first = next('changed', changedFor(firstId));
  await sim.post('alice', seed.GENERAL, 'first via simpleddp', { _id: firstId });
  const frame = await first;
  assert.deepEqual(Object.keys(frame.fields).sort(), ['args', 'eventName']);
  assert.equal(frame.fields.args.length, 1);
  assert.equal(frame.fields.args[0].msg, 'first via simpleddp');
  assert.equal(frame.fields.args[0].u._id, seed.ALICE_ID);

  // drop every socket: the client reconnects, re-logs in with {resume} and re-subscribes
  const disconnected = next('disconnected', undefined, 5000);
  const reconnected = next('connected', undefined, 10000);
  const resumed = next('loginResume', undefined, 10000);
  // simpleddp restarts a sub on reconnect as unsub (old id), nosub, sub (new id): `ready()`
  // called in between would watch the old id and reject on that nosub. Wait for the new id.
  const oldSubId = sub.subscriptionId;
  const resubscribed = next('ready', (m) => sub.subscriptionId !== oldSubId && m.subs.includes(sub.subscriptionId), 10000);
  await sim.fault({ kind: 'dropSockets' });
  await disconnected;
  await reconnected;
  const again = await resumed;
  assert.equal(again.id, seed.MYBOT_ID);
  assert.equal(server.userId, seed.MYBOT_ID);
  await resubscribed;
  assert.equal(sub.isReady(), true);

  const secondId = newId();
  const second = next('changed', changedFor(secondId), 3000);
  await sim.post('alice', seed.GENERAL, 'after reconnect', { _id: secondId });
  assert.equal((await second).fields.args[0].msg, 'after reconnect');
});

test('login with an unknown token rejects with the 403 error', async () => {
  const other = new SimpleDDP({ endpoint: sim.wsUrl, SocketConstructor: WebSocket, autoReconnect: false },
    [simpleDDPLogin]);
  try {
    await connectWithin(other, 5000);
    await assert.rejects(other.login({ resume: 'not-a-valid-token' }), (err) => {
      assert.equal(err.error, 403);
      assert.equal(err.reason, seed.LOGGED_OUT_REASON);
      return true;
    });
  } finally {
    await other.disconnect();
  }
});
