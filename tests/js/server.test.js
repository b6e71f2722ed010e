// The client against real servers of the build (apps/chat and apps/bench-server), over raw TCP,
// over WebSocket framed by the library, and over Node's global WebSocket when it has one.
'use strict';
const { describe, test, before, after } = require('node:test');
const { assert, lib, WAIT, chatServer, benchServer, transports, client } = require('./helpers');

const servers = {};

before(async () => {
  // A heartbeat of 2 s (clients silent for 4 to 6 s are dropped): every test here also checks
  // that the client keeps its connection alive.
  servers.chat = await chatServer(['--heartbeat', '2']).start();
  servers.bench = await benchServer(['--heartbeat', '2']).start();
  // Bursts of 6 packets at most: a client that sends 40 notifies at once is kicked.
  servers.limited = await benchServer(['--rate-limit', '3', '--rate-burst', '6']).start();
});

after(async () => {
  for (const s of Object.values(servers)) {
    await s.stop();
    if (s.log.trim()) process.stderr.write(`--- ${s.bin} said:\n${s.log}\n`);
  }
});

for (const tr of transports()) {
  describe(tr.name, () => {
    const open = async (t, server, options) => {
      const c = client(t, Object.assign({ url: tr.url(server.ports) }, tr.options, options));
      await c.connect();
      return c;
    };

    test('handshake: the response, its heartbeat, no dictionary', async (t) => {
      const c = client(t, Object.assign({ url: tr.url(servers.chat.ports), user: { name: 'js' } }, tr.options));
      const hs = await c.connect();
      assert.strictEqual(hs.code, 200);
      assert.strictEqual(hs.sys.heartbeat, 2);
      assert.strictEqual(typeof hs.sys.servertime, 'number');
      assert.strictEqual(c.heartbeatInterval, 2000);
      assert.deepStrictEqual(c.dict, {});
      assert.strictEqual(c.state, 'open');
    });

    test('request and response: JSON', async (t) => {
      const c = await open(t, servers.bench);
      const body = { a: 1, s: 'héllo ✓', list: [1, 2, { x: null }], nested: { deep: true } };
      assert.deepStrictEqual(await c.request('bench.echojson', body), body);
      // Several in flight at once, answered in any order, each to its own promise.
      const many = await Promise.all(Array.from({ length: 20 }, (_, i) => c.request('bench.echojson', { i })));
      assert.deepStrictEqual(many.map((m) => m.i), Array.from({ length: 20 }, (_, i) => i));
    });

    test('request and response: raw bytes (Uint8Array and Buffer)', async (t) => {
      const c = await open(t, servers.bench);
      const bytes = new Uint8Array(40000).map((_, i) => (i * 7) & 0xff); // several WS frames / TCP reads
      const back = await c.request('bench.echo', bytes);
      assert.ok(back instanceof Uint8Array);
      assert.deepStrictEqual(Buffer.from(back), Buffer.from(bytes));
      const buf = Buffer.from([0, 255, 1, 254]);
      assert.deepStrictEqual(Buffer.from(await c.request('bench.echo', buf)), buf);
      // A JSON body to a raw route, read back as JSON.
      assert.deepStrictEqual(await c.request('bench.echo', { j: 1 }), { j: 1 });
    });

    test('notify and pushes: the chat room', async (t) => {
      const a = await open(t, servers.chat);
      const b = await open(t, servers.chat);
      const members = a.waitFor('onMembers', WAIT);
      assert.deepStrictEqual(await a.request('room.join', {}), { code: 0, result: 'success' });
      assert.ok('members' in await members);
      const newUser = a.waitFor('onNewUser', WAIT);
      await b.request('room.join', {});
      assert.match((await newUser).content, /^New user: \d+$/);
      const message = b.waitFor('onMessage', WAIT);
      assert.strictEqual(a.notify('room.message', { name: 'alice', content: 'hi ' + tr.name }), true);
      assert.deepStrictEqual(await message, { name: 'alice', content: 'hi ' + tr.name });
    });

    test('error replies reject with the server\'s code and text', async (t) => {
      const c = await open(t, servers.chat);
      await assert.rejects(c.request('room.nosuch', {}), (e) => {
        assert.ok(e instanceof lib.NanoError);
        assert.strictEqual(e.code, 404);
        assert.strictEqual(e.route, 'room.nosuch');
        assert.strictEqual(typeof e.id, 'number');
        assert.strictEqual(e.message, e.error);
        assert.deepStrictEqual(e.reply, { code: 404, error: e.error });
        return true;
      });
      // A handler's own handler_error(403, ...).
      await assert.rejects(c.request('room.message', { name: 'x', content: 'y' }),
        (e) => e.code === 403 && e.error === 'join the room first');
      const d = await open(t, servers.bench);
      // A payload that does not decode (400), sent raw: the error reply is still recognised.
      await assert.rejects(d.request('bench.echojson', new TextEncoder().encode('not json')),
        (e) => e.code === 400 && e.route === 'bench.echojson');
      // The connection is fine afterwards.
      assert.deepStrictEqual(await d.request('bench.echojson', { ok: 1 }), { ok: 1 });
    });

    test('kick: the rate limit\'s reason', async (t) => {
      const c = await open(t, servers.limited);
      const kicked = c.waitFor('kick', WAIT);
      const closed = c.waitFor('close', WAIT);
      for (let i = 0; i < 40; i++) c.notify('bench.notify', { i });
      assert.deepStrictEqual(await kicked, { reason: 'rate limit exceeded' });
      const info = await closed;
      assert.strictEqual(info.kicked, true);
      assert.strictEqual(info.reason, 'rate limit exceeded');
      assert.strictEqual(c.state, 'closed');
      await assert.rejects(c.request('bench.echojson', {}), (e) => e.code === 'ENOTCONNECTED');
    });

    test('close(): clean, then connect() again', async (t) => {
      const c = await open(t, servers.bench);
      const closed = c.waitFor('close', WAIT);
      await c.close();
      const info = await closed;
      assert.strictEqual(info.manual, true);
      assert.strictEqual(info.kicked, false);
      assert.strictEqual(c.state, 'closed');
      // And it connects again.
      await c.connect();
      assert.deepStrictEqual(await c.request('bench.echojson', { again: true }), { again: true });
    });
  });
}

