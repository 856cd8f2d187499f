package rfb

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"net"
	"time"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb/encoding"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// ClientOptions say how a Client logs in and what it asks for.
type ClientOptions struct {
	// User and Password log in with VeNCrypt X509Plain; TLS checks the server's certificate.
	User, Password string
	TLS            *tls.Config
	// VNCPassword logs in with legacy VNC authentication instead, when the server offers it.
	VNCPassword string
	// Encodings the client asks for, best first; nil means Tight, ZRLE, Hextile, Raw.
	Encodings []wire.Encoding
	// Format is the pixel format to ask for; the zero value keeps the server's.
	Format wire.PixelFormat
	// Timeout bounds the handshake; zero means 30s.
	Timeout time.Duration
}

// Client is the viewer side of an RFB connection: it keeps a copy of the server's screen.
type Client struct {
	conn   rw
	v      wire.Version
	init   wire.ServerInit
	format wire.PixelFormat
	dec    encoding.Decoder
	fb     *frame.Frame
	// Updates counts the FramebufferUpdates received; Bytes the bytes of their rectangles.
	Updates int
	Bytes   int64
}

// Dial connects to an RFB server at addr and logs in.
func Dial(ctx context.Context, addr string, o ClientOptions) (*Client, error) {
	d := net.Dialer{Timeout: or(o.Timeout, 30*time.Second)}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	c, err := NewClient(ctx, nc, o)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// NewClient runs the handshake on nc, which the Client then owns.
func NewClient(ctx context.Context, nc net.Conn, o ClientOptions) (*Client, error) {
	nc.SetDeadline(time.Now().Add(or(o.Timeout, 30*time.Second)))
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	c := &Client{conn: rw{nc, bufio.NewReader(nc)}}
	v, err := wire.ReadVersion(c.conn)
	if err != nil {
		return nil, fmt.Errorf("read server version: %w", err)
	}
	c.v = min(v, wire.V38)
	if _, err := nc.Write(c.v.Append(nil)); err != nil {
		return nil, err
	}
	if err := c.security(ctx, o); err != nil {
		return nil, err
	}
	if _, err := c.conn.Write(wire.AppendClientInit(nil, true)); err != nil {
		return nil, err
	}
	if c.init, err = wire.ReadServerInit(c.conn); err != nil {
		return nil, fmt.Errorf("read ServerInit: %w", err)
	}
	c.format = c.init.Format
	if o.Format != (wire.PixelFormat{}) {
		c.format = o.Format
	}
	encs := o.Encodings
	if encs == nil {
		encs = []wire.Encoding{wire.EncodingTight, wire.EncodingZRLE, wire.EncodingHextile, wire.EncodingRaw}
	}
	encs = append(encs, wire.EncodingCopyRect, wire.EncodingDesktopSize, wire.EncodingLastRect)
	b := wire.SetPixelFormat{Format: c.format}.Append(nil)
	b = wire.SetEncodings{Encodings: encs}.Append(b)
	if _, err := c.conn.Write(b); err != nil {
		return nil, err
	}
	c.fb = frame.New(int(c.init.Width), int(c.init.Height))
	nc.SetDeadline(time.Time{})
	return c, nil
}

func (c *Client) security(ctx context.Context, o ClientOptions) error {
	var types []wire.SecurityType
	var err error
	if types, err = wire.ReadSecurityTypes(c.conn, c.v); err != nil {
		return fmt.Errorf("read security types: %w", err)
	}
	has := func(t wire.SecurityType) bool {
		for _, x := range types {
			if x == t {
				return true
			}
		}
		return false
	}
	var chosen wire.SecurityType
	switch {
	case o.VNCPassword != "" && has(wire.SecurityVNCAuth):
		chosen = wire.SecurityVNCAuth
	case has(wire.SecurityVeNCrypt):
		chosen = wire.SecurityVeNCrypt
	default:
		return fmt.Errorf("the server offers no security type this client speaks (%v)", types)
	}
	if c.v != wire.V33 {
		if _, err := c.conn.Write(wire.AppendSecurityChoice(nil, chosen)); err != nil {
			return err
		}
	}
	switch chosen {
	case wire.SecurityVNCAuth:
		var challenge [wire.VNCAuthLength]byte
		if _, err := io.ReadFull(c.conn, challenge[:]); err != nil {
			return err
		}
		resp := wire.VNCAuthResponse(o.VNCPassword, challenge)
		if _, err := c.conn.Write(resp[:]); err != nil {
			return err
		}
	case wire.SecurityVeNCrypt:
		if err := c.vencrypt(ctx, o); err != nil {
			return err
		}
	}
	return wire.ReadSecurityResult(c.conn, c.v)
}

func (c *Client) vencrypt(ctx context.Context, o ClientOptions) error {
	if _, _, err := wire.ReadVeNCryptVersion(c.conn); err != nil {
		return err
	}
	if _, err := c.conn.Write(wire.AppendVeNCryptVersion(nil)); err != nil {
		return err
	}
	if err := wire.ReadVeNCryptVersionAck(c.conn); err != nil {
		return err
	}
	subs, err := wire.ReadVeNCryptSubtypes(c.conn)
	if err != nil {
		return err
	}
	found := false
	for _, s := range subs {
		found = found || s == wire.VeNCryptX509Plain
	}
	if !found {
		return fmt.Errorf("the server offers no VeNCrypt X509Plain (%v)", subs)
	}
	if _, err := c.conn.Write(wire.AppendVeNCryptSubtype(nil, wire.VeNCryptX509Plain)); err != nil {
		return err
	}
	if err := wire.ReadVeNCryptTLSAck(c.conn); err != nil {
		return err
	}
	cfg := o.TLS
	if cfg == nil {
		return errors.New("VeNCrypt needs a TLS configuration to check the server")
	}
	tc := tls.Client(c.conn.Conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	c.conn = rw{tc, bufio.NewReader(tc)}
	_, err = c.conn.Write(wire.PlainAuth{Username: o.User, Password: o.Password}.Append(nil))
	return err
}

// Size returns the framebuffer's size.
func (c *Client) Size() (int, int) { return c.fb.W, c.fb.H }

// Name returns the desktop's name.
func (c *Client) Name() string { return c.init.Name }

// Frame returns the client's copy of the screen.
func (c *Client) Frame() *frame.Frame { return c.fb }

// Request asks for an update of the whole screen.
func (c *Client) Request(incremental bool) error {
	_, err := c.conn.Write(wire.FramebufferUpdateRequest{Incremental: incremental, Width: uint16(c.fb.W), Height: uint16(c.fb.H)}.Append(nil))
	return err
}

// Send sends a client message (key, pointer, cut text).
func (c *Client) Send(m wire.ClientMessage) error {
	_, err := c.conn.Write(m.Append(nil))
	return err
}

// ReadUpdate reads server messages until a FramebufferUpdate has been applied to the copy
// of the screen; bell and cut text on the way are passed to onOther when it is set.
func (c *Client) ReadUpdate(onOther func(wire.ServerMessage)) error {
	for {
		m, err := wire.ReadServerMessage(c.conn, wire.Limits{})
		if err != nil {
			return err
		}
		fu, ok := m.(wire.FramebufferUpdate)
		if !ok {
			if onOther != nil {
				onOther(m)
			}
			continue
		}
		if err := c.readRects(int(fu.Rects)); err != nil {
			return err
		}
		c.Updates++
		return nil
	}
}

func (c *Client) readRects(n int) error {
	counter := &countReader{r: c.conn}
	defer func() { c.Bytes += counter.n }() // LastRect ends the loop early
	for i := 0; n == wire.RectsUntilLastRect || i < n; i++ {
		h, err := wire.ReadRectHeader(counter)
		if err != nil {
			return err
		}
		r := frame.Rect{X: int(h.X), Y: int(h.Y), W: int(h.Width), H: int(h.Height)}
		switch h.Encoding {
		case wire.EncodingLastRect:
			return nil
		case wire.EncodingDesktopSize:
			c.resize(r.W, r.H)
			continue
		case wire.EncodingExtendedDesktopSize:
			if _, err := wire.ReadExtendedDesktopSize(counter); err != nil {
				return err
			}
			if h.X != wire.ResizeByThisClient || h.Y == wire.ResizeOK {
				c.resize(r.W, r.H)
			}
			continue
		}
		if err := c.dec.Decode(counter, c.fb, r, h.Encoding, c.format); err != nil {
			return fmt.Errorf("decode %v rectangle %v: %w", h.Encoding, r, err)
		}
	}
	return nil
}

func (c *Client) resize(w, h int) {
	nf := frame.New(w, h)
	nf.Copy(0, 0, c.fb, c.fb.Bounds().Intersect(nf.Bounds()))
	c.fb = nf
}

// Close ends the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Image returns the client's copy of the screen as an image.
func (c *Client) Image() image.Image { return FrameImage(c.fb) }

// FrameImage converts a frame to an RGBA image.
func FrameImage(f *frame.Frame) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, f.W, f.H))
	for y := range f.H {
		for x := range f.W {
			p := f.Pixel(x, y)
			img.SetRGBA(x, y, color.RGBA{R: uint8(p >> 16), G: uint8(p >> 8), B: uint8(p), A: 255})
		}
	}
	return img
}

type countReader struct {
	r interface{ Read([]byte) (int, error) }
	n int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}
