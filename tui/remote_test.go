package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/gridlock-game/gridlock/client"
)

// The app on a terminal other than the process's own (an SSH session's):
// keys from a reader, frames to a writer, sizes and colours from the
// caller.

// syncBuf is an output both the app and the test touch.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// take returns what was written since the last take.
func (s *syncBuf) take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.b.String()
	s.b.Reset()
	return out
}

type remoteTerm struct {
	t      *testing.T
	in     *io.PipeWriter
	out    *syncBuf
	sizes  chan Size
	redraw chan struct{}
	term   *Terminal
}

func newRemoteTerm(t *testing.T, w, h int, r *lipgloss.Renderer) *remoteTerm {
	pr, pw := io.Pipe()
	rt := &remoteTerm{t: t, in: pw, out: &syncBuf{}, sizes: make(chan Size, 4), redraw: make(chan struct{}, 1)}
	rt.term = &Terminal{In: pr, Out: rt.out, Sizes: rt.sizes, Redraw: rt.redraw, Renderer: r}
	rt.sizes <- Size{w, h}
	t.Cleanup(func() { pw.Close() })
	return rt
}

func (rt *remoteTerm) typeKeys(s string) {
	rt.t.Helper()
	if _, err := rt.in.Write([]byte(s)); err != nil {
		rt.t.Fatal(err)
	}
}

