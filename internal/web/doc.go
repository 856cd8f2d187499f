// Package web owns the HTTPS side of the Control and Observe ports: telling a browser's TLS
// ClientHello from a VNC client that waits (Split), the console's sessions (cookie, CSRF and
// Origin checks, expiry), the JSON API under /api/v1, the long-poll event feed, the screen
// WebSocket that carries RFB inside the authenticated session, and asking the person at the
// host when a privilege is "ask". The HTTP contract it serves is the console's: see the
// README's console section.
//
// It owns no policy of its own. Passwords and throttling are the host's Login callback; files
// go through package files' Inbox and Exchange, the same code SFTP uses; the RFB session is
// the host's Screen callback; who is connected, chat and ask-for-permission are packages who,
// chat and ask; the activity log is written by the host from Record. The browser's files come
// from Assets (package web at the top of the module builds them); this package only serves them.
//
// # Events
//
// GET /api/v1/events?after=N is a cursor: "next" in a reply is what to pass as after in the
// following request, and a reply holds the events whose seq is at least after. after=0 (or
// none) answers at once with no events and the cursor of now: a console fetches the chat
// transcript, the sessions and the approvals, then follows the feed from there. An after from
// before a restart of the host (beyond the feed's end) is treated the same way.
package web
