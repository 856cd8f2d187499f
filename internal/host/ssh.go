package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/buktu/buktu/internal/ask"
	"github.com/buktu/buktu/internal/auth"
	"github.com/buktu/buktu/internal/chat"
	"github.com/buktu/buktu/internal/config"
	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/files"
	"github.com/buktu/buktu/internal/identity"
	"github.com/buktu/buktu/internal/sshd"
	"github.com/buktu/buktu/internal/who"
)

// Version is buktu's version, told to clients that ask.
const Version = "0.1.0"

// host holds what the services share.
type host struct {
	cfg      config.Config
	log      *slog.Logger
	store    *auth.Store
	throttle *auth.Throttle
	activity *events.Log
	inbox    *files.Inbox
	inboxDir string
	exchange *files.Exchange
	hooks    sync.WaitGroup // on_receive commands running

	dataDir string
	out     io.Writer     // the host's standard output: what the person at the host reads
	who     *who.Registry // who is connected, on every port
	chat    *chat.Room    // the chat transcript
	ask     *ask.Queue    // sessions waiting for the person at the host
}

var (
	_ sshd.Handler = (*sendHandler)(nil)
	_ sshd.Handler = (*exchangeHandler)(nil)
)

func (h *host) record(r events.Record) {
	if err := h.activity.Append(r); err != nil {
		h.log.Error("write activity log", "err", err)
	}
}

// loginRecord records a login decision of service name.
func (h *host) loginRecord(name config.Service, d auth.Decision) {
	outcome := events.OutcomeOK
	if !d.OK {
		outcome = events.OutcomeFailed
	}
	// Login counts repeated refusals from one address into one record (issue 10).
	err := h.activity.Login(events.Record{Kind: events.KindLogin, Outcome: outcome, Account: d.Account,
		Service: string(name), Remote: d.Remote.String(), Method: d.Method, Reason: d.Reason})
	if err != nil {
		h.log.Error("write activity log", "err", err)
	}
}

// authenticator checks the logins of one port: every port shares the accounts and the
// throttle, and logs its decisions under its own name.
func (h *host) authenticator(name config.Service) *auth.Authenticator {
	return &auth.Authenticator{Store: h.store, Throttle: h.throttle,
		OnDecision: func(d auth.Decision) { h.loginRecord(name, d) }}
}

// sshServer builds the SSH server of the send or exchange port.
func (h *host) sshServer(name config.Service, id *identity.Identity) *sshd.Server {
	a := h.authenticator(name)
	lim := h.cfg.Limits
	return &sshd.Server{
		Signer: id.SSHSigner,
		Logger: h.log.With("svc", string(name)),
		Password: func(ctx context.Context, user, pw string, remote netip.AddrPort) (string, error) {
			acct, err := a.CheckPassword(ctx, user, pw, remote.Addr())
			if te, ok := errors.AsType[*auth.ThrottledError](err); ok {
				// OpenSSH shows a banner to the person typing: say why the password was not
				// even checked.
				return "", &ssh.BannerError{Err: err, Message: "buktu: " + te.Message() + "\n"}
			}
			return acct.Name, err
		},
		PublicKey: func(ctx context.Context, user string, key ssh.PublicKey, remote netip.AddrPort, verified bool) (string, error) {
			check := a.CheckKey
			if verified {
				check = a.CheckVerifiedKey
			}
			acct, err := check(ctx, user, key, remote.Addr())
			return acct.Name, err
		},
		None: func(ctx context.Context, user string, remote netip.AddrPort) (string, error) {
			acct, err := a.CheckNone(ctx, user, remote.Addr())
			return acct.Name, err
		},
		Open: func(ctx context.Context, c sshd.Conn) (sshd.Handler, error) {
			return h.open(ctx, name, c)
		},
		HandshakeTimeout: lim.HandshakeTimeout.Std(),
		IdleTimeout:      lim.IdleTimeout.Std(),
		ShutdownGrace:    lim.ShutdownGrace.Std(),
		MaxConns:         lim.MaxSessions,
		MaxConnsPerAddr:  lim.MaxSessionsPerAddress,
		Pending:          h.pending(),
	}
}

