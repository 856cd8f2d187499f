// admin.js holds the panels only an admin sees: Approvals (requests waiting for the person at
// the host to allow a privilege, live from the events), Invite (the host connects out to a
// helper's listening viewer) and Accounts (add, remove, passwords, privileges). Invite and every
// account change ask for the admin password again, as for every setting.
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

// privileges are the host's privileges in its order, with the short names the grid shows.
const privileges = [
  ['observe', 'observe'], ['control', 'control'], ['send', 'send'],
  ['exchange:read', 'read'], ['exchange:write', 'write'], ['exchange:delete', 'delete'],
  ['chat', 'chat'], ['admin', 'admin'],
];
const modes = ['allow', 'ask', 'deny'];

// confirmMs is how long a Remove button waits for its second press.
const confirmMs = 4000;

// privilegeGrid makes one allow/ask/deny select per privilege, each under its short name.
// modeOf(p) is the mode shown, labelOf(p) what a screen reader says, lockedOf(p) whether it
// may not change. Each select remembers the mode it was made with (data-was).
function privilegeGrid(modeOf, labelOf, lockedOf) {
  return h('div', { class: 'priv-grid' }, ...privileges.map(([p, short]) => {
    const mode = modeOf(p);
    const select = h('select', {
      'aria-label': labelOf(p), title: p, disabled: lockedOf(p),
      dataset: { privilege: p, was: mode, mode },
      onchange: (e) => { e.currentTarget.dataset.mode = e.currentTarget.value; },
    }, ...modes.map((m) => h('option', { value: m, text: m, selected: m === mode })));
    return h('label', { class: 'priv' }, h('span', { text: short }), select);
  }));
}

// gridModes returns the modes of a grid's selects: all of them, or with changedOnly those
// that differ from what they were made with.
function gridModes(grid, changedOnly) {
  const out = {};
  for (const select of grid.querySelectorAll('select')) {
    if (!changedOnly || select.value !== select.dataset.was) {
      out[select.dataset.privilege] = select.value;
    }
  }
  return out;
}

