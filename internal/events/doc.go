// Package events owns buktu's activity log: the audit record of every login, session, file
// transfer and privilege decision, kept as JSON lines in the data directory. It writes the log
// (Log), reads it with filters (Read), shows it readably (Format) and checks it (Verify).
// Deciding what to record and when is left to the services and to host; flags and printing are
// left to cli. Diagnostic log lines belong to slog, not here.
//
// # Lines and the hash chain
//
// Each line is one JSON object, a Record, followed by '\n'. Seq is the 1-based line number. Prev is
// the hex SHA-256 of the previous line's exact bytes (without its newline); the first line has no
// prev. Hashing the bytes as written, not a re-encoding, keeps the scheme independent of how JSON
// is produced. Editing a line changes its bytes, so the next line's prev no longer matches;
// deleting, inserting or reordering lines breaks seq and prev as well.
//
// The last line has no successor to vouch for it, so Log also keeps a sidecar, path + ".head",
// holding the seq and hash of the last line ({"seq":42,"hash":"…"}). It is overwritten in place
// after every append with one pwrite; seq only grows, so the content never gets shorter and no
// stale bytes remain. A write-and-rename per record would be crash-atomic, but measured about
// 500 times slower than the pwrite (0.7 ms against 1.4 µs on a development machine); a head torn
// by a crash is instead reported when the log is next opened. Verify compares the log's end with the head, which catches removed final lines
// and an edited last line.
//
// The chain has no secret. It exposes damage and casual edits, not someone who can write the
// data directory and recompute every hash (or delete both files).
//
// # Durability, crashes and readers
//
// Append writes each line with a single write call and does not fsync, because it sits on the
// path of every login and file transfer; Sync and Close fsync both files. A crash of the host
// process loses nothing Append returned for; a power failure may lose what was written since the
// last Sync, about the last second if host syncs periodically (best effort).
//
// When Open finds the file ending in a line without '\n' (a crash in the middle of a write), it
// truncates those bytes, so the file stays valid JSON lines, and appends a log_recovered record
// whose Size and SHA256 describe what was dropped. When the log and its head disagree (lines
// missing from the end, the last line edited, the head missing or unreadable), Open appends a
// log_mismatch record saying what it found, so the evidence stays in the chain and the host still
// starts; Verify reports such records as problems. A head exactly one record behind is what a
// crash between writing a line and its head leaves, and is accepted.
//
// Only one process appends: Open takes an exclusive lock on the file. Other processes may read
// while it writes, and can meet a final line still being written: Read ignores a final line
// without '\n', and Verify notes it without failing.
package events
