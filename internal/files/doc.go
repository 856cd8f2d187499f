// Package files owns what the file services may do to the host's disk: the Send inbox (create
// only, never list, read or overwrite) and the Exchange folder (read, write, delete as allowed),
// both jailed with os.Root; uploads that become visible only when complete and that resume after
// a drop; and the SHA-256 of every transfer. It knows nothing of SSH: the sftp.Handlers here are
// adapters over the policies, and the web console uses the same policies directly.
package files
