// The library's codec against the reference vectors of the nano spec (section 1.12): no server.
'use strict';
const { test } = require('node:test');
const { assert, lib } = require('./helpers');

const { PACKET, MESSAGE, encodePacket, PacketDecoder, encodeMessage, decodeMessage, isErrorReply } = lib.protocol;
const hex = (s) => Uint8Array.from(s.trim().split(/\s+/).map((b) => parseInt(b, 16)));
const text = (s) => new TextEncoder().encode(s);
const cat = (...parts) => Uint8Array.from(parts.flatMap((p) => Array.from(p)));
const hw = text('hello world');
const dict = { 'test.test.test': 100, 'test.test.test1': 101, 'test.test.test2': 102, 'test.test.test3': 103 };
const abbrs = Object.fromEntries(Object.entries(dict).map(([r, c]) => [c, r]));

test('packets: P1, P2 and the type check (P3)', () => {
  assert.deepStrictEqual(encodePacket(PACKET.HANDSHAKE, text('hello world')), cat(hex('01 00 00 0b'), hw));
  for (const t of [2, 3, 4, 5]) assert.deepStrictEqual(encodePacket(t), hex(`0${t} 00 00 00`));
  assert.throws(() => encodePacket(0), /wrong packet type/);
  assert.throws(() => encodePacket(6), /wrong packet type/);
});

test('stream decoder: P4, P5, P6, P8 and P9', () => {
  let d = new PacketDecoder();
  assert.deepStrictEqual(d.feed(cat(hex('01 00 00 0b'), hw)), [{ type: 1, body: hw }]);
  d = new PacketDecoder();
  assert.deepStrictEqual(d.feed(cat(hex('05 00 00 0b'), hw, hex('01 00 00 00'))),
    [{ type: 5, body: hw }, { type: 1, body: new Uint8Array(0) }]);
  d = new PacketDecoder();
  assert.deepStrictEqual(d.feed(hex('04 00')), []);
  assert.deepStrictEqual(d.feed(hex('00 03 61')), []);
  assert.deepStrictEqual(d.feed(hex('62 63 03 00 00 00')),
    [{ type: 4, body: text('abc') }, { type: 3, body: new Uint8Array(0) }]);
  d = new PacketDecoder();
  assert.deepStrictEqual(d.feed(hex('04 01 00 00')), []); // 64 KiB announced: waits for the body
  assert.throws(() => new PacketDecoder().feed(hex('07 00 00 00')), /wrong packet type/);
});

test('stream decoder: a large body fed a byte at a time', () => {
  const body = new Uint8Array(70000).map((_, i) => i & 0xff);
  const bytes = encodePacket(PACKET.DATA, body);
  const d = new PacketDecoder();
  const got = [];
  for (let i = 0; i < bytes.length; i += 7) got.push(...d.feed(bytes.subarray(i, i + 7)));
  assert.strictEqual(got.length, 1);
  assert.deepStrictEqual(got[0].body, body);
});

test('messages with the dictionary: M1 to M7 both ways', () => {
  const cases = [
    [MESSAGE.REQUEST, 100, 'test.test.test', '01 64 00 64'],
    [MESSAGE.REQUEST, 100, 'test.test.test4', '00 64 0f 74 65 73 74 2e 74 65 73 74 2e 74 65 73 74 34'],
    [MESSAGE.RESPONSE, 100, '', '04 64'],
    [MESSAGE.NOTIFY, 0, 'test.test.test', '03 00 64'],
    [MESSAGE.NOTIFY, 0, 'test.test.test20', '02 10 74 65 73 74 2e 74 65 73 74 2e 74 65 73 74 32 30'],
    [MESSAGE.PUSH, 0, 'test.test.test9', '06 0f 74 65 73 74 2e 74 65 73 74 2e 74 65 73 74 39'],
    [MESSAGE.PUSH, 0, 'test.test.test3', '07 00 67'],
  ];
  for (const [type, id, route, head] of cases) {
    const encoded = encodeMessage(type, id, route, hw, dict);
    assert.deepStrictEqual(encoded, cat(hex(head), hw), `${route} (${type})`);
    const m = decodeMessage(encoded, abbrs);
    assert.deepStrictEqual({ type: m.type, id: m.id, route: m.route, body: Uint8Array.from(m.body) },
      { type, id, route, body: hw });
  }
});

