// Shared by the client tests: the library, real server processes on free loopback ports, and a
// scripted fake server for what no bundled server does (a route dictionary, going silent).
'use strict';
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const lib = require(path.join(root, 'apps', 'client-js', 'nanocaf.js'));

// Generous: a loaded 2-core machine (or a sanitizer build) may be slow to start or answer.
const WAIT = 20000;

// The server binaries: from the environment (CTest sets them), else the default build folder.
function binary(name, envName) {
  const p = process.env[envName] || path.join(root, 'build', 'apps', name);
  if (!fs.existsSync(p)) throw new Error(`${p} does not exist (build it, or set ${envName})`);
  return p;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

// A server process. start() picks free ports, runs `binary args(ports)`, and resolves once every
// port accepts connections; it tries again on other ports if the process exits first (a port
// taken between the check and the bind). stop() sends SIGTERM (SIGKILL after 10 s).
class ServerProcess {
  constructor(bin, makeArgs, portNames) {
    this.bin = bin;
    this.makeArgs = makeArgs;
    this.portNames = portNames;
    this.log = '';
    this.proc = null;
  }

  async start(fixedPorts) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const ports = fixedPorts || {};
      for (const name of this.portNames) if (!ports[name]) ports[name] = await freePort();
      this.ports = ports;
      const proc = spawn(this.bin, this.makeArgs(ports), { stdio: ['ignore', 'pipe', 'pipe'] });
      this.proc = proc;
      this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
      proc.stdout.on('data', (d) => { this.log += d; });
      proc.stderr.on('data', (d) => { this.log += d; });
      let gone = false;
      this.exited.then(() => { gone = true; });
      const deadline = Date.now() + WAIT;
      let ready = false;
      while (!gone && Date.now() < deadline) {
        const open = await Promise.all(this.portNames.map((n) => canConnect(ports[n])));
        if (open.every(Boolean)) { ready = true; break; }
        await delay(50);
      }
      if (ready && !gone) return this;
      if (!gone) {
        await this.stop();
        throw new Error(`${path.basename(this.bin)} did not open its ports in ${WAIT} ms:\n${this.log}`);
      }
      if (fixedPorts) throw new Error(`${path.basename(this.bin)} exited at start:\n${this.log}`);
    }
    throw new Error(`${path.basename(this.bin)} would not start:\n${this.log}`);
  }

  signal(sig) {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(sig);
  }

  async stop(sig = 'SIGTERM') {
    if (!this.proc) return null;
    this.signal(sig);
    const timer = setTimeout(() => this.signal('SIGKILL'), 10000);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}

// The bundled chat demo (room.join, room.message; pushes onMembers, onNewUser, onMessage).
function chatServer(extra = []) {
  return new ServerProcess(binary('chat', 'NANOCAF_CHAT'),
    (p) => ['--tcp', `127.0.0.1:${p.tcp}`, '--ws', `127.0.0.1:${p.ws}`, '--log-level', 'warn', ...extra],
    ['tcp', 'ws']);
}

// The bench server (bench.echo raw, bench.echojson, bench.notify, bench.join, bench.broadcast).
function benchServer(extra = []) {
  return new ServerProcess(binary('bench-server', 'NANOCAF_BENCH_SERVER'),
    (p) => ['--tcp', `127.0.0.1:${p.tcp}`, '--ws', `127.0.0.1:${p.ws}`, '--log-level', 'warn', ...extra],
    ['tcp', 'ws']);
}

// The ways this Node can reach a server: raw TCP, WebSocket framed by the library itself, and
// (when Node has one: Node 22, or 20 with --experimental-websocket) Node's global WebSocket,
// the code path browsers take.
function transports() {
  const list = [
    { name: 'tcp', url: (p) => `tcp://127.0.0.1:${p.tcp}`, options: {} },
    { name: 'ws (built-in framing)', url: (p) => `ws://127.0.0.1:${p.ws}/nano`, options: { transport: 'node' } },
  ];
  if (typeof globalThis.WebSocket === 'function') {
    list.push({ name: 'ws (global WebSocket)', url: (p) => `ws://127.0.0.1:${p.ws}/nano`, options: { transport: 'websocket' } });
  } else {
    process.stderr.write('note: no global WebSocket in this Node; the WebSocket-API path is tested in Chromium only\n');
  }
  return list;
}

// A client whose connection is closed after the test (t.after) whatever happens.
function client(t, options) {
  const c = new lib.NanoClient(Object.assign({ connectTimeout: WAIT, timeout: WAIT }, options));
  t.after(() => c.close());
  return c;
}

// ------------------------------------------------------------------------------------------
// The fake server: a TCP listener whose connections are scripted by the test. Each connection
// decodes packets with the library's own decoder and records them.

class FakeConnection {
  constructor(socket) {
    this.socket = socket;
    this.decoder = new lib.protocol.PacketDecoder();
    this.packets = [];
    this.waiters = [];
    this.closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('data', (chunk) => {
      for (const p of this.decoder.feed(chunk)) {
        this.packets.push(p);
        this.waiters = this.waiters.filter((w) => !w());
      }
    });
    socket.on('error', () => {});
  }

  // The next packet of `type` not yet taken (waits for it).
  next(type, timeout = WAIT) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no packet of type ${type} in ${timeout} ms`)), timeout);
      const check = () => {
        const i = this.packets.findIndex((p) => p.type === type);
        if (i < 0) return false;
        clearTimeout(timer);
        resolve(this.packets.splice(i, 1)[0]);
        return true;
      };
      if (!check()) this.waiters.push(check);
    });
  }

  send(type, body) {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    this.socket.write(lib.protocol.encodePacket(type, bytes));
  }

  // Reads the handshake, answers it with `response`, and waits for the ack. Returns the
  // client's handshake request (parsed).
  async handshake(response) {
    const hs = await this.next(lib.protocol.PACKET.HANDSHAKE);
    this.send(lib.protocol.PACKET.HANDSHAKE, JSON.stringify(response));
    await this.next(lib.protocol.PACKET.HANDSHAKE_ACK);
    return JSON.parse(Buffer.from(hs.body).toString());
  }
}

class FakeServer {
  constructor() {
    this.connections = [];
    this.waiters = [];
    this.server = net.createServer((socket) => {
      const c = new FakeConnection(socket);
      this.connections.push(c);
      const w = this.waiters.shift();
      if (w) w(c);
    });
  }

  listen(port = 0) {
    return new Promise((resolve) => this.server.listen(port, '127.0.0.1', () => {
      this.port = this.server.address().port;
      resolve(this);
    }));
  }

  get url() {
    return `tcp://127.0.0.1:${this.port}`;
  }

  // The next connection not yet taken.
  accept(timeout = WAIT) {
    const taken = this.taken || 0;
    if (this.connections.length > taken) {
      this.taken = taken + 1;
      return Promise.resolve(this.connections[taken]);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no connection')), timeout);
      this.waiters.push((c) => { clearTimeout(timer); this.taken = (this.taken || 0) + 1; resolve(c); });
    });
  }

  close() {
    for (const c of this.connections) c.socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

module.exports = {
  assert, lib, WAIT, delay, freePort, ServerProcess, chatServer, benchServer, transports, client,
  FakeServer, tmpdir: os.tmpdir(),
};