// open decides, from the account's privileges as they are now, what the connection may do.
// A privilege set to ask holds the connection until the person at the host answers.
func (h *host) open(ctx context.Context, name config.Service, c sshd.Conn) (sshd.Handler, error) {
	acct, err := h.store.Get(c.Account)
	if err != nil {
		return nil, fmt.Errorf("read account: %w", err)
	}
	remote := c.Remote.String()
	decide := func(p auth.Privilege) bool { return h.allowed(ctx, acct, p, string(name), remote, c.ID) }
	started := time.Now()
	var leave func()
	start := func() {
		h.record(events.Record{Kind: events.KindSessionStart, Account: acct.Name, Service: string(name),
			Remote: remote, Session: c.ID, Method: c.Method})
		leave = h.join(acct.Name, remote, string(name), c.Disconnect)
	}
	end := func() {
		leave()
		h.record(events.Record{Kind: events.KindSessionEnd, Account: acct.Name, Service: string(name),
			Remote: remote, Session: c.ID, DurationMS: time.Since(started).Milliseconds()})
	}
	onDone := func(t files.Transfer) { h.transferred(c.ID, t) }
	switch name {
	case config.Send:
		if !decide(auth.PrivSend) {
			return nil, &sshd.RefusedError{Message: "account " + acct.Name + " may not send files to this host"}
		}
		start()
		return &sendHandler{acct: acct.Name, s: h.inbox.Session(acct.Name, remote, onDone), end: end}, nil
	case config.Exchange:
		// Each part of the folder's use is its own privilege; asking holds the connection
		// once per privilege set to ask, read first.
		var access files.Access
		for _, p := range []struct {
			priv auth.Privilege
			to   *bool
		}{{auth.PrivExchangeRead, &access.Read}, {auth.PrivExchangeWrite, &access.Write}, {auth.PrivExchangeDelete, &access.Delete}} {
			if acct.Mode(p.priv) != auth.Deny {
				*p.to = decide(p.priv)
			}
		}
		if !access.Read && !access.Write && !access.Delete {
			if acct.Mode(auth.PrivExchangeRead) == auth.Deny && acct.Mode(auth.PrivExchangeWrite) == auth.Deny &&
				acct.Mode(auth.PrivExchangeDelete) == auth.Deny {
				decide(auth.PrivExchangeRead) // logs the refusal
			}
			return nil, &sshd.RefusedError{Message: "account " + acct.Name + " may not use the exchange folder of this host"}
		}
		start()
		return &exchangeHandler{acct: acct.Name, s: h.exchange.Session(acct.Name, remote, access, onDone), end: end}, nil
	}
	return nil, errors.New("no such service")
}

// transferred records a transfer and, for a file that arrived in the inbox, runs the hook.
func (h *host) transferred(session string, t files.Transfer) {
	action := events.ActionDownload
	if t.Upload {
		action = events.ActionUpload
	}
	outcome, reason := events.OutcomeOK, ""
	if !t.Complete {
		outcome, reason = events.OutcomeFailed, failure(t)
	}
	if t.Resumed > 0 {
		reason = strings.TrimPrefix(reason+"; resumed at byte "+strconv.FormatInt(t.Resumed, 10), "; ")
	}
	h.record(events.Record{Kind: events.KindFile, Outcome: outcome, Account: t.Account, Service: t.Service,
		Remote: t.Remote, Session: session, Action: action, Path: t.Path, Size: t.Size, SHA256: t.SHA256,
		DurationMS: t.Duration.Milliseconds(), Reason: reason})
	if t.Service == "send" && t.Complete {
		h.log.Info("file arrived", "account", t.Account, "path", t.Path, "size", t.Size)
		if cmd := h.cfg.Hooks.OnReceive; cmd != "" {
			h.hooks.Go(func() { h.runHook(cmd, t) })
		}
	}
}

