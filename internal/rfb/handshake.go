package rfb

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/buktu/buktu/internal/rfb/wire"
)

// handshake runs RFC 6143 section 7.1 to 7.3: version, security, ClientInit, ServerInit. It
// returns the connection to use from then on (inside TLS for VeNCrypt), and calls
// authenticated once the viewer has proved who it is.
func (s *Server) handshake(ctx context.Context, c net.Conn, remote netip.AddrPort, invited *Access, authenticated func()) (rw, wire.Version, Access, error) {
	conn := rw{c, bufio.NewReader(c)}
	if _, err := c.Write(wire.V38.Append(nil)); err != nil {
		return conn, 0, Access{}, err
	}
	v, err := wire.ReadVersion(conn)
	if err != nil {
		return conn, 0, Access{}, fmt.Errorf("read protocol version: %w", err)
	}
	var offered []wire.SecurityType
	if invited != nil {
		return s.invitedHandshake(ctx, conn, v, *invited)
	}
	if s.TLS != nil && v >= wire.V37 {
		offered = append(offered, wire.SecurityVeNCrypt)
	}
	if s.LegacyPassword != nil {
		offered = append(offered, wire.SecurityVNCAuth)
	}
	if len(offered) == 0 {
		reason := "this server needs VeNCrypt with TLS (RFB 3.7 or later); legacy VNC authentication is off"
		c.Write(wire.AppendSecurityFailure(nil, v, reason))
		return conn, v, Access{}, errors.New(reason)
	}
	var chosen wire.SecurityType
	if v == wire.V33 {
		chosen = wire.SecurityVNCAuth // the only one offered then
		if _, err := c.Write(wire.AppendSecurityType33(nil, chosen)); err != nil {
			return conn, v, Access{}, err
		}
	} else {
		if _, err := c.Write(wire.AppendSecurityTypes(nil, offered)); err != nil {
			return conn, v, Access{}, err
		}
		if chosen, err = wire.ReadSecurityChoice(conn, offered); err != nil {
			return conn, v, Access{}, fmt.Errorf("read security type: %w", err)
		}
	}
	var access Access
	switch chosen {
	case wire.SecurityVeNCrypt:
		conn, access, err = s.vencrypt(ctx, conn, remote)
	case wire.SecurityVNCAuth:
		access, err = s.vncAuth(conn)
	}
	if err == nil {
		authenticated()
	}
	if err == nil && s.Approve != nil && invited == nil {
		// The viewer has proved who it is: it may wait for the person at the host.
		c.SetDeadline(time.Time{})
		access, err = s.Approve(ctx, access, remote)
		c.SetDeadline(time.Now().Add(or(s.HandshakeTimeout, 30*time.Second)))
	}
	if err != nil {
		reason := "authentication failed"
		if de, ok := errors.AsType[*DeniedError](err); ok {
			reason = de.Reason
		}
		conn.Write(wire.AppendSecurityResultFailed(nil, v, reason))
		return conn, v, access, err
	}
	if _, err := conn.Write(wire.AppendSecurityResultOK(nil)); err != nil {
		return conn, v, access, err
	}
	return s.initSession(ctx, conn, v, access)
}

// invitedHandshake offers security type None: the viewer did not call in, it was invited.
func (s *Server) invitedHandshake(ctx context.Context, conn rw, v wire.Version, access Access) (rw, wire.Version, Access, error) {
	none := []wire.SecurityType{wire.SecurityNone}
	if v == wire.V33 {
		if _, err := conn.Write(wire.AppendSecurityType33(nil, wire.SecurityNone)); err != nil {
			return conn, v, access, err
		}
	} else {
		if _, err := conn.Write(wire.AppendSecurityTypes(nil, none)); err != nil {
			return conn, v, access, err
		}
		if _, err := wire.ReadSecurityChoice(conn, none); err != nil {
			return conn, v, access, fmt.Errorf("read security type: %w", err)
		}
	}
	if v == wire.V38 {
		if _, err := conn.Write(wire.AppendSecurityResultOK(nil)); err != nil {
			return conn, v, access, err
		}
	}
	return s.initSession(ctx, conn, v, access)
}

