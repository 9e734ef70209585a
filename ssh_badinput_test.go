package main

// Bad input on a node's SSH port: garbage, half handshakes, silent
// connections, handshakes that never open a session, 200 at once, three
// times over. The node keeps serving (its players and bots, the cluster
// without an election), every such connection is closed, and the node's
// memory and file descriptors stay bounded.

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/gridlock-game/gridlock/bot"
)

// goSSHPlayer logs in as user over SSH (a Go client), waits for the
// game's screen, and quits with q; it returns what went wrong.
func goSSHPlayer(addr, user string) error {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	conn, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: user, Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	s, err := conn.NewSession()
	if err != nil {
		return err
	}
	if err := s.RequestPty("xterm", 30, 100, nil); err != nil {
		return err
	}
	in, _ := s.StdinPipe()
	out, _ := s.StdoutPipe()
	if err := s.Shell(); err != nil {
		return err
	}
	var seen strings.Builder
	buf := make([]byte, 32<<10)
	deadline := time.AfterFunc(15*time.Second, func() { conn.Close() })
	defer deadline.Stop()
	for !strings.Contains(ansi.Strip(seen.String()), "is primary") {
		n, err := out.Read(buf)
		seen.Write(buf[:n])
		if strings.Contains(seen.String(), "\x1b[c") && !strings.Contains(seen.String(), "answered") {
			io.WriteString(in, "\x1b[?62c")
			seen.WriteString("answered")
		}
		if err != nil {
			return fmt.Errorf("no game on the screen: %v: %q", err, ansi.Strip(seen.String()))
		}
	}
	io.WriteString(in, "q")
	io.Copy(io.Discard, out)
	return s.Wait()
}

