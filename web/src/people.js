// people.js is the People panel: who is connected to the host on any port (account, address,
// service, since), Disconnect for admins, and Notify ("tell me when they're back"), which the
// host answers with a notify event once its keyboard or mouse is used.
import { $, h, show, formatTime } from './dom.js';
import { may } from './api.js';

const services = {
  control: 'Control', observe: 'Observe', send: 'Send', exchange: 'Exchange', console: 'Console',
};

// PeoplePanel owns #who-list and the notify controls.
export class PeoplePanel {
  constructor(api, errors) {
    this.api = api;
    this.errors = errors;
    this.list = $('who-list');
    this.notifyButton = $('notify-button');
    this.notifyStatus = $('notify-status');
    this.box = $('notify-box');
    this.controller = null;
    this.loading = null;

    this.notifyButton.addEventListener('click', () => this.notify());
  }

  start(session) {
    this.controller = new AbortController();
    this.admin = may(session, 'admin');
    this.waitingForNotify = false;
    show(this.box, may(session, 'chat'));
    this.notifyButton.disabled = false;
    this.notifyStatus.textContent = '';
    this.notifyStatus.dataset.state = '';
    this.refresh();
  }

  stop() {
    this.controller?.abort();
    this.list.replaceChildren();
  }

  // refresh reloads the list; calls that come while one is loading share its answer's
  // successor, so a burst of "sessions" events costs two requests, not one each.
  refresh() {
    if (this.loading) {
      this.again = true;
      return;
    }
    this.loading = this.load().finally(() => {
      this.loading = null;
      if (this.again) {
        this.again = false;
        this.refresh();
      }
    });
  }

  async load() {
    try {
      const res = await this.api.get('/api/v1/sessions', { signal: this.controller.signal });
      const sessions = [...(res?.sessions ?? [])].sort((a, b) => a.since.localeCompare(b.since));
      this.list.replaceChildren(...sessions.map((s) => this.row(s)));
      if (sessions.length === 0) {
        this.list.append(h('li', { class: 'empty muted', text: 'Nobody is connected.' }));
      }
    } catch (err) {
      if (err.name !== 'AbortError') {
        this.errors.show(`list who is connected: ${err.message}`);
      }
    }
  }

  row(s) {
    const service = services[s.service] ?? s.service;
    return h('li', { dataset: { id: s.id, service: s.service } },
      h('span', { class: 'account', text: s.account }),
      h('span', { class: `service badge ${s.service}`, text: service }),
      h('span', { class: 'remote', text: s.remote }),
      h('time', { class: 'since', datetime: s.since, text: `since ${formatTime(s.since)}` }),
      this.admin && h('button', {
        type: 'button', class: 'disconnect danger', text: 'Disconnect',
        'aria-label': `disconnect ${s.account} (${service} from ${s.remote})`,
        onclick: (e) => this.disconnect(e.currentTarget, s),
      }));
  }

  async disconnect(button, s) {
    button.disabled = true;
    try {
      await this.api.delete(`/api/v1/sessions/${encodeURIComponent(s.id)}`,
        { signal: this.controller.signal });
      this.refresh();
    } catch (err) {
      if (err.name !== 'AbortError') {
        button.disabled = false;
        this.errors.show(`disconnect ${s.account}: ${err.message}`);
      }
    }
  }

  async notify() {
    this.notifyButton.disabled = true;
    try {
      await this.api.post('/api/v1/notify', undefined, { signal: this.controller.signal });
      this.waitingForNotify = true;
      this.notifyStatus.dataset.state = 'waiting';
      this.notifyStatus.textContent =
        'We will tell you here when someone uses the host’s keyboard or mouse.';
    } catch (err) {
      this.notifyButton.disabled = false;
      if (err.name !== 'AbortError') {
        this.errors.show(`notify: ${err.message}`);
      }
    }
  }

  // notified shows the host's notify event. Old ones replayed while the page catches up are
  // news only when this page asked.
  notified(event, catchingUp) {
    if (catchingUp && !this.waitingForNotify) {
      return;
    }
    this.waitingForNotify = false;
    this.notifyButton.disabled = false;
    this.notifyStatus.dataset.state = 'back';
    this.notifyStatus.textContent = event.text || 'The person at the host is back.';
  }
}
