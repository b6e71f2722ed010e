/*!
 * nanocaf.js: a client for nanocaf, nano and pomelo servers (the pomelo "hybrid" protocol), for
 * browsers and Node. One file, no dependencies. MIT licence. Documented in docs/client-js.md.
 *
 *   const client = new NanoClient({ url: 'ws://127.0.0.1:3250/nano' }); // or tcp://host:port (Node)
 *   client.on('onMessage', msg => console.log(msg));                   // a push
 *   await client.connect();                                             // handshake done
 *   const reply = await client.request('room.join', {});               // rejects on error replies
 *   client.notify('room.message', { name: 'me', content: 'hi' });
 *   await client.close();
 *
 * Browsers: <script src="nanocaf.js"></script> defines window.NanoClient.
 * Node: const { NanoClient } = require('./nanocaf.js') (or `const NanoClient = require(...)`).
 * WebSocket in Node: the WebSocket option (e.g. the `ws` package), else globalThis.WebSocket,
 * else the built-in client of this file over `net`/`tls`. Raw TCP: tcp:// and tls:// URLs.
 */
(function (root, factory) {
  'use strict';
  const lib = factory(root);
  if (typeof module === 'object' && module && module.exports) {
    // Written out so that Node's ESM import sees the names: import { NanoClient } from ...
    module.exports = lib.NanoClient;
    module.exports.NanoClient = lib.NanoClient;
    module.exports.NanoError = lib.NanoError;
    module.exports.protocol = lib.protocol;
    module.exports.VERSION = lib.VERSION;
  } else {
    root.NanoClient = lib.NanoClient;
  }
})(typeof globalThis !== 'undefined' ? globalThis : typeof self !== 'undefined' ? self : this, function (root) {
  'use strict';

  const VERSION = '0.1.0';

  // ---------------------------------------------------------------------------------------
  // Protocol: packets (type, 3-byte big-endian length, body) and messages (flag, varint id,
  // route as a string or a 2-byte dictionary code, payload). See the spec's section 1.

  const PACKET = { HANDSHAKE: 1, HANDSHAKE_ACK: 2, HEARTBEAT: 3, DATA: 4, KICK: 5 };
  const MESSAGE = { REQUEST: 0, NOTIFY: 1, RESPONSE: 2, PUSH: 3 };
  const MAX_BODY = 0xffffff;
  const utf8Encoder = new TextEncoder();
  const utf8Decoder = new TextDecoder();
  const EMPTY = new Uint8Array(0);

  function protocolError(text) {
    return new NanoError(text, 'EPROTOCOL');
  }

  function encodePacket(type, body) {
    const bytes = body || EMPTY;
    if (type < PACKET.HANDSHAKE || type > PACKET.KICK) throw protocolError('wrong packet type');
    if (bytes.length > MAX_BODY) throw protocolError('packet body over 16 MiB');
    const out = new Uint8Array(4 + bytes.length);
    out[0] = type;
    out[1] = (bytes.length >> 16) & 0xff;
    out[2] = (bytes.length >> 8) & 0xff;
    out[3] = bytes.length & 0xff;
    out.set(bytes, 4);
    return out;
  }

  // A stream decoder: feed it bytes as they arrive (a packet may span chunks, a chunk may hold
  // several packets); it returns the complete packets. Throws on a bad packet type.
  class PacketDecoder {
    constructor() {
      this.buf = new Uint8Array(1024);
      this.start = 0;
      this.end = 0;
    }

    feed(bytes) {
      this.append(bytes);
      const packets = [];
      while (this.end - this.start >= 4) {
        const b = this.buf;
        const s = this.start;
        const type = b[s];
        if (type < PACKET.HANDSHAKE || type > PACKET.KICK) throw protocolError('wrong packet type ' + type);
        const len = (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3];
        if (this.end - s - 4 < len) break;
        packets.push({ type, body: b.slice(s + 4, s + 4 + len) });
        this.start = s + 4 + len;
      }
      if (this.start === this.end) this.start = this.end = 0;
      return packets;
    }

    append(bytes) {
      const need = this.end - this.start + bytes.length;
      if (this.end + bytes.length > this.buf.length) {
        if (need <= this.buf.length) {
          this.buf.copyWithin(0, this.start, this.end);
        } else {
          let size = this.buf.length * 2;
          while (size < need) size *= 2;
          const grown = new Uint8Array(size);
          grown.set(this.buf.subarray(this.start, this.end), 0);
          this.buf = grown;
        }
        this.end -= this.start;
        this.start = 0;
      }
      this.buf.set(bytes, this.end);
      this.end += bytes.length;
    }
  }

  function encodeMessage(type, id, route, payload, dict) {
    const head = [];
    const hasRoute = type === MESSAGE.REQUEST || type === MESSAGE.NOTIFY || type === MESSAGE.PUSH;
    const code = hasRoute && dict && Object.prototype.hasOwnProperty.call(dict, route) ? dict[route] : undefined;
    head.push((type << 1) | (code !== undefined ? 1 : 0));
    if (type === MESSAGE.REQUEST || type === MESSAGE.RESPONSE) {
      let n = id;
      do {
        let b = n % 128;
        n = Math.floor(n / 128);
        if (n > 0) b |= 0x80;
        head.push(b);
      } while (n > 0);
    }
    if (hasRoute) {
      if (code !== undefined) {
        head.push((code >> 8) & 0xff, code & 0xff);
      } else {
        const r = utf8Encoder.encode(route);
        if (r.length > 255) throw new NanoError('route maxlength is overflow', 'EINVAL');
        head.push(r.length);
        for (let i = 0; i < r.length; i++) head.push(r[i]);
      }
    }
    const out = new Uint8Array(head.length + payload.length);
    out.set(head, 0);
    out.set(payload, head.length);
    return out;
  }

  // Throws a protocol error on a malformed message (as the server's decoder does).
  function decodeMessage(bytes, abbrs) {
    if (bytes.length < 2) throw protocolError('invalid message');
    const flag = bytes[0];
    const type = (flag >> 1) & 0x07;
    if (type > MESSAGE.PUSH) throw protocolError('wrong message type');
    let pos = 1;
    let id = 0;
    if (type === MESSAGE.REQUEST || type === MESSAGE.RESPONSE) {
      let mul = 1;
      for (;;) {
        if (pos >= bytes.length) throw protocolError('wrong message');
        const b = bytes[pos++];
        id += (b & 0x7f) * mul;
        mul *= 128;
        if (b < 0x80) break;
      }
    }
    let route = '';
    if (type !== MESSAGE.RESPONSE) {
      if (flag & 1) {
        if (pos + 2 > bytes.length) throw protocolError('wrong message');
        const code = (bytes[pos] << 8) | bytes[pos + 1];
        pos += 2;
        if (!abbrs || !Object.prototype.hasOwnProperty.call(abbrs, code)) {
          throw protocolError('route info not found in dictionary: ' + code);
        }
        route = abbrs[code];
      } else {
        const len = bytes[pos++];
        if (pos + len > bytes.length) throw protocolError('wrong message');
        route = utf8Decoder.decode(bytes.subarray(pos, pos + len));
        pos += len;
      }
    }
    return { type, id, route, body: bytes.subarray(pos) };
  }

  // ---------------------------------------------------------------------------------------
  // Payloads: bytes (Uint8Array, Buffer, ArrayBuffer, any typed array or DataView) go as they
  // are; anything else as JSON (undefined as {}).

  function isBytes(v) {
    return v instanceof Uint8Array || (typeof ArrayBuffer !== 'undefined' &&
      (v instanceof ArrayBuffer || ArrayBuffer.isView(v)));
  }

  function toBytes(v) {
    if (v instanceof Uint8Array) return v;
    if (v instanceof ArrayBuffer) return new Uint8Array(v);
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }

  function encodePayload(msg) {
    if (isBytes(msg)) return toBytes(msg);
    return utf8Encoder.encode(JSON.stringify(msg === undefined ? {} : msg));
  }

  const NOT_JSON = {};
  function parseJson(bytes) {
    if (!bytes.length) return null;
    try {
      return JSON.parse(utf8Decoder.decode(bytes));
    } catch (e) {
      return NOT_JSON;
    }
  }

  // nanocaf's error replies are {"code":n,"error":"text"} (404 unknown route, 400 payload that
  // does not decode, 500 a handler that threw, or the code of the handler's handler_error; the
  // cluster adds 503 and 504). nano's demos answer {"code":0,...} on success.
  function defaultIsError(body) {
    return body !== null && typeof body === 'object' && !Array.isArray(body) &&
      typeof body.code === 'number' && body.code !== 0 && body.code !== 200 &&
      typeof body.error === 'string';
  }

  // ---------------------------------------------------------------------------------------
  // Errors. `code` is the server's number for error replies, or a string for local failures:
  // ETIMEDOUT (no reply in time), ECLOSED (the connection closed first), ENOTCONNECTED,
  // ECONNECT (could not connect), EHANDSHAKE (refused or failed handshake), EPROTOCOL, EINVAL.

  class NanoError extends Error {
    constructor(message, code, extra) {
      super(message);
      this.name = 'NanoError';
      this.code = code;
      if (extra) Object.assign(this, extra);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Transports. Each has send(bytes), close(), and calls onopen(), ondata(Uint8Array),
  // onclose({code, reason, error}) once.

  function nodeModule(name) {
    // module.require keeps bundlers from pulling Node's modules into a browser build.
    if (typeof module === 'object' && module && typeof module.require === 'function') return module.require(name);
    throw new NanoError(name + ' is only available in Node', 'EINVAL');
  }

  function isNode() {
    return typeof process === 'object' && process && process.versions && !!process.versions.node;
  }

  // The WebSocket API (browsers, Node's global WebSocket, the `ws` package).
  class WebSocketTransport {
    constructor(url, Impl, options) {
      const ws = options.protocols ? new Impl(url, options.protocols) : new Impl(url);
      this.ws = ws;
      this.closed = false;
      this.chain = null; // orders Blob conversions, should an implementation hand out Blobs
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => this.onopen();
      ws.onmessage = (ev) => this.receive(ev.data);
      ws.onerror = (ev) => {
        this.error = new NanoError((ev && ev.message) || 'websocket error', 'ECONNECT');
      };
      ws.onclose = (ev) => this.finish({ code: ev.code, reason: ev.reason, error: this.error });
    }

    receive(data) {
      if (this.closed) return;
      if (typeof data === 'string') {
        this.ondata(utf8Encoder.encode(data));
      } else if (typeof Blob !== 'undefined' && data instanceof Blob) {
        this.chain = (this.chain || Promise.resolve())
          .then(() => data.arrayBuffer())
          .then((buf) => { if (!this.closed) this.ondata(new Uint8Array(buf)); });
      } else if (Array.isArray(data)) { // the ws package with binaryType 'fragments'
        for (const part of data) this.ondata(toBytes(part));
      } else {
        this.ondata(toBytes(data));
      }
    }

    send(bytes) {
      if (this.ws.readyState === 1) this.ws.send(bytes);
    }

    // force: report the close now rather than after the close handshake (a silent peer).
    close(force) {
      try {
        this.ws.close(1000);
      } catch (e) {
        this.finish({ code: 1006, reason: '', error: e });
      }
      if (force) this.finish({ code: 1006, reason: '', error: this.error });
    }

    finish(info) {
      if (this.closed) return;
      this.closed = true;
      this.onclose(info);
    }
  }

  // Node: raw TCP (tcp://), TLS (tls://), and WebSocket (ws://, wss://) framed here (RFC 6455,
  // client side: masked frames out, one binary frame per packet; pings answered).
  class NodeTransport {
    constructor(url, options) {
      const net = nodeModule('net');
      this.url = url;
      this.closed = false;
      this.websocket = url.protocol === 'ws:' || url.protocol === 'wss:';
      const secure = url.protocol === 'tls:' || url.protocol === 'wss:';
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      const port = Number(url.port) || (url.protocol === 'wss:' ? 443 : url.protocol === 'ws:' ? 80 : 0);
      if (!port) throw new NanoError('no port in ' + url.href, 'EINVAL');
      const opened = () => {
        this.connected = true;
        if (this.websocket) this.upgrade(options);
        else this.onopen();
      };
      if (secure) {
        const tls = nodeModule('tls');
        const tlsOpts = Object.assign({ host, port, servername: net.isIP(host) ? undefined : host }, options.tls || {});
        this.socket = tls.connect(tlsOpts, opened);
      } else {
        this.socket = net.connect({ host, port }, opened);
      }
      this.socket.setNoDelay(true);
      this.socket.on('data', (chunk) => this.receive(chunk));
      this.socket.on('error', (e) => { this.error = new NanoError(e.message, 'ECONNECT', { cause: e }); });
      this.socket.on('close', () => this.finish({ code: this.closeCode || 1006, reason: this.closeReason || '', error: this.error }));
    }

    upgrade(options) {
      const crypto = nodeModule('crypto');
      this.key = crypto.randomBytes(16).toString('base64');
      this.expectAccept = crypto.createHash('sha1')
        .update(this.key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      this.crypto = crypto;
      this.handshaking = true;
      this.head = Buffer.alloc(0);
      this.frames = Buffer.alloc(0);
      const u = this.url;
      const lines = [
        'GET ' + (u.pathname || '/') + (u.search || '') + ' HTTP/1.1',
        'Host: ' + u.host,
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Key: ' + this.key,
        'Sec-WebSocket-Version: 13',
      ];
      if (options.protocols) lines.push('Sec-WebSocket-Protocol: ' + [].concat(options.protocols).join(', '));
      const headers = options.headers || {};
      for (const name of Object.keys(headers)) lines.push(name + ': ' + headers[name]);
      this.socket.write(lines.join('\r\n') + '\r\n\r\n');
    }

    receive(chunk) {
      if (this.closed) return;
      if (!this.websocket) {
        this.ondata(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
        return;
      }
      if (this.handshaking) {
        this.head = Buffer.concat([this.head, chunk]);
        const end = this.head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (this.head.length > 16384) this.fail('websocket upgrade: response too long');
          return;
        }
        const text = this.head.subarray(0, end).toString('latin1');
        const rest = this.head.subarray(end + 4);
        this.head = null;
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
        const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(text);
        if (!status || status[1] !== '101') {
          this.fail('websocket upgrade refused: ' + text.split('\r\n')[0]);
          return;
        }
        if (!accept || accept[1] !== this.expectAccept) {
          this.fail('websocket upgrade: bad Sec-WebSocket-Accept');
          return;
        }
        this.handshaking = false;
        this.onopen();
        if (rest.length) this.receiveFrames(rest);
        return;
      }
      this.receiveFrames(chunk);
    }

    // Data frames (binary, text and their continuations) carry the packet stream: their
    // boundaries do not matter, so their payloads go on as they are. Control frames are handled.
    receiveFrames(chunk) {
      this.frames = this.frames.length ? Buffer.concat([this.frames, chunk]) : chunk;
      let buf = this.frames;
      while (!this.closed && buf.length >= 2) {
        const opcode = buf[0] & 0x0f;
        const masked = (buf[1] & 0x80) !== 0;
        let len = buf[1] & 0x7f;
        let pos = 2;
        if (len === 126) {
          if (buf.length < 4) break;
          len = buf.readUInt16BE(2);
          pos = 4;
        } else if (len === 127) {
          if (buf.length < 10) break;
          len = buf.readUInt32BE(2) * 0x100000000 + buf.readUInt32BE(6);
          pos = 10;
        }
        const maskAt = pos;
        if (masked) pos += 4;
        if (buf.length < pos + len) break;
        let payload = buf.subarray(pos, pos + len);
        if (masked) {
          payload = Buffer.from(payload);
          for (let i = 0; i < payload.length; i++) payload[i] ^= buf[maskAt + (i & 3)];
        }
        buf = buf.subarray(pos + len);
        if (opcode === 0 || opcode === 1 || opcode === 2) {
          if (payload.length) this.ondata(new Uint8Array(payload.buffer, payload.byteOffset, payload.length));
        } else if (opcode === 8) { // close: answer it (once), then the server ends the socket
          this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
          this.closeReason = payload.length > 2 ? payload.subarray(2).toString('utf8') : '';
          this.sendFrame(8, payload.subarray(0, 2));
          this.socket.end();
          this.endTimer();
        } else if (opcode === 9) { // ping
          this.sendFrame(10, payload);
        } // pongs (10) and unknown opcodes are ignored
      }
      this.frames = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
    }

    sendFrame(opcode, payload) {
      if (this.socket.destroyed || this.sentClose) return;
      if (opcode === 8) this.sentClose = true;
      const len = payload.length;
      const headLen = len < 126 ? 2 : len < 65536 ? 4 : 10;
      const frame = Buffer.allocUnsafe(headLen + 4 + len);
      frame[0] = 0x80 | opcode;
      if (len < 126) {
        frame[1] = 0x80 | len;
      } else if (len < 65536) {
        frame[1] = 0x80 | 126;
        frame.writeUInt16BE(len, 2);
      } else {
        frame[1] = 0x80 | 127;
        frame.writeUInt32BE(Math.floor(len / 0x100000000), 2);
        frame.writeUInt32BE(len >>> 0, 6);
      }
      const mask = this.crypto.randomBytes(4);
      mask.copy(frame, headLen);
      const at = headLen + 4;
      for (let i = 0; i < len; i++) frame[at + i] = payload[i] ^ mask[i & 3];
      this.socket.write(frame);
    }

    send(bytes) {
      if (this.closed || this.socket.destroyed) return;
      if (this.websocket) {
        if (!this.handshaking) this.sendFrame(2, bytes);
      } else {
        this.socket.write(bytes);
      }
    }

    // force (or not connected yet): destroy the socket rather than end it politely.
    close(force) {
      if (this.closed) return;
      if (force || !this.connected) {
        this.socket.destroy();
      } else if (this.websocket && !this.handshaking) {
        const code = Buffer.alloc(2);
        code.writeUInt16BE(1000, 0);
        this.sendFrame(8, code);
        this.closeCode = 1000;
        this.endTimer();
      } else {
        this.socket.end();
        this.endTimer();
      }
    }

    // A peer that does not finish the close in a second gets its socket destroyed.
    endTimer() {
      if (this.destroyTimer) return;
      this.destroyTimer = setTimeout(() => this.socket.destroy(), 1000);
      if (this.destroyTimer.unref) this.destroyTimer.unref();
    }

    fail(text) {
      this.error = new NanoError(text, 'ECONNECT');
      this.socket.destroy();
    }

    finish(info) {
      if (this.closed) return;
      this.closed = true;
      clearTimeout(this.destroyTimer);
      this.onclose(info);
    }
  }

  // ---------------------------------------------------------------------------------------
  // The client.

  const DEFAULTS = {
    url: '',
    user: undefined,          // the handshake's "user" object
    version: VERSION,         // the handshake's sys.version (checked by --min-client-version)
    type: 'nanocaf-js',       // the handshake's sys.type
    sys: undefined,           // more fields for the handshake's "sys" object
    transport: 'auto',        // 'auto', 'websocket' (the WebSocket API) or 'node' (net/tls)
    WebSocket: undefined,     // a WebSocket class (default: globalThis.WebSocket)
    protocols: undefined,     // WebSocket subprotocols
    headers: undefined,       // extra HTTP headers for the upgrade (Node's own WebSocket only)
    tls: undefined,           // options for tls.connect (Node: tls:// and wss://)
    connectTimeout: 10000,    // ms until connect() gives up (socket and handshake)
    timeout: 10000,           // ms a request waits for its reply (0: forever)
    heartbeatTimeout: 0,      // ms of silence that closes the connection (0: twice the interval)
    reconnect: false,         // true or { retries, delay, maxDelay, factor }
    shouldReconnect: null,    // (info) => boolean; default: reconnect unless kicked
    isError: defaultIsError,  // (body) => boolean: which JSON replies reject
  };

  const RECONNECT_DEFAULTS = { retries: Infinity, delay: 1000, maxDelay: 30000, factor: 2 };

  // Listener errors must not break the packet loop: they are rethrown on their own.
  function rethrow(e) {
    setTimeout(() => { throw e; }, 0);
  }

  class NanoClient {
    constructor(options) {
      if (typeof options === 'string') options = { url: options };
      this.options = Object.assign({}, DEFAULTS, options || {});
      this.state = 'closed'; // closed, connecting, handshaking, open, reconnecting, closing
      this.handshake = null; // the last handshake response
      this.dict = {};        // route -> code, from the handshake
      this.abbrs = {};       // code -> route
      this.heartbeatInterval = 0; // ms, from the handshake
      this.nextId = 1;
      this._listeners = new Map();
      this._pending = new Map(); // id -> { resolve, reject, route, raw, timer }
      this._transport = null;
      this._connecting = null;   // { resolve, reject, timer } while connect() is under way
      this._closeWaiters = [];
      this._heartbeatTimer = null;
      this._timeoutTimer = null;
      this._deadline = 0;
      this._reconnectTimer = null;
      this._attempt = 0;
      this._manual = false;
      this._kick = null;
      this._heartbeatTimedOut = false;
    }

    // --- events ---------------------------------------------------------------------------
    // Lifecycle: 'connected' (handshake response, {reconnected}), 'reconnected', 'close'
    // (info), 'kick' (body), 'heartbeatTimeout', 'reconnecting' ({attempt, delay}),
    // 'reconnectFailed' ({attempts, error}), 'error' (NanoError), 'heartbeat'. Pushes: the
    // route's name, (data, bytes); 'push' gets every push as (route, data, bytes).

    on(event, fn) {
      if (!this._listeners.has(event)) this._listeners.set(event, []);
      this._listeners.get(event).push(fn);
      return this;
    }

    once(event, fn) {
      const wrapper = (...args) => {
        this.off(event, wrapper);
        fn.apply(this, args);
      };
      wrapper.listener = fn;
      return this.on(event, wrapper);
    }

    off(event, fn) {
      if (fn === undefined) {
        if (event === undefined) this._listeners.clear();
        else this._listeners.delete(event);
        return this;
      }
      const list = this._listeners.get(event);
      if (!list) return this;
      const i = list.findIndex((l) => l === fn || l.listener === fn);
      if (i >= 0) list.splice(i, 1);
      if (!list.length) this._listeners.delete(event);
      return this;
    }

    // Resolves with the event's first argument the next time it fires; rejects after
    // `timeout` ms (if given) with ETIMEDOUT.
    waitFor(event, timeout) {
      return new Promise((resolve, reject) => {
        let timer = null;
        const fn = (arg) => {
          clearTimeout(timer);
          resolve(arg);
        };
        this.once(event, fn);
        if (timeout) {
          timer = setTimeout(() => {
            this.off(event, fn);
            reject(new NanoError('no ' + event + ' within ' + timeout + ' ms', 'ETIMEDOUT'));
          }, timeout);
        }
      });
    }

    emit(event, ...args) {
      const list = this._listeners.get(event);
      if (!list) return false;
      for (const fn of list.slice()) {
        try {
          fn.apply(this, args);
        } catch (e) {
          rethrow(e);
        }
      }
      return true;
    }

    get connected() {
      return this.state === 'open';
    }

    // --- connecting -----------------------------------------------------------------------

    // Opens the transport, sends the handshake, and resolves with the server's handshake
    // response once the HandshakeAck is sent. `url` and `user` override the options.
    connect(url, user) {
      if (url !== undefined && url !== null) this.options.url = url;
      if (user !== undefined) this.options.user = user;
      if (this.state !== 'closed') {
        return Promise.reject(new NanoError('connect() while ' + this.state, 'EINVAL'));
      }
      this._manual = false;
      this._attempt = 0;
      return this._open();
    }

    _open() {
      return new Promise((resolve, reject) => {
        let transport;
        try {
          transport = this._makeTransport();
        } catch (e) {
          this.state = 'closed';
          reject(e instanceof NanoError ? e : new NanoError(e.message, 'ECONNECT', { cause: e }));
          return;
        }
        this.state = 'connecting';
        this._decoder = new PacketDecoder();
        this._kick = null;
        this._heartbeatTimedOut = false;
        this._transport = transport;
        const timer = setTimeout(() => {
          this._connecting.error = new NanoError('connect timeout after ' + this.options.connectTimeout + ' ms', 'ETIMEDOUT');
          transport.close(true);
        }, this.options.connectTimeout);
        this._connecting = { resolve, reject, timer, error: null };
        transport.onopen = () => {
          if (this._transport !== transport) return;
          this.state = 'handshaking';
          const sys = Object.assign({ type: this.options.type, version: this.options.version, rsa: {} }, this.options.sys || {});
          const hs = { sys, user: this.options.user === undefined ? {} : this.options.user };
          transport.send(encodePacket(PACKET.HANDSHAKE, utf8Encoder.encode(JSON.stringify(hs))));
        };
        transport.ondata = (bytes) => {
          if (this._transport === transport) this._receive(bytes);
        };
        transport.onclose = (info) => {
          if (this._transport === transport) this._closed(info || {});
        };
      });
    }

    _makeTransport() {
      const o = this.options;
      if (!o.url) throw new NanoError('no url', 'EINVAL');
      const url = new URL(o.url, typeof location !== 'undefined' ? location.href : undefined);
      // A page may say '/nano' or http(s)://...: the WebSocket of the same host.
      if (url.protocol === 'http:') url.protocol = 'ws:';
      if (url.protocol === 'https:') url.protocol = 'wss:';
      const scheme = url.protocol;
      if (scheme === 'tcp:' || scheme === 'tls:') {
        if (!isNode()) throw new NanoError(scheme + '// needs Node', 'EINVAL');
        return new NodeTransport(url, o);
      }
      if (scheme !== 'ws:' && scheme !== 'wss:') throw new NanoError('unsupported url ' + o.url, 'EINVAL');
      const Impl = o.WebSocket || root.WebSocket;
      if (o.transport === 'node' || (o.transport === 'auto' && !Impl && isNode())) return new NodeTransport(url, o);
      if (!Impl) throw new NanoError('no WebSocket implementation (pass the WebSocket option)', 'EINVAL');
      return new WebSocketTransport(url.href, Impl, o);
    }

    // --- receiving ------------------------------------------------------------------------

    _receive(bytes) {
      let packets;
      try {
        packets = this._decoder.feed(bytes);
      } catch (e) {
        this._protocolFailure(e);
        return;
      }
      for (const p of packets) {
        if (this._transport === null || this.state === 'closed') return;
        this._touch();
        switch (p.type) {
          case PACKET.HANDSHAKE: this._onHandshake(p.body); break;
          case PACKET.HEARTBEAT: this._onHeartbeat(); break;
          case PACKET.DATA: this._onData(p.body); break;
          case PACKET.KICK: this._onKick(p.body); break;
          default: break; // HandshakeAck from a server: ignored
        }
      }
    }

    _protocolFailure(e) {
      const err = e instanceof NanoError ? e : protocolError(e.message);
      this.emit('error', err);
      if (this._connecting) this._connecting.error = err;
      this._error = err;
      if (this._transport) this._transport.close(true);
    }

    _onHandshake(body) {
      if (this.state !== 'handshaking') return;
      const res = parseJson(body);
      if (res === NOT_JSON || res === null || typeof res !== 'object') {
        this._protocolFailure(new NanoError('handshake response is not JSON', 'EHANDSHAKE'));
        return;
      }
      if (res.code !== 200) {
        // 501 is pomelo's "client version not fullfill"; nanocaf answers a handshake body that
        // is not a JSON object with {"code":400,"error":"..."}.
        const text = res.code === 501 ? 'client version not fullfill' : 'handshake fail';
        const detail = typeof res.error === 'string' ? ': ' + res.error : '';
        this._connecting.error = new NanoError(text + ' (code ' + res.code + ')' + detail, 'EHANDSHAKE',
          { reply: res, status: res.code });
        this._transport.close();
        return;
      }
      const sys = res.sys || {};
      this.handshake = res;
      this.heartbeatInterval = typeof sys.heartbeat === 'number' && sys.heartbeat > 0 ? sys.heartbeat * 1000 : 0;
      this.dict = {};
      this.abbrs = {};
      if (sys.dict && typeof sys.dict === 'object') {
        for (const route of Object.keys(sys.dict)) {
          const code = sys.dict[route];
          if (typeof code !== 'number') continue;
          this.dict[route] = code;
          this.abbrs[code] = route;
        }
      }
      this._transport.send(encodePacket(PACKET.HANDSHAKE_ACK));
      this.state = 'open';
      this._touch();
      const c = this._connecting;
      this._connecting = null;
      clearTimeout(c.timer);
      const reconnected = this._attempt > 0;
      const attempts = this._attempt;
      this._attempt = 0;
      c.resolve(res);
      this.emit('connected', res, { reconnected, attempts });
      if (reconnected) this.emit('reconnected', res, { attempts });
    }

    // As nano's starx client: a server heartbeat is answered one interval later (one pending
    // at most). The server sends one every interval whatever the client does.
    _onHeartbeat() {
      this.emit('heartbeat');
      if (!this.heartbeatInterval || this._heartbeatTimer || this.state !== 'open') return;
      this._heartbeatTimer = setTimeout(() => {
        this._heartbeatTimer = null;
        if (this.state === 'open') this._transport.send(encodePacket(PACKET.HEARTBEAT));
      }, this.heartbeatInterval);
    }

    // Every packet received pushes the timeout back; silence for heartbeatTimeout (twice the
    // interval by default, 100 ms of slack) closes the connection with 'heartbeatTimeout'.
    _touch() {
      if (!this.heartbeatInterval || this.state !== 'open') return;
      const limit = this.options.heartbeatTimeout || 2 * this.heartbeatInterval;
      this._deadline = Date.now() + limit;
      if (!this._timeoutTimer) this._timeoutTimer = setTimeout(() => this._checkTimeout(), limit);
    }

    _checkTimeout() {
      this._timeoutTimer = null;
      if (this.state !== 'open') return;
      const gap = this._deadline - Date.now();
      if (gap > 100) {
        this._timeoutTimer = setTimeout(() => this._checkTimeout(), gap);
        return;
      }
      this._heartbeatTimedOut = true;
      this.emit('heartbeatTimeout');
      if (this._transport) this._transport.close(true);
    }

    _decode(bytes, raw) {
      if (raw) return bytes;
      const data = parseJson(bytes);
      return data === NOT_JSON ? bytes : data;
    }

    _onData(body) {
      let msg;
      try {
        msg = decodeMessage(body, this.abbrs);
      } catch (e) {
        this.emit('error', e); // one bad message is dropped; the stream stays in step
        return;
      }
      if (msg.type === MESSAGE.RESPONSE) {
        const p = this._pending.get(msg.id);
        if (!p) return; // an unknown id (a reply after its timeout) is dropped, as starx does
        this._pending.delete(msg.id);
        clearTimeout(p.timer);
        // An error reply is JSON even for a raw request.
        const json = !p.raw || msg.body[0] === 0x7b ? parseJson(msg.body) : NOT_JSON;
        if (json !== NOT_JSON && this.options.isError(json)) {
          p.reject(new NanoError(String(json.error), json.code,
            { error: String(json.error), route: p.route, id: msg.id, reply: json }));
          return;
        }
        p.resolve(p.raw ? msg.body : (json === NOT_JSON ? msg.body : json));
      } else if (msg.type === MESSAGE.PUSH) {
        const data = this._decode(msg.body, false);
        this.emit('push', msg.route, data, msg.body);
        this.emit(msg.route, data, msg.body);
      }
      // Requests and notifies from a server are not a thing: dropped.
    }

    _onKick(body) {
      let data = parseJson(body);
      if (data === NOT_JSON) data = { reason: utf8Decoder.decode(body) };
      if (data === null) data = {};
      this._kick = data;
      this.emit('kick', data);
    }

    // --- the connection ended -------------------------------------------------------------

    _closed(info) {
      const wasOpen = this.state === 'open' || this.state === 'closing';
      const manual = this._manual;
      this._transport = null;
      this._stopTimers();
      const cause = (this._connecting && this._connecting.error) || this._error || info.error || null;
      this._error = null;
      const closeInfo = {
        code: info.code,
        reason: this._kick && typeof this._kick.reason === 'string' ? this._kick.reason : (info.reason || ''),
        kicked: !!this._kick,
        kick: this._kick,
        heartbeatTimeout: this._heartbeatTimedOut,
        manual,
        error: cause,
        willReconnect: false,
      };
      const failure = new NanoError(manual ? 'connection closed by the client' : 'connection closed', 'ECLOSED', { cause });
      for (const [id, p] of this._pending) {
        clearTimeout(p.timer);
        p.reject(new NanoError(failure.message, 'ECLOSED', { route: p.route, id, cause }));
      }
      this._pending.clear();

      if (this._connecting) { // connect() (or a reconnect attempt) failed
        const c = this._connecting;
        this._connecting = null;
        clearTimeout(c.timer);
        let err = c.error;
        if (!err) {
          err = this.state === 'handshaking'
            ? new NanoError('connection closed during the handshake (refused by the server?)', 'EHANDSHAKE', { cause: info.error })
            : new NanoError('could not connect to ' + this.options.url + (info.error ? ': ' + info.error.message : ''), 'ECONNECT', { cause: info.error });
        }
        if (manual) err = new NanoError('closed by the client while connecting', 'ECLOSED');
        c.reject(err);
        if (this._attempt > 0 && !manual) {
          this._scheduleReconnect(err);
          return;
        }
        const reconnecting = this._attempt > 0;
        this._attempt = 0;
        this.state = 'closed';
        if (reconnecting) this.emit('close', Object.assign(closeInfo, { error: null }));
        this._settleClose();
        return;
      }

      if (wasOpen && !manual && this._reconnectOptions() && this._shouldReconnect(closeInfo)) {
        closeInfo.willReconnect = true;
        this.state = 'reconnecting';
        this.emit('close', closeInfo);
        if (this.state === 'reconnecting') this._scheduleReconnect(cause);
        return;
      }
      this.state = 'closed';
      this.emit('close', closeInfo);
      this._settleClose();
    }

    _reconnectOptions() {
      const r = this.options.reconnect;
      if (!r) return null;
      return Object.assign({}, RECONNECT_DEFAULTS, r === true ? {} : r);
    }

    _shouldReconnect(info) {
      if (typeof this.options.shouldReconnect === 'function') return !!this.options.shouldReconnect(info);
      return !info.kicked;
    }

    _scheduleReconnect(error) {
      const r = this._reconnectOptions();
      const attempt = this._attempt + 1;
      if (!r || attempt > r.retries) {
        this.state = 'closed';
        this._attempt = 0;
        this.emit('reconnectFailed', { attempts: attempt - 1, error });
        this._settleClose();
        return;
      }
      const delay = Math.min(r.maxDelay, r.delay * Math.pow(r.factor, attempt - 1));
      this.state = 'reconnecting';
      this._attempt = attempt;
      this.emit('reconnecting', { attempt, delay, error });
      this._reconnectTimer = setTimeout(() => {
        this._reconnectTimer = null;
        if (this.state !== 'reconnecting') return;
        this._open().catch(() => {}); // failures come back through _closed
      }, delay);
    }

    _stopTimers() {
      clearTimeout(this._heartbeatTimer);
      clearTimeout(this._timeoutTimer);
      this._heartbeatTimer = this._timeoutTimer = null;
    }

    _settleClose() {
      const waiters = this._closeWaiters;
      this._closeWaiters = [];
      for (const w of waiters) w();
    }

    // Closes the connection (and stops reconnecting). Resolves once it is closed. Pending
    // requests reject with ECLOSED; 'close' fires with {manual: true}.
    close() {
      this._manual = true;
      if (this._reconnectTimer) {
        clearTimeout(this._reconnectTimer);
        this._reconnectTimer = null;
      }
      if (this.state === 'closed') return Promise.resolve();
      if (this.state === 'reconnecting' && !this._transport) {
        this.state = 'closed';
        this._attempt = 0;
        this.emit('close', { code: 1000, reason: '', kicked: false, kick: null, heartbeatTimeout: false, manual: true, error: null, willReconnect: false });
        return Promise.resolve();
      }
      const done = new Promise((resolve) => this._closeWaiters.push(resolve));
      if (this.state === 'open') this.state = 'closing';
      if (this._transport) this._transport.close();
      return done;
    }

    // Alias of close(), as in starx.
    disconnect() {
      return this.close();
    }

    // --- sending --------------------------------------------------------------------------

    // Resolves with the reply: JSON decoded, or bytes for a raw request (a Uint8Array or
    // Buffer payload) or with {raw: true}. Error replies reject with a NanoError whose code is
    // the server's. opts: {raw, timeout}.
    request(route, msg, opts) {
      opts = opts || {};
      if (this.state !== 'open') {
        return Promise.reject(new NanoError('not connected', 'ENOTCONNECTED', { route }));
      }
      let packet;
      const id = this.nextId++;
      try {
        packet = encodePacket(PACKET.DATA, encodeMessage(MESSAGE.REQUEST, id, route, encodePayload(msg), this.dict));
      } catch (e) {
        return Promise.reject(e instanceof NanoError ? e : new NanoError(e.message, 'EINVAL', { route, cause: e }));
      }
      const raw = opts.raw !== undefined ? !!opts.raw : isBytes(msg);
      const timeout = opts.timeout !== undefined ? opts.timeout : this.options.timeout;
      return new Promise((resolve, reject) => {
        const p = { resolve, reject, route, raw, timer: null };
        if (timeout > 0) {
          p.timer = setTimeout(() => {
            this._pending.delete(id);
            reject(new NanoError('no reply to ' + route + ' within ' + timeout + ' ms', 'ETIMEDOUT', { route, id }));
          }, timeout);
        }
        this._pending.set(id, p);
        this._transport.send(packet);
      });
    }

    // Sends a notify (no reply). Returns false when not connected. Throws on a route over 255
    // bytes or a payload JSON cannot encode.
    notify(route, msg) {
      if (this.state !== 'open') return false;
      const packet = encodePacket(PACKET.DATA, encodeMessage(MESSAGE.NOTIFY, 0, route, encodePayload(msg), this.dict));
      this._transport.send(packet);
      return true;
    }
  }

  NanoClient.VERSION = VERSION;
  NanoClient.NanoError = NanoError;
  NanoClient.protocol = {
    PACKET, MESSAGE, encodePacket, PacketDecoder, encodeMessage, decodeMessage, isErrorReply: defaultIsError,
  };

  return { NanoClient, NanoError, protocol: NanoClient.protocol, VERSION };
});
