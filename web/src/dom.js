// dom.js holds the few helpers every panel uses to build and show things. Text from the server
// only ever goes into textContent and attributes, never into HTML, so a file or account name
// cannot become markup.

// $ returns the element with the given id; a missing one is a bug in index.html, so it throws.
export function $(id) {
  const el = document.getElementById(id);
  if (!el) {
    throw new Error(`index.html has no #${id}`);
  }
  return el;
}

// h makes an element: h('button', { class: 'deny', text: 'Deny', onclick: fn }, ...children).
// Keys starting with "on" add listeners, "dataset" fills data-* attributes, false and null
// leave an attribute out and true sets an empty one.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (key === 'class') {
      el.className = value;
    } else if (key === 'text') {
      el.textContent = value;
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key.startsWith('on')) {
      el.addEventListener(key.slice(2), value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  el.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

// show shows or hides an element (the CSS makes [hidden] win over any display rule).
export function show(el, visible) {
  el.hidden = !visible;
}

const units = ['B', 'KB', 'MB', 'GB', 'TB'];

// formatBytes says a size the way people read it: 1.5 MB (powers of 1000, as disks are sold).
export function formatBytes(n) {
  let value = Number(n) || 0;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

// formatRate says a transfer rate from bytes and the seconds they took.
export function formatRate(bytes, seconds) {
  if (seconds <= 0) {
    return '';
  }
  return `${formatBytes(bytes / seconds)}/s`;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dated = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
});

// formatTime shows an RFC 3339 time as a clock time today, with the date on other days.
export function formatTime(iso) {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) {
    return '';
  }
  const today = new Date().toDateString() === t.toDateString();
  return (today ? clock : dated).format(t);
}

// Errors is the one place the console shows what went wrong (#error): one message at a time,
// the newest wins, and the person dismisses it. Never an alert().
export class Errors {
  constructor() {
    this.box = $('error');
    this.text = $('error-text');
    $('error-close').addEventListener('click', () => this.clear());
  }

  // show shows an Error's message, or a string.
  show(err) {
    this.text.textContent = typeof err === 'string' ? err : err.message;
    show(this.box, true);
  }

  // clear hides the message; with text, only when that message is the one showing, so that
  // something recovering does not hide someone else's news.
  clear(text) {
    if (text !== undefined && this.text.textContent !== text) {
      return;
    }
    this.text.textContent = '';
    show(this.box, false);
  }
}
