// The client against a scripted server (Node's net, the library's own codec): the byte-level
// handshake, a route dictionary (no bundled server has one), a server that goes silent, kicks,
// handshake failures, timeouts and the reconnect hooks.
'use strict';
const { test } = require('node:test');
const { assert, lib, WAIT, FakeServer, client } = require('./helpers');

const { PACKET, MESSAGE, encodeMessage, decodeMessage } = lib.protocol;
const HELLO = { code: 200, sys: { heartbeat: 30, servertime: 1700000000 } };
const json = (bytes) => JSON.parse(Buffer.from(bytes).toString());
const text = (s) => new TextEncoder().encode(s);

async function fake(t) {
  const server = await new FakeServer().listen();
  t.after(() => server.close());
  return server;
}

test('handshake: sys and user data go out, the response comes back, then the ack', async (t) => {
  const server = await fake(t);
  const c = client(t, { url: server.url, user: { token: 'abc', n: 1 }, version: '1.2.3' });
  const connected = c.waitFor('connected', WAIT);
  const done = c.connect();
  const conn = await server.accept();
  const hs = await conn.handshake(HELLO);
  assert.deepStrictEqual(hs, { sys: { type: 'nanocaf-js', version: '1.2.3', rsa: {} }, user: { token: 'abc', n: 1 } });
  assert.deepStrictEqual(await done, HELLO);
  assert.deepStrictEqual(await connected, HELLO);
  assert.strictEqual(c.state, 'open');
  assert.strictEqual(c.heartbeatInterval, 30000);
});

test('route dictionary: requests and notifies compressed out, pushes decompressed in', async (t) => {
  const server = await fake(t);
  const dict = { 'room.join': 1, 'room.message': 2, onMessage: 3 };
  const c = client(t, { url: server.url });
  const done = c.connect();
  const conn = await server.accept();
  await conn.handshake({ code: 200, sys: { dict, heartbeat: 30, servertime: 1 } });
  await done;
  assert.deepStrictEqual(c.dict, dict);

  const reply = c.request('room.join', { a: 1 });
  const req = await conn.next(PACKET.DATA);
  assert.deepStrictEqual(Buffer.from(req.body.subarray(0, 4)), Buffer.from([0x01, 0x01, 0x00, 0x01])); // flag, id 1, code 1
  assert.deepStrictEqual(json(req.body.subarray(4)), { a: 1 });
  conn.send(PACKET.DATA, encodeMessage(MESSAGE.RESPONSE, 1, '', text('{"code":0}'), {}));
  assert.deepStrictEqual(await reply, { code: 0 });

  c.notify('room.message', { content: 'hi' });
  c.notify('room.other', {});
  const n1 = decodeMessage((await conn.next(PACKET.DATA)).body, { 2: 'room.message' });
  assert.deepStrictEqual([n1.type, n1.route], [MESSAGE.NOTIFY, 'room.message']);
  const n2 = await conn.next(PACKET.DATA);
  assert.strictEqual(n2.body[0], 0x02); // not in the dictionary: the route as a string
  assert.strictEqual(decodeMessage(n2.body, {}).route, 'room.other');

  const pushed = c.waitFor('onMessage', WAIT);
  const all = [];
  c.on('push', (route, data) => all.push([route, data]));
  conn.send(PACKET.DATA, encodeMessage(MESSAGE.PUSH, 0, 'onMessage', text('{"x":1}'), dict)); // 07 00 03 ...
  assert.deepStrictEqual(await pushed, { x: 1 });
  // An unknown code: an 'error', the message dropped, the connection kept.
  const error = c.waitFor('error', WAIT);
  conn.send(PACKET.DATA, Uint8Array.from([0x07, 0x00, 0x63]));
  assert.match((await error).message, /not found in dictionary/);
  const plain = c.waitFor('onPlain', WAIT);
  conn.send(PACKET.DATA, encodeMessage(MESSAGE.PUSH, 0, 'onPlain', text('[1,2]'), {}));
  assert.deepStrictEqual(await plain, [1, 2]);
  assert.deepStrictEqual(all, [['onMessage', { x: 1 }], ['onPlain', [1, 2]]]);
  assert.strictEqual(c.state, 'open');
});

