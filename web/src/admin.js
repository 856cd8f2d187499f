// admin.js holds the panels only an admin sees: Approvals (requests waiting for the person at
// the host to allow a privilege, live from the events) and Invite (the host connects out to a
// helper's listening viewer; the admin password is asked again, as for every setting).
import { $, h, show, formatTime } from './dom.js';
import { may } from './api.js';

// ApprovalsPanel owns #approvals-list.
export class ApprovalsPanel {
  constructor(api, errors) {
    this.api = api;
    this.errors = errors;
    this.section = $('approvals-panel');
    this.list = $('approvals-list');
    this.empty = $('approvals-empty');
    this.count = $('approvals-count');
    this.controller = null;
    this.enabled = false;
  }

  async start(session) {
    this.controller = new AbortController();
    this.enabled = may(session, 'admin');
    show(this.section, this.enabled);
    this.list.replaceChildren();
    this.showCount();
    if (!this.enabled) {
      return;
    }
    try {
      const res = await this.api.get('/api/v1/approvals', { signal: this.controller.signal });
      for (const a of res?.approvals ?? []) {
        this.add(a);
      }
    } catch (err) {
      if (err.name !== 'AbortError') {
        this.errors.show(`list the requests: ${err.message}`);
      }
    }
  }

  stop() {
    this.controller?.abort();
    this.list.replaceChildren();
    this.showCount();
  }

  // add shows a request unless it is already there (the list and the events overlap).
  add(a) {
    if (!this.enabled || this.find(a.id)) {
      return;
    }
    const what = `${a.account} wants ${a.privilege}`;
    this.list.append(h('li', { dataset: { id: a.id } },
      h('p', { class: 'what' }, h('strong', { text: what })),
      h('p', { class: 'detail muted', text: `from ${a.remote} on ${a.service} · ${formatTime(a.time)}` }),
      h('div', { class: 'buttons' },
        h('button', { type: 'button', class: 'approve primary', text: 'Allow',
          'aria-label': `allow: ${what}`, onclick: () => this.decide(a.id, true) }),
        h('button', { type: 'button', class: 'deny danger', text: 'Deny',
          'aria-label': `deny: ${what}`, onclick: () => this.decide(a.id, false) }))));
    this.showCount();
  }

  // done removes a request that was decided, here or anywhere else.
  done(id) {
    this.find(id)?.remove();
    this.showCount();
  }

  find(id) {
    return [...this.list.children].find((li) => li.dataset.id === id);
  }

  async decide(id, approve) {
    const row = this.find(id);
    row?.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    try {
      await this.api.post(`/api/v1/approvals/${encodeURIComponent(id)}`, { approve },
        { signal: this.controller.signal });
      this.done(id);
    } catch (err) {
      row?.querySelectorAll('button').forEach((b) => { b.disabled = false; });
      if (err.name !== 'AbortError') {
        this.errors.show(`answer the request: ${err.message}`);
      }
    }
  }

  // showCount puts the number waiting where an admin will see it: the panel's heading and
  // the tab's title.
  showCount() {
    const n = this.list.children.length;
    this.count.textContent = n > 0 ? String(n) : '';
    show(this.count, n > 0);
    show(this.empty, n === 0);
    const title = document.title.replace(/^\(\d+\) /, '');
    document.title = n > 0 ? `(${n}) ${title}` : title;
  }
}

// InvitePanel owns #invite-form.
export class InvitePanel {
  constructor(api, errors) {
    this.api = api;
    this.errors = errors;
    this.section = $('invite-panel');
    this.form = $('invite-form');
    this.address = $('invite-address');
    this.control = $('invite-control');
    this.password = $('invite-password');
    this.submit = $('invite-submit');
    this.status = $('invite-status');
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.invite();
    });
  }

  start(session) {
    show(this.section, may(session, 'admin') && session.service === 'control');
    this.password.value = '';
    this.status.textContent = '';
  }

  stop() {
    this.password.value = '';
  }

  async invite() {
    const address = this.address.value.trim();
    this.submit.disabled = true;
    this.status.textContent = `asking the host to connect to ${address}…`;
    try {
      await this.api.post('/api/v1/invite', {
        address, control: this.control.checked, password: this.password.value,
      });
      this.status.textContent = `the host is connecting to ${address}`;
    } catch (err) {
      this.status.textContent = '';
      this.errors.show(`invite: ${err.message}`);
    } finally {
      this.password.value = '';
      this.submit.disabled = false;
    }
  }
}
