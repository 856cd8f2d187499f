// exchange.js is the Exchange panel: a browser of the host's shared folder. What it offers
// follows the account's exchange:read / write / delete privileges; the host checks each call
// again with the same policy code as SFTP, and its refusals are shown as they are.
import { $, h, show, formatBytes, formatRate, formatTime } from './dom.js';
import { asks, may } from './api.js';
import { askHintMs } from './send.js';

// confirmMs is how long a Delete button waits for its second press.
const confirmMs = 4000;

// join puts a folder and a name together; the root folder is ".".
function join(dir, name) {
  return dir === '.' ? name : `${dir}/${name}`;
}

function parent(dir) {
  const i = dir.lastIndexOf('/');
  return i < 0 ? '.' : dir.slice(0, i);
}

function query(path) {
  return `path=${encodeURIComponent(path)}`;
}

// ExchangePanel owns the #exchange-* elements.
export class ExchangePanel {
  constructor(api, errors) {
    this.api = api;
    this.errors = errors;
    this.pathNav = $('exchange-path');
    this.list = $('exchange-list');
    this.up = $('exchange-up');
    this.refresh = $('exchange-refresh');
    this.upload = $('exchange-upload');
    this.uploadLabel = $('exchange-upload-label');
    this.mkdirForm = $('exchange-mkdir');
    this.mkdirName = $('exchange-mkdir-name');
    this.progress = $('exchange-progress');
    this.status = $('exchange-status');
    this.path = '.';
    this.controller = null;

    this.up.addEventListener('click', () => this.open(parent(this.path)));
    this.refresh.addEventListener('click', () => this.open(this.path));
    this.upload.addEventListener('change', () => this.uploadFiles([...this.upload.files]));
    this.mkdirForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.mkdir();
    });
  }

  start(session) {
    this.controller = new AbortController();
    this.canWrite = may(session, 'exchange:write');
    this.canDelete = may(session, 'exchange:delete');
    this.askRead = asks(session, 'exchange:read');
    this.askWrite = asks(session, 'exchange:write');
    this.askDelete = asks(session, 'exchange:delete');
    show(this.uploadLabel, this.canWrite);
    show(this.mkdirForm, this.canWrite);
    this.status.textContent = '';
    show(this.progress, false);
    this.list.replaceChildren();
    if (!may(session, 'exchange:read')) {
      // Listing is refused without exchange:read: say so in the panel, not as an error.
      this.status.textContent = this.canWrite
        ? 'This account may upload here but not list the folder.'
        : 'This account may not use the exchange folder.';
      return;
    }
    this.open('.');
  }

  stop() {
    this.controller?.abort();
    this.list.replaceChildren();
  }

  // call runs one API call, saying after a moment that the host is asking when the
  // privilege it needs is "ask", and shows a refusal as the host worded it.
  async call(what, ask, fn) {
    const hint = setTimeout(() => {
      if (ask) {
        this.status.textContent = 'waiting for the person at the host to allow this…';
      }
    }, askHintMs);
    try {
      return await fn();
    } catch (err) {
      if (err.name !== 'AbortError') {
        this.errors.show(`${what}: ${err.message}`);
      }
      return undefined;
    } finally {
      clearTimeout(hint);
      if (this.status.textContent.startsWith('waiting')) {
        this.status.textContent = '';
      }
    }
  }

  async open(path) {
    const signal = this.controller.signal;
    const res = await this.call('list the folder', this.askRead,
      () => this.api.get(`/api/v1/exchange/list?${query(path)}`, { signal }));
    if (res === undefined) {
      return;
    }
    this.path = path;
    this.showPath();
    const entries = [...(res.entries ?? [])].sort((a, b) =>
      (b.dir - a.dir) || a.name.localeCompare(b.name));
    this.list.replaceChildren(...entries.map((e) => this.row(e)));
    if (entries.length === 0) {
      this.list.append(h('li', { class: 'empty muted', text: 'This folder is empty.' }));
    }
  }

  showPath() {
    const crumbs = [h('button', {
      type: 'button', class: 'link', text: 'Exchange', onclick: () => this.open('.'),
    })];
    let at = '.';
    for (const part of this.path === '.' ? [] : this.path.split('/')) {
      at = join(at, part);
      const target = at;
      crumbs.push(h('span', { class: 'sep', 'aria-hidden': 'true', text: '/' }),
        h('button', { type: 'button', class: 'link', text: part, onclick: () => this.open(target) }));
    }
    crumbs[crumbs.length - 1].setAttribute('aria-current', 'location');
    this.pathNav.replaceChildren(...crumbs);
    this.pathNav.dataset.path = this.path;
    this.up.disabled = this.path === '.';
  }

  row(entry) {
    const path = join(this.path, entry.name);
    const name = entry.dir
      ? h('button', {
        type: 'button', class: 'link name dir', text: `${entry.name}/`,
        'aria-label': `open folder ${entry.name}`, onclick: () => this.open(path),
      })
      : h('a', {
        class: 'name', text: entry.name, download: entry.name,
        href: `/api/v1/exchange/file?${query(path)}`, 'aria-label': `download ${entry.name}`,
      });
    const actions = h('span', { class: 'actions' });
    if (this.canDelete) {
      actions.append(
        h('button', { type: 'button', class: 'rename', text: 'Rename',
          'aria-label': `rename ${entry.name}`, onclick: (e) => this.startRename(e, entry) }),
        h('button', { type: 'button', class: 'delete danger', text: 'Delete',
          'aria-label': `delete ${entry.name}`, onclick: (e) => this.remove(e, entry) }));
    }
    return h('li', { dataset: { name: entry.name, dir: String(Boolean(entry.dir)) } },
      name,
      h('span', { class: 'size', text: entry.dir ? '' : formatBytes(entry.size) }),
      h('time', { class: 'modified', datetime: entry.modified, text: formatTime(entry.modified) }),
      actions);
  }

  startRename(e, entry) {
    const row = e.target.closest('li');
    const input = h('input', {
      type: 'text', class: 'rename-input', value: entry.name, required: true,
      'aria-label': `new name for ${entry.name}`, autocomplete: 'off', spellcheck: 'false',
    });
    const form = h('form', { class: 'rename-form' }, input,
      h('button', { type: 'submit', text: 'Save' }),
      h('button', { type: 'button', text: 'Cancel', onclick: () => this.open(this.path) }));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const to = input.value.trim();
      if (to === '' || to === entry.name) {
        this.open(this.path);
        return;
      }
      const done = await this.call(`rename ${entry.name}`, this.askDelete, () => this.api.post(
        '/api/v1/exchange/rename', { from: join(this.path, entry.name), to: join(this.path, to) },
        { signal: this.controller.signal }));
      if (done !== undefined) {
        this.open(this.path);
      }
    });
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        this.open(this.path);
      }
    });
    row.replaceChildren(form);
    input.focus();
    input.select();
  }

  // remove deletes on a second press of the same button, so one slip deletes nothing.
  async remove(e, entry) {
    const button = e.currentTarget;
    if (button.dataset.armed !== 'true') {
      button.dataset.armed = 'true';
      button.textContent = 'Really delete?';
      setTimeout(() => {
        button.dataset.armed = 'false';
        button.textContent = 'Delete';
      }, confirmMs);
      return;
    }
    const done = await this.call(`delete ${entry.name}`, this.askDelete, () => this.api.delete(
      `/api/v1/exchange/file?${query(join(this.path, entry.name))}`,
      { signal: this.controller.signal }));
    if (done !== undefined) {
      this.open(this.path);
    }
  }

  async mkdir() {
    const name = this.mkdirName.value.trim();
    if (name === '') {
      return;
    }
    const done = await this.call('make the folder', this.askWrite, () => this.api.post(
      '/api/v1/exchange/mkdir', { path: join(this.path, name) },
      { signal: this.controller.signal }));
    if (done !== undefined) {
      this.mkdirName.value = '';
      this.open(this.path);
    }
  }

  // uploadFiles puts the files into the current folder one after another, with one progress
  // bar for all of them.
  async uploadFiles(files) {
    if (files.length === 0) {
      return;
    }
    const dir = this.path;
    const total = files.reduce((sum, f) => sum + f.size, 0);
    const started = performance.now();
    let before = 0;
    this.upload.disabled = true;
    this.progress.max = total || 1;
    this.progress.value = 0;
    show(this.progress, true);
    try {
      for (const file of files) {
        const done = await this.call(`upload ${file.name}`, this.askWrite, () => this.api.upload(
          'PUT', `/api/v1/exchange/file?${query(join(dir, file.name))}`, file, {
            signal: this.controller.signal,
            onProgress: (sent) => {
              const seconds = (performance.now() - started) / 1000;
              this.progress.value = before + sent;
              this.status.textContent = `uploading ${file.name}: ` +
                `${formatBytes(before + sent)} of ${formatBytes(total)} · ` +
                formatRate(before + sent, seconds);
            },
          }));
        if (done === undefined) {
          this.status.textContent = `stopped at ${file.name}`;
          return;
        }
        before += file.size;
      }
      const seconds = (performance.now() - started) / 1000;
      this.status.textContent = `uploaded ${files.length} file${files.length === 1 ? '' : 's'}, ` +
        `${formatBytes(total)} · ${formatRate(total, seconds)}`;
    } finally {
      this.upload.disabled = false;
      this.upload.value = '';
      show(this.progress, false);
      if (this.path === dir) {
        this.open(dir);
      }
    }
  }
}
