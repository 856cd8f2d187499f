package quota

import (
	"net/netip"
	"sync"
	"testing"
)

func TestPerAddr(t *testing.T) {
	var p PerAddr
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	for i := range 3 {
		if !p.Take(a, 3) {
			t.Fatalf("Take(a, 3) number %d = false; want true", i+1)
		}
	}
	if p.Take(a, 3) {
		t.Error("Take(a, 3) a fourth time = true; want false")
	}
	if !p.Take(b, 3) {
		t.Error("Take(b, 3) = false: another address has its own count")
	}
	p.Give(a)
	if !p.Take(a, 3) {
		t.Error("Take(a, 3) after a Give = false; want true")
	}
	for range 3 {
		p.Give(a)
	}
	if n := p.Held(a); n != 0 || len(p.n) != 1 {
		t.Errorf("after giving all back: Held(a) = %d, %d addresses counted; want 0 and only b", n, len(p.n))
	}
}

func TestPerAddrConcurrent(t *testing.T) {
	var p PerAddr
	ip := netip.MustParseAddr("192.0.2.7")
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := 0
	for range 50 {
		wg.Go(func() {
			if p.Take(ip, 10) {
				mu.Lock()
				granted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if granted != 10 || p.Held(ip) != 10 {
		t.Errorf("50 racing Takes with a limit of 10 granted %d, held %d; want 10", granted, p.Held(ip))
	}
}