test('packets split across reads and many in one read', async (t) => {
  const server = await fake(t);
  const c = client(t, { url: server.url });
  const done = c.connect();
  const conn = await server.accept();
  await conn.handshake(HELLO);
  await done;
  const got = [];
  c.on('onN', (d) => got.push(d.n));
  const bytes = [];
  for (let n = 0; n < 50; n++) {
    const p = lib.protocol.encodePacket(PACKET.DATA, encodeMessage(MESSAGE.PUSH, 0, 'onN', text(JSON.stringify({ n })), {}));
    bytes.push(...p);
  }
  const all = Buffer.from(bytes);
  const last = c.waitFor('onN', WAIT);
  for (let i = 0; i < all.length; i += 13) conn.socket.write(all.subarray(i, i + 13));
  while (got.length < 50) await c.waitFor('onN', WAIT);
  await last;
  assert.deepStrictEqual(got, Array.from({ length: 50 }, (_, n) => n));
});

test('payloads: bytes go as they are, raw replies, non-JSON bodies as bytes', async (t) => {
  const server = await fake(t);
  const c = client(t, { url: server.url });
  const done = c.connect();
  const conn = await server.accept();
  await conn.handshake(HELLO);
  await done;
  const bytes = Uint8Array.from([0, 1, 2, 250, 255]);
  const raw = c.request('x.raw', bytes);
  const req = decodeMessage((await conn.next(PACKET.DATA)).body, {});
  assert.deepStrictEqual(Uint8Array.from(req.body), bytes);
  conn.send(PACKET.DATA, encodeMessage(MESSAGE.RESPONSE, req.id, '', text('{"a":1}'), {}));
  assert.deepStrictEqual(Buffer.from(await raw), Buffer.from('{"a":1}')); // raw in, raw out
  const asJson = c.request('x.raw', Buffer.from('abc'), { raw: false });
  const req2 = decodeMessage((await conn.next(PACKET.DATA)).body, {});
  conn.send(PACKET.DATA, encodeMessage(MESSAGE.RESPONSE, req2.id, '', text('{"a":2}'), {}));
  assert.deepStrictEqual(await asJson, { a: 2 });
  const notJson = c.request('x.json', {});
  const req3 = decodeMessage((await conn.next(PACKET.DATA)).body, {});
  conn.send(PACKET.DATA, encodeMessage(MESSAGE.RESPONSE, req3.id, '', Uint8Array.from([0xff, 0x00]), {}));
  assert.deepStrictEqual(Uint8Array.from(await notJson), Uint8Array.from([0xff, 0x00]));
  const pushed = c.waitFor('onBytes', WAIT);
  conn.send(PACKET.DATA, encodeMessage(MESSAGE.PUSH, 0, 'onBytes', Uint8Array.from([1, 2, 3]), {}));
  assert.deepStrictEqual(Uint8Array.from(await pushed), Uint8Array.from([1, 2, 3]));
});

test('heartbeats: answered one interval after the server\'s, and a silent server times out', async (t) => {
  const server = await fake(t);
  const c = client(t, { url: server.url });
  const done = c.connect();
  const conn = await server.accept();
  await conn.handshake({ code: 200, sys: { heartbeat: 1, servertime: 1 } });
  await done;
  assert.strictEqual(c.heartbeatInterval, 1000);
  // Keep the client alive with heartbeats, and check each answer comes an interval later.
  let sent = 0;
  for (let i = 0; i < 2; i++) {
    sent = Date.now();
    conn.send(PACKET.HEARTBEAT);
    await conn.next(PACKET.HEARTBEAT, WAIT);
    assert.ok(Date.now() - sent >= 950, `answered after ${Date.now() - sent} ms`);
  }
  assert.strictEqual(c.state, 'open');
  // Now the server says nothing: 2 x 1000 ms after its last packet the client gives up.
  const silentSince = sent;
  const timedOut = c.waitFor('heartbeatTimeout', WAIT);
  const closed = c.waitFor('close', WAIT);
  await timedOut;
  const info = await closed;
  const waited = Date.now() - silentSince;
  assert.ok(waited >= 1850, `timed out after ${waited} ms`);
  assert.strictEqual(info.heartbeatTimeout, true);
  assert.strictEqual(c.state, 'closed');
  await conn.closed; // and the socket was closed
});