// failure says why a transfer did not complete, and what became of an upload's data, in
// words that name no host path: the console shows the activity log to admins.
func failure(t files.Transfer) string {
	reason := "interrupted"
	if t.Err != nil {
		reason = clientError(t.Err)
	}
	switch {
	case !t.Upload:
	case t.Kept:
		reason += "; partial upload kept to resume"
	case t.Err != nil:
		reason += "; partial upload removed"
	}
	return reason
}

// runHook runs the on_receive command with the file's path as its last argument.
func (h *host) runHook(command string, t files.Transfer) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	path := filepath.Join(h.inboxDir, filepath.FromSlash(t.Path))
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command+` "$@"`, "on_receive", path)
	cmd.Env = append(os.Environ(), "BUKTU_SENDER="+t.Account, "BUKTU_SIZE="+strconv.FormatInt(t.Size, 10),
		"BUKTU_SHA256="+t.SHA256, "BUKTU_PATH="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		h.log.Warn("on_receive hook failed", "path", t.Path, "err", err, "output", string(out))
	}
}

type sendHandler struct {
	acct string
	s    *files.InboxSession
	end  func()
}

func (h *sendHandler) SFTP() sftp.Handlers { return files.InboxHandlers(h.s) }
func (h *sendHandler) Busy() bool          { return h.s.Busy() }
func (h *sendHandler) Close() error        { h.end(); return nil }

// PutSink receives a put stream into the sender's inbox, as SFTP uploads would arrive.
func (h *sendHandler) PutSink() sshd.PutSink {
	return uploadSink{
		create: h.s.Create,
		name:   func(placed string) string { return strings.TrimPrefix(placed, h.acct+"/") },
	}
}

func (h *sendHandler) Request(name string, payload []byte) ([]byte, error) {
	switch name {
	case sshd.ReqHello:
		return sshd.Marshal(sshd.HelloReply{Service: "send", Account: h.acct, Version: Version}), nil
	case sshd.ReqSHA256:
		return sums(payload, func(p string) sshd.FileSum {
			r, ok := h.s.Result(p)
			if !ok {
				return sshd.FileSum{Error: "no recent complete upload of that name"}
			}
			return sshd.FileSum{Path: r.Path, Size: uint64(r.Size), SHA256: r.SHA256}
		})
	case sshd.ReqPartial:
		return sums(payload, func(p string) sshd.FileSum { return partial(h.s.Partial(p)) })
	case sshd.ReqNote:
		text, files, err := sshd.UnmarshalNote(payload)
		if err != nil {
			return nil, errors.New("bad note request")
		}
		name, err := h.s.Note(text, files)
		if err != nil {
			return nil, errors.New("the note could not be stored: " + clientError(err))
		}
		return sshd.Marshal(sshd.NoteReply{Name: name}), nil
	}
	return nil, sshd.ErrUnknownRequest
}

type exchangeHandler struct {
	acct string
	s    *files.ExchangeSession
	end  func()
}

func (h *exchangeHandler) SFTP() sftp.Handlers { return files.ExchangeHandlers(h.s) }
func (h *exchangeHandler) Busy() bool          { return h.s.Busy() }
func (h *exchangeHandler) Close() error        { h.end(); return nil }

// PutSink receives a put stream into the exchange folder, as SFTP uploads would arrive.
func (h *exchangeHandler) PutSink() sshd.PutSink {
	return uploadSink{
		create: h.s.Create,
		name:   func(placed string) string { return placed },
	}
}

// uploadSink puts the files of a put stream through files' uploads: the same policy, names,
// activity log and hooks as SFTP, with a batch made durable at once (files.CloseAll).
type uploadSink struct {
	create func(path string, resume bool) (*files.Upload, error)
	name   func(placed string) string // the name the client knows a placed file by
}

func (u uploadSink) Create(p string, _, offset int64) (sshd.PutFile, error) {
	up, err := u.create(p, offset > 0)
	if err != nil {
		return nil, errors.New(clientError(err))
	}
	if held := up.Offset(); held != offset {
		up.Discard() // what the host has stays, to resume from where it is
		return nil, fmt.Errorf("the host holds %d bytes of this upload, not %d: send it again", held, offset)
	}
	return putFile{up}, nil
}

