// api.js talks to the host's JSON API under /api/v1 (the contract is the README's console
// section): the CSRF header on every state change, errors turned into readable ApiErrors,
// uploads with progress, and the events long poll.

// ApiError is a refusal or failure, with the host's text for a person as its message.
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

// may reports whether the session's account can use a privilege, perhaps after asking the
// person at the host ("ask").
export function may(session, privilege) {
  const mode = session.privileges?.[privilege];
  return mode === 'allow' || mode === 'ask';
}

// asks reports whether using a privilege waits for the person at the host to say yes.
export function asks(session, privilege) {
  return session.privileges?.[privilege] === 'ask';
}

const unreachable = 'the host did not answer: is buktu still running there, and the network up?';

// errorFrom reads the host's {"error": "..."} body, or says what the status means.
async function errorFrom(status, headers, text) {
  let message = '';
  try {
    message = JSON.parse(text).error || '';
  } catch {
    // Not JSON (a proxy's page, say): the status below says enough.
  }
  if (status === 429 && !message) {
    const wait = Number(headers.get('Retry-After'));
    const after = wait > 0 ? ` in ${wait} s` : ' later';
    return new ApiError(status, `too many tries: try again${after}`);
  }
  return new ApiError(status, message || `the host answered ${status}`);
}

// Api is one console's connection to the host: it holds the session's CSRF token and calls
// onSignedOut when the host says the session is gone (401 on a call that needs one).
export class Api {
  constructor({ onSignedOut }) {
    this.csrf = '';
    this.onSignedOut = onSignedOut;
  }

  // request sends one API call and returns the decoded JSON (null when there is no body).
  // json is sent as the body; session: false marks calls where 401 is an answer, not an end.
  async request(method, path, { json, signal, session = true } = {}) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET' && this.csrf) {
      headers['X-CSRF-Token'] = this.csrf;
    }
    const init = { method, headers, signal, credentials: 'same-origin', cache: 'no-store' };
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(json);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (err) {
      if (signal?.aborted) {
        throw err;
      }
      throw new ApiError(0, unreachable);
    }
    const text = await res.text();
    if (!res.ok) {
      const err = await errorFrom(res.status, res.headers, text);
      if (res.status === 401 && session) {
        this.onSignedOut('your session has ended: log in again');
      }
      throw err;
    }
    return text === '' ? null : JSON.parse(text);
  }

  get(path, opts) {
    return this.request('GET', path, opts);
  }

  post(path, json, opts) {
    return this.request('POST', path, { ...opts, json });
  }

  delete(path, opts) {
    return this.request('DELETE', path, opts);
  }

  // upload sends a body (FormData or a File) with XMLHttpRequest, the one browser API that
  // reports upload progress: onProgress(sentBytes, totalBytes). It resolves to the decoded
  // JSON answer.
  upload(method, path, body, { onProgress, signal } = {}) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, path);
      xhr.setRequestHeader('Accept', 'application/json');
      if (this.csrf) {
        xhr.setRequestHeader('X-CSRF-Token', this.csrf);
      }
      if (onProgress) {
        xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded, e.total));
      }
      xhr.addEventListener('load', async () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          try {
            resolve(xhr.responseText === '' ? null : JSON.parse(xhr.responseText));
          } catch {
            reject(new ApiError(xhr.status, 'the host sent an answer the console cannot read'));
          }
          return;
        }
        const headers = { get: (name) => xhr.getResponseHeader(name) };
        if (xhr.status === 401) {
          this.onSignedOut('your session has ended: log in again');
        }
        reject(await errorFrom(xhr.status, headers, xhr.responseText));
      });
      xhr.addEventListener('error', () => reject(new ApiError(0, unreachable)));
      xhr.addEventListener('abort', () => reject(new DOMException('upload stopped', 'AbortError')));
      signal?.addEventListener('abort', () => xhr.abort(), { once: true });
      xhr.send(body);
    });
  }

  // events long-polls /api/v1/events until signal aborts, handing each batch to
  // onEvents(events, catchingUp). The first batch may hold events from before this page
  // loaded (catchingUp is true for it). Trouble is reported through onTrouble(err) and
  // onRecovered(), and retried with a growing pause.
  async events(signal, { onEvents, onTrouble, onRecovered }) {
    let after = 0;
    let catchingUp = true;
    let pause = 1000;
    let troubled = false;
    while (!signal.aborted) {
      try {
        const res = await this.get(`/api/v1/events?after=${after}`, { signal });
        after = res?.next ?? after;
        pause = 1000;
        if (troubled) {
          troubled = false;
          onRecovered();
        }
        onEvents(res?.events ?? [], catchingUp);
        catchingUp = false;
      } catch (err) {
        if (signal.aborted || err.status === 401) {
          return;
        }
        troubled = true;
        onTrouble(err);
        await sleep(pause, signal);
        pause = Math.min(pause * 2, 30000);
      }
    }
  }
}

// sleep waits, or ends early when signal aborts.
function sleep(ms, signal) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
