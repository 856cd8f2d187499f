// Package frame owns screen pixels in buktu's native layout and the geometry around them:
// rectangles ([Rect]), sets of rectangles ([Region]), whole frames ([Frame]), finding what
// changed between two frames ([Diff]) and finding a vertical scroll ([FindScroll]).
//
// A Frame holds 32 bits per pixel in the byte order B, G, R, X: what an X server hands out for a
// depth-24 ZPixmap on a little-endian machine. Read as a little-endian uint32, a pixel is
// 0xXXRRGGBB; the X byte carries nothing and may hold anything.
//
// Capturing frames is left to the screen packages, and turning pixels into bytes for a viewer is
// left to rfb/encoding.
package frame