test('heartbeats: idle through four server heartbeats, still connected (every transport at once)', async (t) => {
  const clients = [];
  for (const tr of transports()) {
    const c = client(t, Object.assign({ url: tr.url(servers.chat.ports) }, tr.options));
    await c.connect();
    c.on('close', (info) => { c.closedWith = info; });
    clients.push(c);
  }
  // The server drops a client silent for 2 to 3 intervals: four heartbeats (about 8 s) without
  // traffic pass only if the client answers them; the client's own timeout must not fire either.
  await Promise.all(clients.map(async (c) => {
    for (let n = 0; n < 4; n++) await c.waitFor('heartbeat', WAIT);
  }));
  for (const c of clients) {
    assert.strictEqual(c.closedWith, undefined);
    assert.strictEqual(c.state, 'open');
    assert.deepStrictEqual(await c.request('room.join', {}), { code: 0, result: 'success' });
  }
});

test('a validator\'s refusal (--min-client-version) rejects connect()', async (t) => {
  const strict = await chatServer(['--min-client-version', '2.0.0']).start();
  t.after(() => strict.stop());
  const old = client(t, { url: `tcp://127.0.0.1:${strict.ports.tcp}` });
  await assert.rejects(old.connect(), (e) => e.code === 'EHANDSHAKE');
  const recent = client(t, { url: `tcp://127.0.0.1:${strict.ports.tcp}`, version: '2.1.0' });
  assert.strictEqual((await recent.connect()).code, 200);
});

test('server shutdown: every client is kicked with "server shutdown"', async (t) => {
  const s = await chatServer().start();
  t.after(() => s.stop());
  const clients = [];
  for (const tr of transports()) {
    const c = client(t, Object.assign({ url: tr.url(s.ports) }, tr.options));
    await c.connect();
    clients.push(c);
  }
  const kicks = clients.map((c) => c.waitFor('kick', WAIT));
  const closes = clients.map((c) => c.waitFor('close', WAIT));
  s.signal('SIGTERM');
  for (const k of await Promise.all(kicks)) assert.deepStrictEqual(k, { reason: 'server shutdown' });
  for (const info of await Promise.all(closes)) assert.strictEqual(info.reason, 'server shutdown');
});

test('reconnect: a client comes back by itself after a server restart', async (t) => {
  const s = await benchServer().start();
  t.after(() => s.stop());
  const list = [];
  for (const tr of transports()) {
    const c = client(t, Object.assign({
      url: tr.url(s.ports), reconnect: { delay: 200, factor: 1.5, maxDelay: 1000, retries: 100 },
    }, tr.options));
    await c.connect();
    c.lost = c.waitFor('close', WAIT);
    c.back = c.waitFor('reconnected', 3 * WAIT);
    list.push(c);
  }
  await s.stop('SIGKILL'); // no kick: the connections just drop
  for (const c of list) assert.strictEqual((await c.lost).willReconnect, true);
  await s.start(s.ports); // the same ports
  for (const c of list) {
    await c.back;
    assert.strictEqual(c.state, 'open');
    assert.deepStrictEqual(await c.request('bench.echojson', { back: 1 }), { back: 1 });
  }
});
