// chat.js is the Chat panel: the transcript the host keeps, new messages from the events
// long poll, and a box to write in (Enter sends, Shift+Enter starts a new line).
import { $, h, formatTime } from './dom.js';
import { may } from './api.js';

// maxBytes is the host's limit for one message.
const maxBytes = 4096;

// ChatPanel owns #chat-log and #chat-form.
export class ChatPanel {
  constructor(api, errors) {
    this.api = api;
    this.errors = errors;
    this.log = $('chat-log');
    this.form = $('chat-form');
    this.input = $('chat-input');
    this.send = $('chat-send');
    this.seen = new Set();
    this.controller = null;

    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.post();
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.post();
      }
    });
  }

  async start(session) {
    this.account = session.account;
    this.controller = new AbortController();
    this.seen.clear();
    this.log.replaceChildren();
    const canChat = may(session, 'chat');
    this.input.disabled = !canChat;
    this.send.disabled = !canChat;
    this.input.placeholder = canChat ? 'Write to the person at the host' : 'Chat is not allowed for this account';
    if (!canChat) {
      return; // the host would refuse the transcript too: nothing to show, nothing to complain about
    }
    try {
      const res = await this.api.get('/api/v1/chat', { signal: this.controller.signal });
      for (const m of res?.messages ?? []) {
        this.add(m);
      }
    } catch (err) {
      if (err.name !== 'AbortError') {
        this.errors.show(`load the chat: ${err.message}`);
      }
    }
  }

  stop() {
    this.controller?.abort();
  }

  // add shows a message once, whether it came with the transcript or as an event: the two
  // can overlap while the page starts.
  add(m) {
    const key = `${m.time}\u0000${m.from}\u0000${m.text}`;
    if (this.seen.has(key)) {
      return;
    }
    this.seen.add(key);
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    this.log.append(h('div', { class: m.from === this.account ? 'chat-message mine' : 'chat-message' },
      h('span', { class: 'from', text: m.from }),
      h('time', { datetime: m.time, text: formatTime(m.time) }),
      h('p', { class: 'text', text: m.text })));
    if (atBottom) {
      this.log.scrollTop = this.log.scrollHeight;
    }
  }

  async post() {
    const text = this.input.value.trim();
    if (text === '' || this.send.disabled) {
      return;
    }
    if (new TextEncoder().encode(text).length > maxBytes) {
      this.errors.show('chat: the message is too long (4 KB at most)');
      return;
    }
    this.send.disabled = true;
    try {
      await this.api.post('/api/v1/chat', { text }, { signal: this.controller.signal });
      this.input.value = ''; // the message itself comes back through the events
    } catch (err) {
      if (err.name !== 'AbortError') {
        this.errors.show(`send the message: ${err.message}`);
      }
    } finally {
      this.send.disabled = false;
      this.input.focus();
    }
  }
}
