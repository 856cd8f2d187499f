// Package wire owns the bytes of the RFB (VNC) protocol: every message buktu's screen server and
// its client exchange, as Go values that parse from an [io.Reader] and append to a byte slice.
//
// It covers the handshake ([Version], the security types and result, VNC Authentication,
// VeNCrypt with its Plain sub-type, ClientInit and [ServerInit]), the client-to-server messages
// ([ReadClientMessage]), the server-to-client messages ([ReadServerMessage], with a framebuffer
// update's rectangles read one [RectHeader] at a time), the [PixelFormat], the encoding numbers
// ([Encoding]) and the Extended Clipboard ([Clipboard]). The specifications are RFC 6143 and the
// community's rfbproto.rst, which documents the extensions (fences, continuous updates,
// SetDesktopSize, QEMU key events, the extended clipboard); doc comments cite the section they
// implement.
//
// Every reader is bounded: a length is checked against a limit before anything is allocated for
// it, and a large length is read in chunks, so a short input never costs a large allocation.
// Readers read exactly the bytes of their message and never more, so a session can switch to TLS
// after a handshake step. [ReadClientMessage], [ReadServerMessage] and [ReadVersion] return
// [io.EOF] when the stream ends cleanly before a message starts; a stream that ends anywhere else
// is [io.ErrUnexpectedEOF]. Writers are AppendXxx functions and Append methods: the caller owns
// the buffer and decides when to flush. Empty lists and byte slices read as nil.
//
// The package leaves everything else to others: which step comes next and what it means (the
// session, package rfb), TLS, pixel data and rectangle bodies (package rfb/encoding), and
// clipboards, keyboards and screens (the host side).
package wire
