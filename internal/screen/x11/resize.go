package x11

import (
	"fmt"

	"github.com/jezek/xgb/randr"
	"github.com/jezek/xgb/xproto"
)

// Resize changes the screen to w×h pixels through RANDR 1.2: it shows a w×h mode (made when
// the server has none) on the first active CRTC and sets the screen to that size. The
// server bounds the size: Xvfb cannot grow past the size it started with.
func (c *Conn) Resize(w, h int) error {
	if !c.has.randr {
		return fmt.Errorf("resize screen: RANDR: %w", ErrUnsupported)
	}
	if err := c.resize(w, h); err != nil {
		return c.wrap(fmt.Sprintf("resize screen to %dx%d", w, h), err)
	}
	_, _, err := c.refreshSize()
	return err
}

func (c *Conn) resize(w, h int) error {
	rng, err := randr.GetScreenSizeRange(c.xc, c.root).Reply()
	if err != nil {
		return err
	}
	if w < int(rng.MinWidth) || h < int(rng.MinHeight) || w > int(rng.MaxWidth) || h > int(rng.MaxHeight) {
		return fmt.Errorf("outside the server's range %dx%d to %dx%d",
			rng.MinWidth, rng.MinHeight, rng.MaxWidth, rng.MaxHeight)
	}
	res, err := randr.GetScreenResources(c.xc, c.root).Reply()
	if err != nil {
		return err
	}
	var crtc randr.Crtc
	var info *randr.GetCrtcInfoReply
	for _, cr := range res.Crtcs {
		ci, err := randr.GetCrtcInfo(c.xc, cr, res.ConfigTimestamp).Reply()
		if err == nil && ci.Mode != 0 && len(ci.Outputs) > 0 {
			crtc, info = cr, ci
			break
		}
	}
	if info == nil {
		return fmt.Errorf("no active crtc")
	}
	mode, err := c.modeFor(res, info.Outputs[0], w, h)
	if err != nil {
		return err
	}
	curW, curH := c.Size()
	// The CRTC must always fit in the screen: grow the screen first, show the mode, then
	// set the exact size.
	mmW, mmH := uint32(w)*254/960, uint32(h)*254/960 // at 96 dpi
	if w > curW || h > curH {
		err := randr.SetScreenSizeChecked(c.xc, c.root, uint16(max(w, curW)), uint16(max(h, curH)), mmW, mmH).Check()
		if err != nil {
			return err
		}
	}
	cr, err := randr.SetCrtcConfig(c.xc, crtc, xproto.TimeCurrentTime, res.ConfigTimestamp,
		0, 0, mode, randr.RotationRotate0, info.Outputs).Reply()
	if err != nil {
		return err
	}
	if cr.Status != randr.SetConfigSuccess {
		return fmt.Errorf("set crtc: status %d", cr.Status)
	}
	return randr.SetScreenSizeChecked(c.xc, c.root, uint16(w), uint16(h), mmW, mmH).Check()
}

// modeFor returns a w×h mode the output can show, creating and adding one if needed.
func (c *Conn) modeFor(res *randr.GetScreenResourcesReply, out randr.Output, w, h int) (randr.Mode, error) {
	oi, err := randr.GetOutputInfo(c.xc, out, res.ConfigTimestamp).Reply()
	if err != nil {
		return 0, err
	}
	for _, m := range res.Modes {
		if int(m.Width) != w || int(m.Height) != h {
			continue
		}
		for _, om := range oi.Modes {
			if uint32(om) == m.Id {
				return om, nil
			}
		}
	}
	name := fmt.Sprintf("%dx%d", w, h)
	info := randr.ModeInfo{
		Width: uint16(w), Height: uint16(h), Htotal: uint16(w), Vtotal: uint16(h),
		DotClock: uint32(w * h * 60), NameLen: uint16(len(name)),
	}
	m, err := randr.CreateMode(c.xc, c.root, info, name).Reply()
	if err != nil {
		return 0, err
	}
	if err := randr.AddOutputModeChecked(c.xc, out, m.Mode).Check(); err != nil {
		return 0, err
	}
	return m.Mode, nil
}