test('varints and edge cases: V1 to V13', () => {
  assert.deepStrictEqual(encodeMessage(MESSAGE.REQUEST, 300, 'a.b', new Uint8Array(0), {}), hex('00 ac 02 03 61 2e 62'));
  assert.deepStrictEqual(encodeMessage(MESSAGE.REQUEST, 16384, 'a.b', new Uint8Array(0), {}), hex('00 80 80 01 03 61 2e 62'));
  assert.deepStrictEqual(encodeMessage(MESSAGE.REQUEST, 2 ** 35, 'a.b', new Uint8Array(0), {}),
    hex('00 80 80 80 80 80 01 03 61 2e 62'));
  assert.strictEqual(decodeMessage(hex('00 80 80 80 80 80 01 03 61 2e 62'), {}).id, 2 ** 35);
  const v4 = decodeMessage(hex('01 01 00 65'), abbrs);
  assert.deepStrictEqual([v4.type, v4.id, v4.route, v4.body.length], [MESSAGE.REQUEST, 1, 'test.test.test1', 0]);
  assert.strictEqual(decodeMessage(hex('10 01 03 61 2e 62'), {}).route, 'a.b'); // bit 4 ignored
  assert.throws(() => decodeMessage(hex('00'), {}), /invalid message/);
  assert.throws(() => decodeMessage(hex('08 00'), {}), /wrong message type/);
  assert.throws(() => decodeMessage(hex('0a 00'), {}), /wrong message type/);
  const v9 = decodeMessage(hex('04 05 7b 7d'), {});
  assert.deepStrictEqual([v9.type, v9.id, new TextDecoder().decode(v9.body)], [MESSAGE.RESPONSE, 5, '{}']);
  assert.throws(() => decodeMessage(hex('02 05 61 62'), {}), /wrong message/);
  assert.throws(() => decodeMessage(hex('03 00 99'), abbrs), /not found in dictionary/);
  assert.throws(() => decodeMessage(hex('03 00'), abbrs), /wrong message/); // nano crashes here
  assert.throws(() => decodeMessage(hex('00 80 80'), {}), /wrong message/);  // unterminated id
  assert.deepStrictEqual(decodeMessage(hex('02 00'), {}).route, '');
  assert.deepStrictEqual(decodeMessage(hex('06 00'), {}).route, '');
  assert.throws(() => encodeMessage(MESSAGE.NOTIFY, 0, 'x'.repeat(256), new Uint8Array(0), {}), /route maxlength/);
});

test('chat traffic: E1, E4, E6 and E7', () => {
  const e1 = encodePacket(PACKET.DATA, encodeMessage(MESSAGE.REQUEST, 1, 'room.join', text('{}'), {}));
  assert.deepStrictEqual(e1, hex('04 00 00 0e 00 01 09 72 6f 6f 6d 2e 6a 6f 69 6e 7b 7d'));
  const body = text(JSON.stringify({ name: 'a', content: 'hi' }));
  assert.deepStrictEqual(encodeMessage(MESSAGE.NOTIFY, 0, 'room.message', body, {}),
    cat(hex('02 0c 72 6f 6f 6d 2e 6d 65 73 73 61 67 65'), body));
  assert.deepStrictEqual(encodePacket(PACKET.HANDSHAKE_ACK), hex('02 00 00 00'));
  assert.deepStrictEqual(encodePacket(PACKET.HEARTBEAT), hex('03 00 00 00'));
});

test('which replies are errors', () => {
  assert.ok(isErrorReply({ code: 404, error: 'route not found' }));
  assert.ok(isErrorReply({ code: 403, error: 'join the room first' }));
  assert.ok(!isErrorReply({ code: 0, result: 'success' }));
  assert.ok(!isErrorReply({ code: 200, error: '' }));
  assert.ok(!isErrorReply({ code: 1 })); // an application's own code, without "error"
  assert.ok(!isErrorReply([404, 'x']));
  assert.ok(!isErrorReply(null));
});

test('the module: CommonJS exports, a class, and the version of package.json', () => {
  const pkg = require('../../apps/client-js/package.json');
  assert.strictEqual(typeof lib, 'function');
  assert.strictEqual(lib.NanoClient, lib);
  assert.strictEqual(lib.VERSION, pkg.version);
  assert.ok(new lib.NanoError('x', 404) instanceof Error);
});
