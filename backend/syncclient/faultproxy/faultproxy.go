// Package faultproxy is a fault-injecting TCP proxy for sync tests: it sits
// between clients and the server and adds latency, connection resets,
// responses dropped after the server committed (the lost acknowledgement),
// bandwidth limits, or a whole outage. Faults can be changed while it runs.
// It is a small stand-in for github.com/Shopify/toxiproxy's toxics, with no
// control API: tests set the fields directly.
package faultproxy

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Faults are the faults applied to new traffic. The zero value passes
// everything through.
type Faults struct {
	// Latency delays every chunk in both directions.
	Latency time.Duration
	// ResetRate is the probability that a chunk from the client resets both
	// connections instead of reaching the server.
	ResetRate float64
	// DropResponseRate is the probability that a chunk of a server answer is
	// thrown away and both connections reset: the server has done the work
	// (committed) but the client never hears of it.
	DropResponseRate float64
	// BytesPerSecond limits each direction of each connection (0 = no limit).
	BytesPerSecond int
	// Down refuses every connection (closes it at once) and cuts the
	// connections already open.
	Down bool
}

// Proxy forwards a loopback port to a target address.
type Proxy struct {
	target string
	ln     net.Listener
	faults atomic.Pointer[Faults]

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup

	// Counters of injected faults.
	Resets, Drops atomic.Int64
}

// New starts a proxy to target on 127.0.0.1 with a free port.
func New(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	p.faults.Store(&Faults{})
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's listen address; URL its http:// base URL.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL returns "http://" + Addr().
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// Set replaces the faults. Setting Down also cuts open connections.
func (p *Proxy) Set(f Faults) {
	p.faults.Store(&f)
	if f.Down {
		p.cutAll()
	}
}

// Get returns the current faults.
func (p *Proxy) Get() Faults { return *p.faults.Load() }

func (p *Proxy) cutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// Close stops the proxy and cuts every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.cutAll()
	p.wg.Wait()
	return err
}

func (p *Proxy) track(c net.Conn, add bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		if p.closed {
			return false
		}
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
	return true
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.faults.Load().Down {
			c.Close()
			continue
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(client, true) || !p.track(server, true) {
		client.Close()
		server.Close()
		return
	}
	defer p.track(client, false)
	defer p.track(server, false)
	var once sync.Once
	cut := func() {
		once.Do(func() {
			// Linger 0: a reset, not a polite close.
			if tc, ok := client.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			client.Close()
			server.Close()
		})
	}
	done := make(chan struct{}, 2)
	go func() { p.pipe(server, client, true, cut); done <- struct{}{} }()
	go func() { p.pipe(client, server, false, cut); done <- struct{}{} }()
	<-done
	cut()
	<-done
}

// pipe copies src to dst chunk by chunk, applying the faults. upstream is
// the client → server direction.
func (p *Proxy) pipe(dst, src net.Conn, upstream bool, cut func()) {
	buf := make([]byte, 16<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			f := p.faults.Load()
			if f.Down {
				cut()
				return
			}
			if f.Latency > 0 {
				time.Sleep(f.Latency)
			}
			if upstream && f.ResetRate > 0 && rand.Float64() < f.ResetRate {
				p.Resets.Add(1)
				cut()
				return
			}
			if !upstream && f.DropResponseRate > 0 && rand.Float64() < f.DropResponseRate {
				p.Drops.Add(1)
				cut()
				return
			}
			if f.BytesPerSecond > 0 {
				time.Sleep(time.Duration(float64(n) / float64(f.BytesPerSecond) * float64(time.Second)))
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				cut()
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				cut()
				return
			}
			// Half-close: pass the EOF on.
			if tc, ok := dst.(*net.TCPConn); ok {
				tc.CloseWrite()
			} else {
				cut()
			}
			return
		}
	}
}
