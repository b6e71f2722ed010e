// nanocaf.js: a browser client for nano's protocol (the pomelo "hybrid" protocol) over
// WebSocket. No dependencies. Usage:
//   const client = new NanoClient();
//   client.on('onMessage', msg => ...);
//   await client.connect('ws://127.0.0.1:3250/nano');
//   const reply = await client.request('room.join', {});
//   client.notify('room.message', {name, content});
(function (global) {
  'use strict';

  const PACKET = { HANDSHAKE: 1, HANDSHAKE_ACK: 2, HEARTBEAT: 3, DATA: 4, KICK: 5 };
  const MESSAGE = { REQUEST: 0, NOTIFY: 1, RESPONSE: 2, PUSH: 3 };
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  function packet(type, body) {
    const bytes = body || new Uint8Array(0);
    const out = new Uint8Array(4 + bytes.length);
    out[0] = type;
    out[1] = (bytes.length >> 16) & 0xff;
    out[2] = (bytes.length >> 8) & 0xff;
    out[3] = bytes.length & 0xff;
    out.set(bytes, 4);
    return out;
  }

  // Message layer: flag, varint id (request/response), route (string or 2-byte code), payload.
  function encodeMessage(type, id, route, payload, dict) {
    const head = [];
    const code = dict[route];
    head.push((type << 1) | (code !== undefined ? 1 : 0));
    if (type === MESSAGE.REQUEST) {
      let n = id;
      do {
        let b = n % 128;
        n = Math.floor(n / 128);
        if (n > 0) b |= 0x80;
        head.push(b);
      } while (n > 0);
    }
    if (code !== undefined) {
      head.push((code >> 8) & 0xff, code & 0xff);
    } else {
      const r = encoder.encode(route);
      if (r.length > 255) throw new Error('route maxlength is overflow');
      head.push(r.length, ...r);
    }
    const out = new Uint8Array(head.length + payload.length);
    out.set(head, 0);
    out.set(payload, head.length);
    return out;
  }

  function decodeMessage(bytes, abbrs) {
    const flag = bytes[0];
    const type = (flag >> 1) & 0x07;
    let pos = 1;
    let id = 0;
    if (type === MESSAGE.REQUEST || type === MESSAGE.RESPONSE) {
      let mul = 1;
      for (;;) {
        const b = bytes[pos++];
        id += (b & 0x7f) * mul;
        mul *= 128;
        if (b < 0x80) break;
      }
    }
    let route = '';
    if (type === MESSAGE.PUSH || type === MESSAGE.NOTIFY || type === MESSAGE.REQUEST) {
      if (flag & 1) {
        route = abbrs[(bytes[pos] << 8) | bytes[pos + 1]];
        pos += 2;
      } else {
        const len = bytes[pos++];
        route = decoder.decode(bytes.subarray(pos, pos + len));
        pos += len;
      }
    }
    return { type, id, route, body: bytes.subarray(pos) };
  }

  class NanoClient {
    constructor() {
      this.handlers = {};
      this.callbacks = new Map();
      this.nextId = 1;
      this.dict = {};
      this.abbrs = {};
      this.buffer = new Uint8Array(0);
      this.heartbeatMs = 0;
      this.heartbeatTimer = null;
      this.timeoutTimer = null;
    }

    on(event, fn) {
      (this.handlers[event] = this.handlers[event] || []).push(fn);
      return this;
    }

    emit(event, data) {
      for (const fn of this.handlers[event] || []) fn(data);
    }

    // Resolves with the handshake response once the handshake is acknowledged.
    connect(url, user) {
      return new Promise((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.binaryType = 'arraybuffer';
        this.ws = ws;
        ws.onopen = () => {
          const hs = { sys: { type: 'nanocaf-js', version: '0.1.0', rsa: {} }, user: user || {} };
          ws.send(packet(PACKET.HANDSHAKE, encoder.encode(JSON.stringify(hs))));
        };
        ws.onerror = () => reject(new Error('websocket error'));
        ws.onclose = (ev) => {
          this.stopTimers();
          for (const [, cb] of this.callbacks) cb.reject(new Error('connection closed'));
          this.callbacks.clear();
          this.emit('close', ev);
        };
        ws.onmessage = (ev) => this.receive(new Uint8Array(ev.data), resolve, reject);
      });
    }

    // Input is a byte stream: packets may span or share WebSocket messages.
    receive(bytes, resolve, reject) {
      const joined = new Uint8Array(this.buffer.length + bytes.length);
      joined.set(this.buffer, 0);
      joined.set(bytes, this.buffer.length);
      let pos = 0;
      while (joined.length - pos >= 4) {
        const len = (joined[pos + 1] << 16) | (joined[pos + 2] << 8) | joined[pos + 3];
        if (joined.length - pos - 4 < len) break;
        this.onPacket(joined[pos], joined.subarray(pos + 4, pos + 4 + len), resolve, reject);
        pos += 4 + len;
      }
      this.buffer = joined.slice(pos);
    }

    onPacket(type, body, resolve, reject) {
      this.armTimeout();
      switch (type) {
        case PACKET.HANDSHAKE: {
          const res = JSON.parse(decoder.decode(body));
          if (res.code !== 200) {
            reject(new Error('handshake failed: ' + res.code));
            return;
          }
          this.heartbeatMs = (res.sys && res.sys.heartbeat ? res.sys.heartbeat : 0) * 1000;
          this.dict = (res.sys && res.sys.dict) || {};
          for (const route in this.dict) this.abbrs[this.dict[route]] = route;
          this.ws.send(packet(PACKET.HANDSHAKE_ACK));
          resolve(res);
          break;
        }
        case PACKET.HEARTBEAT:
          // Like nano's JS client: answer each server heartbeat one interval later.
          if (this.heartbeatMs && !this.heartbeatTimer) {
            this.heartbeatTimer = setTimeout(() => {
              this.heartbeatTimer = null;
              if (this.ws.readyState === WebSocket.OPEN) this.ws.send(packet(PACKET.HEARTBEAT));
            }, this.heartbeatMs);
          }
          break;
        case PACKET.DATA: {
          const msg = decodeMessage(body, this.abbrs);
          const data = msg.body.length ? JSON.parse(decoder.decode(msg.body)) : null;
          if (msg.type === MESSAGE.RESPONSE) {
            const cb = this.callbacks.get(msg.id);
            if (!cb) return; // an unknown id is dropped, as nano's client does
            this.callbacks.delete(msg.id);
            if (data && typeof data.code === 'number' && data.code !== 0 && data.error) {
              cb.reject(Object.assign(new Error(data.error), { code: data.code }));
            } else {
              cb.resolve(data);
            }
          } else if (msg.type === MESSAGE.PUSH) {
            this.emit(msg.route, data);
          }
          break;
        }
        case PACKET.KICK:
          this.emit('kick', body.length ? JSON.parse(decoder.decode(body)) : {});
          break;
      }
    }

    armTimeout() {
      if (!this.heartbeatMs) return;
      clearTimeout(this.timeoutTimer);
      this.timeoutTimer = setTimeout(() => {
        this.emit('timeout');
        this.ws.close();
      }, this.heartbeatMs * 2 + 100);
    }

    stopTimers() {
      clearTimeout(this.heartbeatTimer);
      clearTimeout(this.timeoutTimer);
      this.heartbeatTimer = this.timeoutTimer = null;
    }

    request(route, msg) {
      const id = this.nextId++;
      const payload = encoder.encode(JSON.stringify(msg === undefined ? {} : msg));
      return new Promise((resolve, reject) => {
        this.callbacks.set(id, { resolve, reject });
        this.ws.send(packet(PACKET.DATA, encodeMessage(MESSAGE.REQUEST, id, route, payload, this.dict)));
      });
    }

    notify(route, msg) {
      const payload = encoder.encode(JSON.stringify(msg === undefined ? {} : msg));
      this.ws.send(packet(PACKET.DATA, encodeMessage(MESSAGE.NOTIFY, 0, route, payload, this.dict)));
    }

    close() {
      this.ws.close();
    }
  }

  global.NanoClient = NanoClient;
})(typeof window !== 'undefined' ? window : globalThis);