test('handshake failures reject connect() with EHANDSHAKE', async (t) => {
  const server = await fake(t);
  const c = client(t, { url: server.url });
  let done = c.connect();
  let conn = await server.accept();
  await conn.next(PACKET.HANDSHAKE);
  conn.send(PACKET.HANDSHAKE, JSON.stringify({ code: 501 }));
  await assert.rejects(done, (e) => e.code === 'EHANDSHAKE' && /version/.test(e.message));
  assert.strictEqual(c.state, 'closed');
  // nanocaf's answer to a handshake body that is not a JSON object.
  done = c.connect();
  conn = await server.accept();
  await conn.next(PACKET.HANDSHAKE);
  conn.send(PACKET.HANDSHAKE, JSON.stringify({ code: 400, error: 'handshake is not a JSON object' }));
  await assert.rejects(done, (e) => e.code === 'EHANDSHAKE' && e.status === 400 && /not a JSON object/.test(e.message));
  // A validator's refusal: the server closes without a word, as nano does.
  done = c.connect();
  conn = await server.accept();
  await conn.next(PACKET.HANDSHAKE);
  conn.socket.destroy();
  await assert.rejects(done, (e) => e.code === 'EHANDSHAKE');
  // Nobody there.
  const port = server.port;
  await server.close();
  await assert.rejects(c.connect(`tcp://127.0.0.1:${port}`), (e) => e.code === 'ECONNECT');
  await assert.rejects(c.connect('ftp://x'), (e) => e.code === 'EINVAL');
});

test('requests: a timeout rejects with ETIMEDOUT and the late reply is dropped; not connected', async (t) => {
  const server = await fake(t);
  const c = client(t, { url: server.url });
  await assert.rejects(c.request('a.b', {}), (e) => e.code === 'ENOTCONNECTED');
  assert.strictEqual(c.notify('a.b', {}), false);
  const done = c.connect();
  const conn = await server.accept();
  await conn.handshake(HELLO);
  await done;
  const slow = c.request('a.slow', {}, { timeout: 200 });
  const req = decodeMessage((await conn.next(PACKET.DATA)).body, {});
  await assert.rejects(slow, (e) => e.code === 'ETIMEDOUT' && e.route === 'a.slow');
  conn.send(PACKET.DATA, encodeMessage(MESSAGE.RESPONSE, req.id, '', text('{}'), {}));
  const next = c.request('a.next', {});
  const req2 = decodeMessage((await conn.next(PACKET.DATA)).body, {});
  assert.strictEqual(req2.id, req.id + 1);
  conn.send(PACKET.DATA, encodeMessage(MESSAGE.RESPONSE, req2.id, '', text('{"ok":true}'), {}));
  assert.deepStrictEqual(await next, { ok: true });
});

test('kick: the reason as an event and in the close info; no reconnect after it', async (t) => {
  const server = await fake(t);
  const c = client(t, { url: server.url, reconnect: { delay: 10 } });
  const done = c.connect();
  const conn = await server.accept();
  await conn.handshake(HELLO);
  await done;
  let reconnecting = false;
  c.on('reconnecting', () => { reconnecting = true; });
  const kicked = c.waitFor('kick', WAIT);
  const closed = c.waitFor('close', WAIT);
  conn.send(PACKET.KICK, JSON.stringify({ reason: 'bye now' }));
  conn.socket.end();
  assert.deepStrictEqual(await kicked, { reason: 'bye now' });
  const info = await closed;
  assert.strictEqual(info.kicked, true);
  assert.strictEqual(info.reason, 'bye now');
  assert.strictEqual(info.willReconnect, false);
  assert.strictEqual(reconnecting, false);
  assert.strictEqual(c.state, 'closed');
});

