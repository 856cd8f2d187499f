// send.js is the Send panel: files (picked, or dropped with their folders) and an optional
// note go to the host's inbox in one multipart upload, with progress, and come back as a list
// of what was stored with sizes and SHA-256 sums to compare.
import { $, h, show, formatBytes, formatRate } from './dom.js';
import { asks } from './api.js';

// askHintMs is how long a request may go unanswered before we say the host is asking.
export const askHintMs = 1000;

// SendPanel owns the #send-* elements.
export class SendPanel {
  constructor(api, errors) {
    this.api = api;
    this.errors = errors;
    this.form = $('send-form');
    this.drop = $('send-drop');
    this.input = $('send-files');
    this.selected = $('send-selected');
    this.summary = $('send-summary');
    this.clearButton = $('send-clear');
    this.note = $('send-note');
    this.submit = $('send-submit');
    this.progress = $('send-progress');
    this.status = $('send-status');
    this.result = $('send-result');
    this.files = []; // {file, name}: name may hold "/" for a dropped folder's files
    this.busy = false;
    this.controller = null;

    this.input.addEventListener('change', () => {
      this.setFiles([...this.input.files].map((file) => ({
        file, name: file.webkitRelativePath || file.name,
      })));
    });
    this.clearButton.addEventListener('click', () => this.setFiles([]));
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.send();
    });
    for (const type of ['dragenter', 'dragover']) {
      this.drop.addEventListener(type, (e) => {
        e.preventDefault();
        this.drop.classList.add('over');
      });
    }
    this.drop.addEventListener('dragleave', () => this.drop.classList.remove('over'));
    this.drop.addEventListener('drop', (e) => this.dropped(e));
  }

  start(session) {
    this.session = session;
    this.controller = new AbortController();
    this.setFiles([]);
    this.note.value = '';
    this.result.replaceChildren();
    this.status.textContent = '';
    show(this.progress, false);
  }

  stop() {
    this.controller?.abort();
  }

  async dropped(e) {
    e.preventDefault();
    this.drop.classList.remove('over');
    try {
      const entries = [...e.dataTransfer.items]
        .map((item) => item.webkitGetAsEntry?.())
        .filter(Boolean);
      const files = entries.length > 0
        ? (await Promise.all(entries.map((entry) => filesOf(entry, '')))).flat()
        : [...e.dataTransfer.files].map((file) => ({ file, name: file.name }));
      this.setFiles(this.files.concat(files));
    } catch (err) {
      this.errors.show(`read the dropped files: ${err.message}`);
    }
  }

  setFiles(files) {
    this.files = files;
    if (files.length === 0) {
      this.input.value = '';
    }
    const total = files.reduce((sum, f) => sum + f.file.size, 0);
    this.selected.replaceChildren(...files.slice(0, 50).map((f) =>
      h('li', {}, h('span', { class: 'name', text: f.name }),
        h('span', { class: 'size', text: formatBytes(f.file.size) }))));
    if (files.length > 50) {
      this.selected.append(h('li', { class: 'muted', text: `and ${files.length - 50} more` }));
    }
    this.summary.textContent = files.length === 0
      ? '' : `${files.length} file${files.length === 1 ? '' : 's'}, ${formatBytes(total)}`;
    show(this.clearButton, files.length > 0);
    this.submit.disabled = this.busy || files.length === 0;
  }

  async send() {
    if (this.busy || this.files.length === 0) {
      return;
    }
    const form = new FormData();
    if (this.note.value.trim() !== '') {
      form.append('note', this.note.value);
    }
    for (const f of this.files) {
      form.append('file', f.file, f.name);
    }
    this.busy = true;
    this.submit.disabled = true;
    this.progress.value = 0;
    show(this.progress, true);
    this.status.textContent = 'sending…';
    const started = performance.now();
    const hint = setTimeout(() => {
      if (asks(this.session, 'send')) {
        this.status.textContent = 'waiting for the person at the host to allow send…';
      }
    }, askHintMs);
    try {
      const res = await this.api.upload('POST', '/api/v1/send', form, {
        signal: this.controller.signal,
        onProgress: (sent, total) => {
          clearTimeout(hint);
          const seconds = (performance.now() - started) / 1000;
          this.progress.max = total || 1;
          this.progress.value = sent;
          this.status.textContent = sent < total
            ? `${formatBytes(sent)} of ${formatBytes(total)} · ${formatRate(sent, seconds)}`
            : 'the host is storing and checking the files…';
        },
      });
      const seconds = (performance.now() - started) / 1000;
      const bytes = this.files.reduce((sum, f) => sum + f.file.size, 0);
      this.status.textContent = `sent ${formatBytes(bytes)} in ${seconds.toFixed(1)} s · ` +
        formatRate(bytes, seconds);
      this.showResult(res);
      this.note.value = '';
      this.busy = false;
      this.setFiles([]);
    } catch (err) {
      if (err.name !== 'AbortError') {
        this.status.textContent = 'not sent';
        this.errors.show(`send: ${err.message}`);
      }
    } finally {
      clearTimeout(hint);
      this.busy = false;
      this.submit.disabled = this.files.length === 0;
      show(this.progress, false);
    }
  }

  showResult(res) {
    const rows = (res?.files ?? []).map((f) => h('li', { dataset: { name: f.name } },
      h('span', { class: 'name', text: f.name }),
      h('span', { class: 'size', text: formatBytes(f.size) }),
      h('code', { class: 'sha256', title: `SHA-256 ${f.sha256}`, text: f.sha256 })));
    if (res?.note) {
      rows.push(h('li', { class: 'note' }, h('span', { class: 'name', text: res.note }),
        h('span', { class: 'size', text: 'note' })));
    }
    this.result.replaceChildren(...rows);
  }
}

// filesOf lists the files under a dropped entry, with their paths below the drop.
async function filesOf(entry, prefix) {
  const name = prefix + entry.name;
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    return [{ file, name }];
  }
  const reader = entry.createReader();
  const children = [];
  // readEntries hands out a folder in batches until it returns an empty one.
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) {
      break;
    }
    children.push(...batch);
  }
  const nested = await Promise.all(children.map((child) => filesOf(child, `${name}/`)));
  return nested.flat();
}
