// Shared by the chat pages: the message log and the form, with no framework.
(function (global) {
  'use strict';
  const log = document.getElementById('log');
  global.chatPage = {
    status: document.getElementById('status'),
    send: document.getElementById('send'),
    name: document.getElementById('name'),
    text: document.getElementById('text'),
    // Appends one line: `who` in bold (if any), then the text; 'system' lines in grey.
    line(who, content, cls) {
      const div = document.createElement('div');
      div.className = 'line' + (cls ? ' ' + cls : '');
      if (who) {
        const b = document.createElement('span');
        b.className = 'who';
        b.textContent = who;
        div.appendChild(b);
      }
      div.appendChild(document.createTextNode(content));
      log.appendChild(div);
      log.scrollTop = log.scrollHeight;
    },
    // The WebSocket URL of the node that served this page (or ?ws=... to override).
    socketUrl() {
      const params = new URLSearchParams(location.search);
      return params.get('ws') || ((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/nano');
    },
    // Runs `onSubmit(name, text)` when the form is sent with some text.
    onSubmit(fn) {
      document.getElementById('form').addEventListener('submit', ev => {
        ev.preventDefault();
        if (!this.text.value) return;
        fn(this.name.value || 'anonymous', this.text.value);
        this.text.value = '';
      });
    },
  };
  global.chatPage.name.value = 'guest' + Math.floor(Math.random() * 1000);
})(window);
