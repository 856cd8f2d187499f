// console.js starts the buktu console: the login form, then, once logged in, the top bar and
// the panels, fed by one events long poll. Each panel lives in its own module; this one only
// moves between "logged out" and "logged in" and routes the events.
import { $, show, Errors } from './dom.js';
import { Api, may } from './api.js';
import { ScreenPanel } from './screen.js';
import { SendPanel } from './send.js';
import { ExchangePanel } from './exchange.js';
import { ChatPanel } from './chat.js';
import { PeoplePanel } from './people.js';
import { AccountsPanel, ApprovalsPanel, InvitePanel } from './admin.js';

const troubleText = 'lost touch with the host: trying again…';

class Console {
  constructor() {
    this.errors = new Errors();
    this.api = new Api({ onSignedOut: (why) => this.signedOut(why) });
    this.loginView = $('login-view');
    this.consoleView = $('console-view');
    this.loginForm = $('login-form');
    this.loginError = $('login-error');
    this.loginSubmit = $('login-submit');
    this.screen = new ScreenPanel(this.api, this.errors);
    this.send = new SendPanel(this.api, this.errors);
    this.exchange = new ExchangePanel(this.api, this.errors);
    this.chat = new ChatPanel(this.api, this.errors);
    this.people = new PeoplePanel(this.api, this.errors);
    this.approvals = new ApprovalsPanel(this.api, this.errors);
    this.invite = new InvitePanel(this.api, this.errors);
    this.accounts = new AccountsPanel(this.api, this.errors);
    this.live = null; // {session, controller} while logged in

    this.loginForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.login();
    });
    // The button stays off until this script runs: before, a submit would be the browser's.
    this.loginSubmit.disabled = false;
    $('logout').addEventListener('click', () => this.logout());
  }

  // boot asks the host whether this browser is already logged in (a reloaded page).
  async boot() {
    let session;
    try {
      session = await this.api.get('/api/v1/session', { session: false });
    } catch (err) {
      // A quick person may have logged in through the form while we asked.
      if (!this.live) {
        this.showLogin(err.status === 401 ? '' : err.message);
      }
      return;
    }
    if (!this.live) {
      this.enter(session);
    }
  }

  async login() {
    this.loginSubmit.disabled = true;
    this.showLoginError('');
    try {
      const session = await this.api.post('/api/v1/login', {
        account: $('login-account').value.trim(),
        password: $('login-password').value,
      }, { session: false });
      $('login-password').value = '';
      this.enter(session);
    } catch (err) {
      this.showLoginError(err.message);
      $('login-password').select();
    } finally {
      this.loginSubmit.disabled = false;
    }
  }

  async logout() {
    try {
      await this.api.post('/api/v1/logout', undefined, { session: false });
    } catch (err) {
      if (err.status !== 401) {
        this.errors.show(`log out: ${err.message}`);
        return;
      }
    }
    this.leave();
    this.showLogin('');
  }

  // signedOut is the host telling us the session is gone (expired, or disconnected by an
  // admin): back to the login form, saying why.
  signedOut(why) {
    if (!this.live) {
      return;
    }
    this.leave();
    this.showLogin(why);
  }

  enter(session) {
    this.leave();
    this.api.csrf = session.csrf;
    const controller = new AbortController();
    this.live = { session, controller };
    this.errors.clear();
    this.showSession(session);
    show(this.loginView, false);
    show(this.consoleView, true);
    document.body.dataset.view = 'console';
    for (const panel of this.panels()) {
      panel.start(session);
    }
    this.loadHost(controller.signal);
    this.api.events(controller.signal, {
      onEvents: (events, catchingUp) => this.route(events, catchingUp),
      onTrouble: () => this.errors.show(troubleText),
      onRecovered: () => {
        this.errors.clear(troubleText);
        this.people.refresh(); // what changed while we were away
      },
    });
  }

  leave() {
    if (!this.live) {
      return;
    }
    this.live.controller.abort();
    this.live = null;
    for (const panel of this.panels()) {
      panel.stop();
    }
    this.api.csrf = '';
  }

  panels() {
    return [this.screen, this.send, this.exchange, this.chat, this.people, this.approvals,
      this.invite, this.accounts];
  }

  showLogin(message) {
    show(this.consoleView, false);
    show(this.loginView, true);
    document.body.dataset.view = 'login';
    this.showLoginError(message);
    $('login-account').focus();
  }

  showLoginError(message) {
    this.loginError.textContent = message;
    show(this.loginError, message !== '');
  }

  showSession(session) {
    const viewOnly = session.service !== 'control' || !may(session, 'control');
    $('whoami').textContent = session.account;
    const service = $('whoami-service');
    service.textContent = viewOnly ? 'observe' : 'control';
    service.dataset.service = viewOnly ? 'observe' : 'control';
    show($('send-panel'), may(session, 'send'));
    show($('exchange-panel'), may(session, 'exchange:read'));
    show($('files-link'), may(session, 'send') || may(session, 'exchange:read'));
  }

  async loadHost(signal) {
    $('host-name').textContent = location.hostname;
    $('tls-fingerprint').textContent = '';
    try {
      const host = await this.api.get('/api/v1/host', { signal });
      $('host-name').textContent = host.name || location.hostname;
      document.title = host.name || 'buktu';
      $('tls-fingerprint').textContent = host.tls_sha256 || 'unknown';
      $('host-version').textContent = host.version ? `buktu ${host.version}` : '';
    } catch (err) {
      if (err.name !== 'AbortError') {
        this.errors.show(`ask the host who it is: ${err.message}`);
      }
    }
  }

  route(events, catchingUp) {
    for (const ev of events) {
      switch (ev.type) {
        case 'chat':
          this.chat.add(ev);
          break;
        case 'approval':
          this.approvals.add(ev);
          break;
        case 'approval_done':
          this.approvals.done(ev.id);
          break;
        case 'notify':
          this.people.notified(ev, catchingUp);
          break;
        case 'sessions':
          this.people.refresh();
          break;
        default:
          // A newer host's event this page does not know: nothing to show.
      }
    }
  }
}

new Console().boot();