test('close(): clean, pending requests rejected with ECLOSED, a close event', async (t) => {
  const server = await fake(t);
  const c = client(t, { url: server.url });
  const done = c.connect();
  const conn = await server.accept();
  await conn.handshake(HELLO);
  await done;
  const pending = c.request('a.never', {});
  await conn.next(PACKET.DATA);
  const closed = c.waitFor('close', WAIT);
  await c.close();
  await assert.rejects(pending, (e) => e.code === 'ECLOSED');
  const info = await closed;
  assert.strictEqual(info.manual, true);
  assert.strictEqual(c.state, 'closed');
  await conn.closed; // the server saw the socket end
  await c.close(); // twice is fine
});

test('reconnect: on a lost connection, with events, then a fresh handshake', async (t) => {
  const server = await fake(t);
  const c = client(t, { url: server.url, reconnect: { delay: 50, factor: 2, retries: 5 } });
  const done = c.connect();
  let conn = await server.accept();
  await conn.handshake(HELLO);
  await done;
  const pending = c.request('a.never', {});
  await conn.next(PACKET.DATA);
  const closed = c.waitFor('close', WAIT);
  const reconnecting = c.waitFor('reconnecting', WAIT);
  const reconnected = c.waitFor('reconnected', WAIT);
  conn.socket.destroy(); // the network went away
  const info = await closed;
  assert.strictEqual(info.willReconnect, true);
  await assert.rejects(pending, (e) => e.code === 'ECLOSED');
  assert.deepStrictEqual((await reconnecting).attempt, 1);
  conn = await server.accept();
  const hs = await conn.handshake({ code: 200, sys: { heartbeat: 30, servertime: 2 } });
  assert.ok(hs.sys);
  assert.strictEqual((await reconnected).sys.servertime, 2);
  assert.strictEqual(c.state, 'open');
  const r = c.request('a.b', {});
  const req = decodeMessage((await conn.next(PACKET.DATA)).body, {});
  conn.send(PACKET.DATA, encodeMessage(MESSAGE.RESPONSE, req.id, '', text('{"again":1}'), {}));
  assert.deepStrictEqual(await r, { again: 1 });
});

test('reconnect: gives up after its retries; shouldReconnect decides; close() stops it', async (t) => {
  const server = await fake(t);
  const port = server.port;
  const c = client(t, { url: server.url, reconnect: { delay: 20, factor: 1, retries: 3 } });
  const done = c.connect();
  const conn = await server.accept();
  await conn.handshake(HELLO);
  await done;
  const attempts = [];
  c.on('reconnecting', (r) => attempts.push(r.attempt));
  const failed = c.waitFor('reconnectFailed', WAIT);
  await server.close(); // the server is gone: every attempt is refused
  const f = await failed;
  assert.strictEqual(f.attempts, 3);
  assert.strictEqual(f.error.code, 'ECONNECT');
  assert.deepStrictEqual(attempts, [1, 2, 3]);
  assert.strictEqual(c.state, 'closed');

  // shouldReconnect: false means no attempt.
  const again = await new FakeServer().listen(port).catch(() => null);
  if (!again) return; // the port was taken meanwhile: the first part is what matters
  t.after(() => again.close());
  const d = new lib.NanoClient({ url: again.url, reconnect: { delay: 20 }, shouldReconnect: () => false });
  const p = d.connect();
  const conn2 = await again.accept();
  await conn2.handshake(HELLO);
  await p;
  const closed = d.waitFor('close', WAIT);
  conn2.socket.destroy();
  assert.strictEqual((await closed).willReconnect, false);
  assert.strictEqual(d.state, 'closed');

  // close() while waiting to reconnect: final, with a manual close event.
  const e = new lib.NanoClient({ url: again.url, reconnect: { delay: 60000 } });
  const p3 = e.connect();
  const conn3 = await again.accept();
  await conn3.handshake(HELLO);
  await p3;
  const waiting = e.waitFor('reconnecting', WAIT);
  conn3.socket.destroy();
  await waiting;
  assert.strictEqual(e.state, 'reconnecting');
  const final = e.waitFor('close', WAIT);
  await e.close();
  assert.strictEqual((await final).manual, true);
  assert.strictEqual(e.state, 'closed');
});
