// Package encoding turns pixels of a frame into the bytes of RFB rectangles and back: pixel
// format conversion from buktu's native layout (frame's B, G, R, X) to any true-colour format
// a viewer asks for (8, 16 or 32 bits, either byte order, any shifts and maxima), and the
// encodings Raw, CopyRect, Hextile, ZRLE and Tight, each with its decoder for buktu's own
// client. See RFC 6143, section 7.7, and rfbproto, "Tight Encoding".
//
// # Encode once, send to many
//
// An [Encoder] serves one [Params]: encoding, pixel format, JPEG quality and compression
// level. The server keeps one Encoder per Params in use, encodes each changed rectangle once
// and sends the same bytes to every viewer with those Params. That works only if the bytes do
// not depend on what a viewer received before, yet ZRLE and Tight compress with zlib streams
// that, on the viewer's side, live as long as the connection:
//
//   - Tight sets, in each rectangle's compression-control byte, the bit that resets the
//     viewer's zlib stream it uses, and sends a complete new stream start (zlib header, data,
//     sync flush).
//   - ZRLE cannot reset its one stream. Each rectangle's data is a raw deflate of that
//     rectangle alone, from a compressor that has forgotten everything before, ended with a
//     sync flush: no back-reference reaches outside the rectangle, and the bytes continue any
//     stream validly. What remains per connection is the 2-byte zlib header
//     ([ZRLEStreamHeader]) before the connection's first ZRLE data: pass every Encode result
//     through the connection's [Stream], which inserts it once.
//
// Compressing each rectangle on its own costs some ratio against one long stream, and buys
// sharing and parallelism: an Encoder is safe for concurrent use, so a large change can be
// cut into rectangles encoded on several cores at once.
//
// Encode returns complete rectangles (12-byte header and body) and their count, because Tight
// splits large areas into rectangles of at most 256×256 pixels. CopyRect needs no pixels:
// [AppendCopyRect] writes it.
//
// # Decoding
//
// A [Decoder] belongs to one connection and reads rectangle bodies in order, as real viewers
// do, keeping one inflate stream for ZRLE and four for Tight. It reads exactly the bytes of a
// body, checks every length against the rectangle before allocating, and never trusts
// sizes: it is fuzzed.
//
// Deciding what to send (damage, coalescing, CopyRect for scrolls, choosing an encoding from a
// viewer's list) and keeping the encoded bytes for sharing are left to package rfb; pixels and
// rectangles come from package frame, message framing from rfb/wire.
package encoding