// waitOut waits until what was written since the last take holds want.
func (rt *remoteTerm) waitOut(what string, ok func(string) bool) string {
	rt.t.Helper()
	var seen strings.Builder
	deadline := time.Now().Add(5 * time.Second)
	for {
		seen.WriteString(rt.out.take())
		if ok(seen.String()) {
			return seen.String()
		}
		if time.Now().After(deadline) {
			rt.t.Fatalf("%s: not within 5 s; the output: %q", what, ansi.Strip(seen.String()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func result(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("the app did not return")
		return nil
	}
}

func TestAskNameOnARemoteTerminal(t *testing.T) {
	rt := newRemoteTerm(t, 80, 24, nil)
	type answer struct {
		name string
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		name, err := AskName(context.Background(), AskOptions{Why: `the name "alice" is taken`, Name: "alice", Terminal: rt.term})
		done <- answer{name, err}
	}()
	rt.waitOut("the name screen", func(s string) bool {
		p := ansi.Strip(s)
		return strings.Contains(p, `the name "alice" is taken`) && strings.Contains(p, "your name") && strings.Contains(p, "alice")
	})
	// Erase the name: an empty one is refused on the screen.
	rt.typeKeys(strings.Repeat("\x7f", 5) + "\r")
	rt.waitOut("the empty name refused", func(s string) bool { return strings.Contains(ansi.Strip(s), "a name is 1 to 24") })
	rt.typeKeys("  bob \r")
	select {
	case a := <-done:
		if a.err != nil || a.name != "bob" {
			t.Fatalf("AskName = %q, %v; want bob", a.name, a.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("AskName did not return after enter")
	}
	if out := rt.out.String(); !strings.HasSuffix(out, seqAltScreenOff) {
		t.Fatalf("the name screen did not leave the alternate screen: %q", out)
	}
}

func TestAskNameEscLeaves(t *testing.T) {
	rt := newRemoteTerm(t, 80, 24, nil)
	done := make(chan error, 1)
	go func() {
		_, err := AskName(context.Background(), AskOptions{Terminal: rt.term})
		done <- err
	}()
	rt.waitOut("the name screen", func(s string) bool { return strings.Contains(ansi.Strip(s), "your name") })
	rt.typeKeys("\x1b")
	if err := result(t, done); !errors.Is(err, ErrLeft) {
		t.Fatalf("esc: AskName returned %v, want ErrLeft", err)
	}
}

// runRemote runs the app on rt for a fake cluster in session.
func runRemote(t *testing.T, rt *remoteTerm, o Options) (*fakeCluster, <-chan error) {
	f := newFake()
	w := busyWorld(t)
	st := connected(3, 4, t0)
	f.push(
		client.StatusChanged{EventInfo: evInfo(t0, st)},
		client.ViewChanged{EventInfo: evInfo(t0, st), View: *cluster(3, 3, 4)},
		roomEvent(w.room("main"), st, t0),
	)
	o.Name, o.Terminal = "alice", rt.term
	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), f, o) }()
	return f, done
}

// The app follows the remote terminal's size (a frame drawn whole at the
// new size), draws a whole frame when told frames were lost, takes its
// keys from the terminal's input, and quits with q.
func TestRunOnARemoteTerminal(t *testing.T) {
	rt := newRemoteTerm(t, 80, 24, nil)
	_, done := runRemote(t, rt, Options{})
	first := rt.waitOut("the first frame", func(s string) bool {
		return strings.Contains(s, seqAltScreenOn) && strings.Contains(ansi.Strip(s), "n3 is primary")
	})
	if strings.Contains(first, "\x1b[25;1H") {
		t.Fatalf("an 80×24 frame drew a 25th line")
	}
	rt.sizes <- Size{120, 40}
	resized := rt.waitOut("a frame at 120×40", func(s string) bool { return strings.Contains(s, "\x1b[40;1H") })
	if !strings.Contains(resized, seqClear) {
		t.Fatalf("the frame after the resize was not drawn whole: %q", resized)
	}
	rt.sizes <- Size{70, 22}
	rt.waitOut("a frame at 70×22", func(s string) bool { return strings.Contains(s, seqClear) && strings.Contains(s, "\x1b[22;1H") })
	for _, l := range strings.Split(ansi.Strip(fullFrame(t, rt)), "\n") {
		if width(l) > 70 {
			t.Fatalf("a line of %d columns on a 70-column terminal: %q", width(l), l)
		}
	}
	rt.typeKeys("q")
	if err := result(t, done); err != nil {
		t.Fatalf("q: Run returned %v", err)
	}
	if out := rt.out.String(); !strings.HasSuffix(out, seqAltScreenOff) {
		t.Fatalf("the app did not leave the alternate screen: %q", out)
	}
}

// fullFrame asks for a whole frame (as a slow link's resync does) and
// returns it as the lines on the screen.
func fullFrame(t *testing.T, rt *remoteTerm) string {
	t.Helper()
	rt.out.take()
	rt.redraw <- struct{}{}
	out := rt.waitOut("a whole frame after a redraw", func(s string) bool { return strings.Contains(s, seqClear) && strings.Contains(s, "n3 is primary") })
	// Each line is drawn after its cursor position; split on those.
	out = out[strings.Index(out, seqClear)+len(seqClear):]
	var lines []string
	for _, part := range strings.Split(out, "\x1b[")[1:] {
		if i := strings.Index(part, ";1H"); i > 0 && !strings.ContainsAny(part[:i], "?m") {
			lines = append(lines, strings.TrimSuffix(part[i+3:], seqEraseLine[2:]))
		}
	}
	return strings.Join(lines, "\n")
}

// The colours come from the terminal's renderer, not the process's: a
// true-colour terminal gets 24-bit colours, one without colours gets
// attributes alone, whatever the process's own profile (ANSI in tests).
func TestRemoteTerminalColours(t *testing.T) {
	for _, tc := range []struct {
		name    string
		profile termenv.Profile
		want    string // in the frame
		notWant string
	}{
		{"truecolor", termenv.TrueColor, "38;2;", ""},
		{"ascii", termenv.Ascii, "\x1b[1m", "38;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := lipgloss.NewRenderer(io.Discard)
			r.SetColorProfile(tc.profile)
			r.SetHasDarkBackground(true)
			rt := newRemoteTerm(t, 100, 30, r)
			_, done := runRemote(t, rt, Options{})
			out := rt.waitOut("the first frame", func(s string) bool { return strings.Contains(ansi.Strip(s), "n3 is primary") })
			if !strings.Contains(out, tc.want) || (tc.notWant != "" && strings.Contains(out, tc.notWant)) {
				t.Fatalf("frame on a %s terminal: want %q and not %q in it:\n%q", tc.name, tc.want, tc.notWant, out)
			}
			rt.typeKeys("q")
			if err := result(t, done); err != nil {
				t.Fatal(err)
			}
		})
	}
	if lipgloss.ColorProfile() != termenv.ANSI {
		t.Fatalf("a remote terminal changed the process's colour profile to %v", lipgloss.ColorProfile())
	}
}

// With QuitOnRefusal, a refusal ends Run at once with a *RefusedError.
func TestRunQuitsOnRefusal(t *testing.T) {
	rt := newRemoteTerm(t, 80, 24, nil)
	f, done := runRemote(t, rt, Options{QuitOnRefusal: true})
	rt.waitOut("the first frame", func(s string) bool { return strings.Contains(ansi.Strip(s), "n3 is primary") })
	f.push(client.Refused{Err: errors.New(`the name "alice" is taken`)})
	err := result(t, done)
	var re *RefusedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "is taken") {
		t.Fatalf("Run returned %v, want a RefusedError", err)
	}
}