// initSession exchanges ClientInit and ServerInit.
func (s *Server) initSession(ctx context.Context, conn rw, v wire.Version, access Access) (rw, wire.Version, Access, error) {
	if _, err := wire.ReadClientInit(conn); err != nil { // every session is shared
		return conn, v, access, fmt.Errorf("read ClientInit: %w", err)
	}
	f, _, _, err := s.Display.Update(ctx, 0)
	if err != nil {
		return conn, v, access, fmt.Errorf("get the screen: %w", err)
	}
	init := wire.ServerInit{Width: uint16(f.W), Height: uint16(f.H), Format: wire.BGRX(), Name: or(s.Name, "buktu")}
	if _, err := conn.Write(init.Append(nil)); err != nil {
		return conn, v, access, err
	}
	return conn, v, access, nil
}

// vencrypt runs VeNCrypt's X509Plain: TLS with the host's certificate, then account and
// password inside it.
func (s *Server) vencrypt(ctx context.Context, conn rw, remote netip.AddrPort) (rw, Access, error) {
	if _, err := conn.Write(wire.AppendVeNCryptVersion(nil)); err != nil {
		return conn, Access{}, err
	}
	major, minor, err := wire.ReadVeNCryptVersion(conn)
	if err != nil {
		return conn, Access{}, fmt.Errorf("read VeNCrypt version: %w", err)
	}
	if major != wire.VeNCryptMajor || minor != wire.VeNCryptMinor {
		conn.Write(wire.AppendVeNCryptVersionAck(nil, false))
		return conn, Access{}, fmt.Errorf("VeNCrypt version %d.%d is not 0.2", major, minor)
	}
	offered := []wire.VeNCryptSubtype{wire.VeNCryptX509Plain}
	b := wire.AppendVeNCryptVersionAck(nil, true)
	b = wire.AppendVeNCryptSubtypes(b, offered)
	if _, err := conn.Write(b); err != nil {
		return conn, Access{}, err
	}
	if _, err := wire.ReadVeNCryptChoice(conn, offered); err != nil {
		return conn, Access{}, fmt.Errorf("read VeNCrypt sub-type: %w", err)
	}
	if _, err := conn.Write(wire.AppendVeNCryptTLSAck(nil, true)); err != nil {
		return conn, Access{}, err
	}
	if conn.r.Buffered() > 0 {
		return conn, Access{}, errors.New("client sent data before the TLS handshake")
	}
	tc := tls.Server(conn.Conn, s.TLS)
	if err := tc.HandshakeContext(ctx); err != nil {
		return conn, Access{}, fmt.Errorf("TLS handshake: %w", err)
	}
	conn = rw{tc, bufio.NewReader(tc)}
	auth, err := wire.ReadPlainAuth(conn)
	if err != nil {
		return conn, Access{}, fmt.Errorf("read account and password: %w", err)
	}
	if s.Authenticate == nil {
		return conn, Access{}, &DeniedError{"no accounts on this server"}
	}
	access, err := s.Authenticate(ctx, auth.Username, auth.Password, remote)
	return conn, access, err
}

// vncAuth runs legacy VNC authentication: a DES challenge with the one shared password.
func (s *Server) vncAuth(conn rw) (Access, error) {
	challenge := wire.NewVNCAuthChallenge()
	if _, err := conn.Write(challenge[:]); err != nil {
		return Access{}, err
	}
	var resp [wire.VNCAuthLength]byte
	if _, err := io.ReadFull(conn, resp[:]); err != nil {
		return Access{}, err
	}
	password, access := s.LegacyPassword()
	if password == "" || !wire.VNCAuthCheck(password, challenge, resp) {
		return Access{}, &DeniedError{"wrong password"}
	}
	return access, nil
}