// AccountsPanel owns #accounts-panel: the host's accounts, each with its privileges as a grid,
// a new password and a remove button, and the form that adds one. Every change sends the
// admin password typed in #accounts-admin-password, which is cleared after each try: the host
// checks it (and counts wrong ones against admin), and whatever it answers shows in #error.
export class AccountsPanel {
  constructor(api, errors) {
    this.api = api;
    this.errors = errors;
    this.section = $('accounts-panel');
    this.link = $('accounts-link');
    this.list = $('accounts-list');
    this.password = $('accounts-admin-password');
    this.status = $('accounts-status');
    this.addForm = $('account-add-form');
    this.newName = $('account-new-name');
    this.newPassword = $('account-new-password');
    this.newPrivileges = $('account-new-privileges');
    this.addButton = $('account-add');
    this.controller = null;
    this.enabled = false;
    this.addForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.add();
    });
    $('accounts-refresh').addEventListener('click', () => this.refresh());
  }

  start(session) {
    this.controller = new AbortController();
    this.enabled = may(session, 'admin') && session.service === 'control';
    show(this.section, this.enabled);
    show(this.link, this.enabled);
    this.reset();
    if (this.enabled) {
      this.refresh();
    }
  }

  stop() {
    this.controller?.abort();
    this.enabled = false;
    this.reset();
  }

  // reset forgets what was typed and shown; a new account may only send until told more,
  // as with buktu user add.
  reset() {
    this.password.value = '';
    this.newName.value = '';
    this.newPassword.value = '';
    this.status.textContent = '';
    this.list.replaceChildren();
    this.newPrivileges.replaceChildren(privilegeGrid((p) => (p === 'send' ? 'allow' : 'deny'),
      (p) => `${p} for the new account`, () => false));
  }

  async refresh() {
    if (!this.enabled) {
      return;
    }
    try {
      const res = await this.api.get('/api/v1/accounts', { signal: this.controller.signal });
      const accounts = res?.accounts ?? [];
      this.list.replaceChildren(...accounts.map((a) => this.row(a)));
      if (accounts.length === 0) {
        this.list.append(h('li', { class: 'empty muted', text: 'No accounts.' }));
      }
    } catch (err) {
      if (err.name !== 'AbortError') {
        this.errors.show(`list the accounts: ${err.message}`);
      }
    }
  }

  // row shows one account. The admin account keeps admin and cannot be removed; the guest
  // account never holds admin and has no password: the host refuses those anyway.
  row(a) {
    const isAdmin = a.name === 'admin';
    // Whoever holds admin may do everything, whatever the other selects say.
    const notes = [a.privileges?.admin === 'allow' && 'admin: may do everything',
      a.guest && 'guest', a.disabled && 'disabled',
      a.keys > 0 && `${a.keys} SSH key${a.keys === 1 ? '' : 's'}`].filter(Boolean);
    const grid = privilegeGrid((p) => a.privileges?.[p] ?? 'deny', (p) => `${p} for ${a.name}`,
      (p) => p === 'admin' && (isAdmin || a.guest));
    const newPassword = h('input', {
      type: 'password', autocomplete: 'new-password', placeholder: 'New password',
      'aria-label': `new password for ${a.name}`,
    });
    return h('li', { dataset: { name: a.name } },
      h('p', { class: 'account-head' }, h('strong', { class: 'account', text: a.name }),
        ...notes.map((n) => h('span', { class: 'badge', text: n }))),
      grid,
      h('div', { class: 'buttons' },
        h('button', {
          type: 'button', class: 'save-privileges', text: 'Save privileges',
          'aria-label': `save the privileges of ${a.name}`,
          onclick: (e) => this.savePrivileges(e.currentTarget, a.name, grid),
        }),
        !isAdmin && h('button', {
          type: 'button', class: 'remove danger', text: 'Remove', 'aria-label': `remove ${a.name}`,
          onclick: (e) => this.remove(e.currentTarget, a.name),
        })),
      !a.guest && h('form', {
        class: 'inline set-password',
        onsubmit: (e) => {
          e.preventDefault();
          this.setPassword(e.currentTarget.querySelector('button'), a.name, newPassword);
        },
      }, newPassword, h('button', {
        type: 'submit', text: 'Set password', 'aria-label': `set the password of ${a.name}`,
      })));
  }

  // change sends one change with the admin password, says how it went and shows the
  // accounts as they are now. It returns whether the host made the change.
  async change(what, done, call, button) {
    const password = this.password.value;
    this.password.value = '';
    button.disabled = true;
    this.status.textContent = `${what}…`;
    try {
      await call(password, this.controller.signal);
      this.status.textContent = done;
      await this.refresh();
      return true;
    } catch (err) {
      this.status.textContent = '';
      if (err.name !== 'AbortError') {
        this.errors.show(`${what}: ${err.message}`);
        if (err.status === 403 || err.status === 429) {
          this.password.focus();
        }
      }
      return false;
    } finally {
      button.disabled = false;
    }
  }

  async add() {
    const name = this.newName.value.trim();
    const grid = this.newPrivileges.querySelector('.priv-grid');
    const ok = await this.change(`add ${name || 'an account'}`, `${name} added`,
      (password, signal) => this.api.post('/api/v1/accounts', {
        password, name, new_password: this.newPassword.value, privileges: gridModes(grid, false),
      }, { signal }), this.addButton);
    if (ok) {
      this.newName.value = '';
      this.newPassword.value = '';
    }
  }

  async savePrivileges(button, name, grid) {
    const changed = gridModes(grid, true);
    if (Object.keys(changed).length === 0) {
      this.status.textContent = `nothing to save for ${name}: change a privilege first`;
      return;
    }
    await this.change(`save the privileges of ${name}`, `privileges of ${name} saved`,
      (password, signal) => this.api.post(`/api/v1/accounts/${encodeURIComponent(name)}/privileges`,
        { password, privileges: changed }, { signal }), button);
  }

  async setPassword(button, name, input) {
    const ok = await this.change(`set the password of ${name}`, `password of ${name} set`,
      (password, signal) => this.api.post(`/api/v1/accounts/${encodeURIComponent(name)}/password`,
        { password, new_password: input.value }, { signal }), button);
    if (ok) {
      input.value = '';
    }
  }

  // remove removes on a second press of the same button, so one slip removes nobody.
  async remove(button, name) {
    if (button.dataset.armed !== 'true') {
      button.dataset.armed = 'true';
      button.textContent = 'Really remove?';
      setTimeout(() => {
        button.dataset.armed = 'false';
        button.textContent = 'Remove';
      }, confirmMs);
      return;
    }
    await this.change(`remove ${name}`, `${name} removed`,
      (password, signal) => this.api.request('DELETE', `/api/v1/accounts/${encodeURIComponent(name)}`,
        { json: { password }, signal }), button);
  }
}
