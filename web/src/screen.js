// screen.js is the Screen panel: noVNC's RFB over wss://<this host>/ws/rfb, inside the session
// the page logged in with. All drawing is noVNC's: we only set it up and react to connection
// events, so nothing of ours runs per frame. It also shows the ask-for-permission wait: the
// host holds the WebSocket open without speaking RFB until the person there says yes.
import { RFB } from './novnc.js';
import { $, show } from './dom.js';
import { asks, may } from './api.js';

// keys are the X keysyms and DOM codes of the keys the keys menu sends (X11 keysymdef.h).
const keys = {
  escape: { keysym: 0xff1b, code: 'Escape' },
  tab: { keysym: 0xff09, code: 'Tab' },
  ctrl: { keysym: 0xffe3, code: 'ControlLeft' },
  alt: { keysym: 0xffe9, code: 'AltLeft' },
  super: { keysym: 0xffeb, code: 'MetaLeft' },
};

// waitAfterMs is how long the screen may stay silent before we say the host is asking its
// person: a host that is not asking greets at once. An open WebSocket that says nothing is
// always that; one still opening is, when the account's privilege is "ask" (the host may hold
// the upgrade itself).
const waitAfterMs = 1000;

// clipboardDelayMs lets typing in the clipboard box settle before it goes to the host.
const clipboardDelayMs = 300;

const scaleKey = 'buktu.screen.scale';

// ScreenPanel owns #screen and the controls around it.
export class ScreenPanel {
  constructor(api, errors) {
    this.api = api;
    this.errors = errors;
    this.panel = $('screen-panel');
    this.screen = $('screen');
    this.status = $('screen-status');
    this.waiting = $('waiting');
    this.waitingText = $('waiting-text');
    this.reconnect = $('screen-reconnect');
    this.scaleToggle = $('scale-toggle');
    this.fullscreen = $('fullscreen');
    this.keysMenu = $('keys-menu');
    this.clipboard = $('clipboard-text');
    this.rfb = null;
    this.viewOnly = true;
    this.fit = localStorage.getItem(scaleKey) !== '1:1';
    this.latched = new Set();
    this.clipboardTimer = 0;

    this.reconnect.addEventListener('click', () => this.connect());
    this.scaleToggle.addEventListener('click', () => this.setFit(!this.fit));
    this.fullscreen.addEventListener('click', () => this.toggleFullscreen());
    document.addEventListener('fullscreenchange', () => this.showFullscreen());
    show(this.fullscreen, document.fullscreenEnabled === true);
    this.keysMenu.addEventListener('click', (e) => this.pressKey(e));
    this.clipboard.addEventListener('input', () => this.clipboardEdited());
    this.showFit();
  }

  // start connects to the host's screen for a logged-in session.
  start(session) {
    this.viewOnly = session.service !== 'control' || !may(session, 'control');
    this.privilege = this.viewOnly ? 'observe' : 'control';
    this.mayAsk = asks(session, this.privilege);
    this.panel.dataset.access = this.viewOnly ? 'observe' : 'control';
    show(this.keysMenu, !this.viewOnly);
    this.clipboard.readOnly = this.viewOnly;
    this.clipboard.value = '';
    this.connect();
  }

  // stop ends the screen connection (logout, or the session ended).
  stop() {
    this.disconnect();
    this.setStatus('idle', 'not connected');
    show(this.waiting, false);
    show(this.reconnect, false);
  }

  connect() {
    this.disconnect();
    this.errors.clear();
    show(this.reconnect, false);
    show(this.waiting, false);
    this.setStatus('connecting', 'connecting…');

    // We open the WebSocket ourselves (noVNC accepts one instead of a URL) to see what RFB
    // does not tell: that it is open but silent (the host is asking), and the close reason.
    const url = `wss://${location.host}/ws/rfb?csrf=${encodeURIComponent(this.api.csrf)}`;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (err) {
      this.setStatus('failed', 'cannot connect');
      this.errors.show(`open the screen connection: ${err.message}`);
      return;
    }
    ws.binaryType = 'arraybuffer';
    const conn = { ws, opened: false, greeted: false, connected: false, reason: '', timer: 0 };
    conn.timer = setTimeout(() => this.showWaiting(conn, this.mayAsk), waitAfterMs);
    ws.addEventListener('open', () => {
      conn.opened = true;
      clearTimeout(conn.timer);
      conn.timer = setTimeout(() => this.showWaiting(conn, true), waitAfterMs);
    });
    ws.addEventListener('message', () => {
      conn.greeted = true;
      clearTimeout(conn.timer);
      show(this.waiting, false);
    }, { once: true });
    ws.addEventListener('close', (e) => {
      clearTimeout(conn.timer);
      conn.reason = conn.reason || e.reason;
    });

    let rfb;
    try {
      rfb = new RFB(this.screen, ws, { shared: true });
    } catch (err) {
      ws.close();
      this.setStatus('failed', 'cannot show the screen');
      this.errors.show(`show the screen: ${err.message}`);
      return;
    }
    rfb.viewOnly = this.viewOnly;
    rfb.scaleViewport = this.fit;
    rfb.background = 'transparent';
    rfb.focusOnClick = true;
    rfb.addEventListener('connect', () => {
      conn.connected = true;
      show(this.waiting, false);
      this.setStatus('connected', this.viewOnly ? 'connected, view only' : 'connected');
    });
    rfb.addEventListener('securityfailure', (e) => {
      conn.reason = e.detail.reason || 'the host refused the screen connection';
    });
    rfb.addEventListener('disconnect', (e) => this.disconnected(conn, e.detail.clean));
    rfb.addEventListener('clipboard', (e) => {
      if (this.clipboard.value !== e.detail.text) {
        this.clipboard.value = e.detail.text;
      }
    });
    rfb.addEventListener('desktopname', (e) => {
      this.screen.setAttribute('aria-label', `screen of ${e.detail.name}`);
    });
    this.rfb = rfb;
    this.conn = conn;
  }

