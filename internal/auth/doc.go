// Package auth owns buktu's accounts: who may log in, with which password or SSH keys, and what
// each account may do.
//
// A [Store] keeps the accounts in one JSON file in the data directory. The CLI (`buktu user …`)
// and a running host may both hold a Store on the same file: writes take a lock file and replace
// the file atomically, and every lookup notices a newer file, so changes apply without a restart.
//
// An [Authenticator] checks passwords (argon2id) and public keys against a Store, throttles
// password guessing per source address without ever locking an account ([Throttle]), and
// reports every decision through a callback that the host turns into activity-log events.
//
// Each account gives every [Privilege] a [Mode]: [Allow], [Ask] or [Deny]. The package stores and
// reports Ask; asking the person at the host, and what a port allows at most, are left to the
// services and to the host. Sessions, transport security and the activity log itself live
// elsewhere.
//
// Guest access is an account named "guest" (see [GuestName]) created by [Store.EnableGuest]. It
// has no password: when enabled, any password, any key or no credentials at all log in as guest.
// It never holds the admin privilege. Without that account, or with it disabled, guest logins fail.
package auth