func TestSSHBadInput(t *testing.T) {
	const (
		conns     = 200
		rounds    = 3
		handshake = 2 * time.Second
	)
	sshPort := uniquePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", sshPort)
	c := newCluster(t)
	c.start(1, "--ssh", addr, "--ssh-key-dir", t.TempDir(), "--ssh-handshake-timeout", handshake.String())
	c.start(2)
	v0 := c.waitSettled(2, 15*time.Second)
	pid := c.node(1).pid()
	if err := goSSHPlayer(addr, "warmup"); err != nil {
		t.Fatalf("a player before the bad input: %v", err)
	}
	rss0, _ := rssKB(pid)
	fd0 := fdCount(pid)
	t.Logf("n1 before: rss %d kB, %d fds", rss0, fd0)

	rng := mrand.New(mrand.NewPCG(7, 8))
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(rng.UintN(256))
	}
	kinds := []string{"garbage", "half a handshake", "silence", "a huge packet", "no session"}
	var rssAfter []int
	peak := 0
	for round := 1; round <= rounds; round++ {
		bots := goBots(c.addrs(), bot.Options{Players: 2, Rate: 20, Duration: handshake + time.Second, ChatRate: 0.2, Prefix: fmt.Sprintf("r%dbot", round)})
		var (
			wg              sync.WaitGroup
			refused, closed atomic.Int32
			mu              sync.Mutex
			problems        []string
			start           = make(chan struct{})
			sampling        = make(chan struct{})
			stopSampling    = make(chan struct{})
			kindOf          = func(i int) string { return kinds[i%len(kinds)] }
			hold            = handshake + 5*time.Second
			problem         = func(format string, a ...any) {
				mu.Lock()
				problems = append(problems, fmt.Sprintf(format, a...))
				mu.Unlock()
			}
			roundPeak        atomic.Int64
			openedAll        sync.WaitGroup
			connectedAtOnce  atomic.Int32
			closedByTheNode  atomic.Int32
			handshakesPassed atomic.Int32
		)
		go func() {
			defer close(sampling)
			for {
				if kb, err := rssKB(pid); err == nil && int64(kb) > roundPeak.Load() {
					roundPeak.Store(int64(kb))
				}
				select {
				case <-stopSampling:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		openedAll.Add(conns)
		for i := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				kind := kindOf(i)
				if kind == "no session" {
					openedAll.Done()
					// A whole handshake, logged in, and then nothing.
					cfg := &gossh.ClientConfig{User: "mute", HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
						Auth: []gossh.AuthMethod{gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return nil, nil })}}
					nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
					if err != nil {
						problem("%s: dial: %v", kind, err)
						return
					}
					defer nc.Close()
					sc, chans, reqs, err := gossh.NewClientConn(nc, addr, cfg)
					if err != nil {
						refused.Add(1) // past the limit of handshakes: closed at once
						return
					}
					handshakesPassed.Add(1)
					go gossh.DiscardRequests(reqs)
					go func() {
						for ch := range chans {
							ch.Reject(gossh.Prohibited, "no")
						}
					}()
					done := make(chan error, 1)
					go func() { done <- sc.Wait() }()
					select {
					case <-done:
						closed.Add(1)
					case <-time.After(hold):
						problem("%s: still open after %v", kind, hold)
					}
					return
				}
				nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
				openedAll.Done()
				if err != nil {
					problem("%s: dial: %v", kind, err)
					return
				}
				connectedAtOnce.Add(1)
				defer nc.Close()
				switch kind {
				case "garbage":
					go nc.Write(garbage)
				case "half a handshake":
					// A version, then the start of a key exchange packet.
					pkt := binary.BigEndian.AppendUint32(nil, 1000)
					go nc.Write(append([]byte("SSH-2.0-OpenSSH_9.2\r\n"), append(pkt, 10, 20)...))
				case "a huge packet":
					go nc.Write(append([]byte("SSH-2.0-OpenSSH_9.2\r\n"), 0x7f, 0xff, 0xff, 0xff))
				}
				nc.SetReadDeadline(time.Now().Add(hold))
				got, err := io.Copy(io.Discard, nc)
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					problem("%s: still open after %v", kind, hold)
					return
				}
				if got == 0 {
					refused.Add(1)
				} else {
					closedByTheNode.Add(1)
				}
			}()
		}
		t0 := time.Now()
		close(start)
		openedAll.Wait()
		// The node keeps serving meanwhile: its view, and a player over SSH
		// once the handshakes under way give it room.
		if _, err := c.view(1, 2*time.Second); err != nil {
			t.Errorf("round %d: n1 does not answer status during the bad input: %v", round, err)
		}
		wg.Wait()
		took := time.Since(t0)
		close(stopSampling)
		<-sampling
		for _, p := range problems {
			t.Errorf("round %d: %s", round, p)
		}
		checkBots(t, []bot.Report{bots(t)})
		if err := goSSHPlayer(addr, fmt.Sprintf("after%d", round)); err != nil {
			t.Errorf("round %d: a player after the bad input: %v", round, err)
		}
		waitFor(t, 10*time.Second, "n1's file descriptors back", func() (bool, string) {
			n := fdCount(pid)
			return n <= fd0+4, fmt.Sprintf("%d fds, %d before", n, fd0)
		})
		rss, _ := rssKB(pid)
		rssAfter = append(rssAfter, rss)
		peak = max(peak, int(roundPeak.Load()))
		t.Logf("round %d: %d connections over %v: %d refused at once, %d closed by the node after talking, "+
			"%d handshakes done and %d of them closed by the node; rss peak %d kB, after %d kB; %d fds",
			round, conns, took.Round(time.Millisecond), refused.Load(), closedByTheNode.Load(), handshakesPassed.Load(), closed.Load(),
			roundPeak.Load(), rss, fdCount(pid))
	}
	// Bounded: a peak the size of the handshakes allowed at once, not of
	// what was sent, and no growth from round to round.
	if peak-rss0 > 64<<10 {
		t.Errorf("n1's memory peaked %d kB above the %d kB it had before", peak-rss0, rss0)
	}
	if grew := rssAfter[rounds-1] - rssAfter[0]; grew > 16<<10 {
		t.Errorf("n1's memory grew %d kB from the first round of bad input to the last: %v", grew, rssAfter)
	}
	// And the cluster never noticed: no election.
	v := c.waitSettled(2, 5*time.Second)
	if v.Epoch != v0.Epoch {
		t.Errorf("the epoch went from %v to %v during bad input on the SSH port", v0.Epoch, v.Epoch)
	}
	if n := c.logCount(1, "ssh connection refused: too many handshakes under way"); n == 0 {
		t.Errorf("n1 did not log the connections it refused")
	} else if n > 3*rounds {
		t.Errorf("n1 logged %d lines about refused connections: not rate limited", n)
	}
}