  disconnect() {
    if (!this.rfb) {
      return;
    }
    const rfb = this.rfb;
    this.rfb = null;
    this.releaseLatched(rfb);
    clearTimeout(this.conn.timer);
    clearTimeout(this.clipboardTimer);
    rfb.disconnect();
  }

  showWaiting(conn, likely) {
    if (!likely || conn.greeted || this.conn !== conn || this.rfb === null) {
      return;
    }
    this.waiting.dataset.state = 'waiting';
    this.waitingText.textContent =
      `Waiting for the person at the host to allow ${this.privilege}…`;
    show(this.waiting, true);
    this.setStatus('waiting', 'waiting for permission');
  }

  disconnected(conn, clean) {
    if (this.conn !== conn) {
      return;
    }
    const wasLive = this.rfb !== null;
    this.rfb = null;
    this.latched.clear();
    this.showLatched();
    if (!wasLive) {
      return; // we hung up ourselves
    }
    show(this.reconnect, true);
    if (!conn.connected) {
      // Refused before the screen showed: by the person at the host, or by the host's rules.
      this.waiting.dataset.state = 'refused';
      this.waitingText.textContent = conn.reason || 'the host refused the screen connection';
      show(this.waiting, true);
      this.setStatus('refused', 'refused');
      return;
    }
    show(this.waiting, false);
    const what = clean ? 'disconnected' : 'connection lost';
    this.setStatus('disconnected', conn.reason ? `${what}: ${conn.reason}` : what);
  }

  setStatus(state, text) {
    this.status.dataset.state = state;
    this.status.textContent = text;
  }

  setFit(fit) {
    this.fit = fit;
    localStorage.setItem(scaleKey, fit ? 'fit' : '1:1');
    if (this.rfb) {
      this.rfb.scaleViewport = fit;
    }
    this.showFit();
  }

  showFit() {
    this.scaleToggle.setAttribute('aria-pressed', String(this.fit));
    this.scaleToggle.textContent = this.fit ? 'Scale: fit' : 'Scale: 1:1';
    this.screen.dataset.scale = this.fit ? 'fit' : '1:1';
  }

  async toggleFullscreen() {
    try {
      if (document.fullscreenElement) {
        await document.exitFullscreen();
      } else {
        await this.panel.requestFullscreen();
      }
    } catch (err) {
      this.errors.show(`full screen: ${err.message}`);
    }
  }

  showFullscreen() {
    const on = document.fullscreenElement === this.panel;
    this.fullscreen.setAttribute('aria-pressed', String(on));
    this.fullscreen.textContent = on ? 'Leave full screen' : 'Full screen';
    this.rfb?.focus();
  }

  // pressKey sends a key from the keys menu: a press for Ctrl-Alt-Del, Esc and Tab, and for
  // Ctrl, Alt and Super a latch that stays down until pressed again (so Ctrl + a click on
  // the screen works), then gives the keyboard back to the screen.
  pressKey(e) {
    const button = e.target.closest('button[data-key]');
    if (!button || !this.rfb) {
      return;
    }
    const name = button.dataset.key;
    if (name === 'ctrl-alt-del') {
      this.rfb.sendCtrlAltDel();
    } else if (button.hasAttribute('aria-pressed')) {
      const down = !this.latched.has(name);
      this.rfb.sendKey(keys[name].keysym, keys[name].code, down);
      if (down) {
        this.latched.add(name);
      } else {
        this.latched.delete(name);
      }
      this.showLatched();
    } else {
      this.rfb.sendKey(keys[name].keysym, keys[name].code);
    }
    this.rfb.focus();
  }

  releaseLatched(rfb) {
    for (const name of this.latched) {
      rfb.sendKey(keys[name].keysym, keys[name].code, false);
    }
    this.latched.clear();
    this.showLatched();
  }

  showLatched() {
    for (const b of this.keysMenu.querySelectorAll('button[aria-pressed]')) {
      b.setAttribute('aria-pressed', String(this.latched.has(b.dataset.key)));
    }
  }

  clipboardEdited() {
    clearTimeout(this.clipboardTimer);
    this.clipboardTimer = setTimeout(() => {
      this.rfb?.clipboardPasteFrom(this.clipboard.value);
    }, clipboardDelayMs);
  }
}