// putFile is an upload on the put stream, whose write errors go to the client: in
// Explain's words, never the file's own, which name host paths.
type putFile struct{ *files.Upload }

func (f putFile) WriteAt(b []byte, off int64) (int, error) {
	n, err := f.Upload.WriteAt(b, off)
	if err != nil {
		return n, errors.New(clientError(err))
	}
	return n, nil
}

func (u uploadSink) Finish(fs []sshd.PutFile) []sshd.FileSum {
	ups := make([]*files.Upload, len(fs))
	for i, f := range fs {
		ups[i] = f.(putFile).Upload
	}
	ts, errs := files.CloseAll(ups)
	sums := make([]sshd.FileSum, len(fs))
	for i, t := range ts {
		if errs[i] != nil {
			sums[i] = sshd.FileSum{Error: clientError(errs[i])}
			continue
		}
		sums[i] = sshd.FileSum{Path: u.name(t.Path), Size: uint64(t.Size), SHA256: t.SHA256}
	}
	return sums
}

func (u uploadSink) Discard(f sshd.PutFile) { f.(putFile).Discard() }

func (u uploadSink) Interrupt(f sshd.PutFile) {
	up := f.(putFile)
	up.Interrupt()
	up.Close()
}

// OpenGet opens a file for buktu's get stream, with the same policy as an SFTP read.
func (h *exchangeHandler) OpenGet(p string) (sshd.GetFile, error) {
	d, err := h.s.Open(p)
	if err != nil {
		return nil, errors.New(clientError(err))
	}
	return getFile{d, h.s, p}, nil
}

// getFile is a download served on the get stream.
type getFile struct {
	*files.Download
	s    *files.ExchangeSession
	path string
}

// Finish closes the download and returns the sum made while serving it; a download that
// started past the beginning has none, so the file is hashed (or its sum found in the cache).
func (g getFile) Finish() (int64, string, error) {
	g.Close()
	if n, sum, ok := g.Sum(); ok {
		return n, sum, nil
	}
	n, sum, err := g.s.SHA256(g.path)
	if err != nil {
		return 0, "", errors.New(clientError(err))
	}
	return n, sum, nil
}

func (h *exchangeHandler) Request(name string, payload []byte) ([]byte, error) {
	switch name {
	case sshd.ReqHello:
		return sshd.Marshal(sshd.HelloReply{Service: "exchange", Account: h.acct, Version: Version}), nil
	case sshd.ReqSHA256:
		return sums(payload, func(p string) sshd.FileSum {
			n, sum, err := h.s.SHA256(p)
			if err != nil {
				return sshd.FileSum{Error: clientError(err)}
			}
			rel, _ := files.Clean(p, 1<<16)
			return sshd.FileSum{Path: rel, Size: uint64(n), SHA256: sum}
		})
	case sshd.ReqPartial:
		return sums(payload, func(p string) sshd.FileSum { return partial(h.s.Partial(p)) })
	}
	return nil, sshd.ErrUnknownRequest
}

// maxPaths bounds one sums request: each path may cost a file's read.
const maxPaths = 4096

func sums(payload []byte, one func(string) sshd.FileSum) ([]byte, error) {
	paths, err := sshd.UnmarshalPaths(payload)
	if err != nil {
		return nil, errors.New("bad request")
	}
	if len(paths) > maxPaths {
		return nil, fmt.Errorf("at most %d paths in one request", maxPaths)
	}
	out := make([]sshd.FileSum, len(paths))
	for i, p := range paths {
		out[i] = one(p)
	}
	return sshd.MarshalSums(out), nil
}

func partial(size int64, sum string, err error) sshd.FileSum {
	if err != nil {
		return sshd.FileSum{Error: clientError(err)}
	}
	return sshd.FileSum{Size: uint64(size), SHA256: sum}
}

// clientError is the text a client may see for a file error: Explain's, which never names a
// host path.
func clientError(err error) string {
	_, msg := files.Explain(err)
	return msg
}
