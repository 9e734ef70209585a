package sshd

import (
	"context"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/ssh"
	"github.com/muesli/termenv"

	"github.com/gridlock-game/gridlock/tui"
)

// The largest terminal a session may claim: the app's frame is as large
// as the terminal, and a window-change message can say anything.
const maxCols, maxRows = 500, 300

// term is a session's terminal, as the screens that run on it (the name
// screen, the app) see it: its keys, its output queue, its size as the
// client reports it, and its colours.
type term struct {
	sess    ssh.Session
	in      *input
	out     *output
	r       *lipgloss.Renderer
	noColor bool

	mu    sync.Mutex
	size  tui.Size
	sizes chan tui.Size // the running screen's
}

func (s *Server) newTerm(sess ssh.Session, pty ssh.Pty, windows <-chan ssh.Window) *term {
	t := &term{sess: sess, in: newInput(sess), out: newOutput(sess, s.o.OutputQueue), size: sizeOf(pty.Window)}
	go t.follow(windows)
	env := environ(sess.Environ())
	t.noColor = env.Getenv("NO_COLOR") != ""
	// The session's colour profile, from its TERM and COLORTERM, as the app
	// would find it in a terminal of its own.
	profile := termenv.NewOutput(io.Discard, termenv.WithEnvironment(env), termenv.WithUnsafe()).EnvColorProfile()
	t.r = lipgloss.NewRenderer(io.Discard)
	t.r.SetColorProfile(profile)
	dark := true
	if profile != termenv.Ascii && !t.noColor {
		dark, _ = t.in.background(t.out, time.Second)
	}
	t.r.SetHasDarkBackground(dark)
	return t
}

// screen returns the terminal for the next screen, and the function that
// ends it: its reader of the keys, and its channel of sizes (the current
// size first).
func (t *term) screen() (*tui.Terminal, func()) {
	sizes := make(chan tui.Size, 1)
	t.mu.Lock()
	sizes <- t.size
	t.sizes = sizes
	t.mu.Unlock()
	rd := t.in.reader()
	return &tui.Terminal{In: rd, Out: t.out, Sizes: sizes, Redraw: t.out.redraw, Renderer: t.r}, func() { rd.Close() }
}

// follow passes the client's window changes to the running screen, the
// latest one only if it has not taken the one before.
func (t *term) follow(windows <-chan ssh.Window) {
	for w := range windows {
		sz := sizeOf(w)
		t.mu.Lock()
		t.size = sz
		ch := t.sizes
		t.mu.Unlock()
		if ch == nil {
			continue
		}
		select {
		case <-ch:
		default:
		}
		select {
		case ch <- sz:
		default:
		}
	}
}

func sizeOf(w ssh.Window) tui.Size {
	sz := tui.Size{Width: w.Width, Height: w.Height}
	if sz.Width <= 0 || sz.Height <= 0 {
		sz = tui.Size{Width: 80, Height: 24}
	}
	sz.Width, sz.Height = min(sz.Width, maxCols), min(sz.Height, maxRows)
	return sz
}

// watchIdle ends the session (cancel, with errIdle) when no key has come
// for d.
func (t *term) watchIdle(ctx context.Context, cancel context.CancelCauseFunc, d time.Duration) {
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		since := time.Since(t.in.lastKey())
		if since >= d {
			cancel(idleError{d})
			return
		}
		timer.Reset(d - since)
	}
}

// The sequences that put a terminal back as the app found it: bracketed
// paste and the mouse off, the cursor shown, the normal screen.
const resetTerminal = "\x1b[?2004l\x1b[?1002l\x1b[?1006l\x1b[?25h\x1b[?1049l"

// finish puts the terminal back, says msg (if any) on it, and waits a
// little for that to reach the client.
func (t *term) finish(msg string) {
	out := resetTerminal
	if msg != "" {
		out += msg + "\n"
	}
	t.out.final([]byte(out))
	t.out.flush(2 * time.Second)
}

func (t *term) close() {
	t.in.close()
	t.out.close()
}

// environ is a session's environment, for termenv.
type environ []string

func (e environ) Environ() []string { return e }

func (e environ) Getenv(k string) string {
	v := ""
	for _, kv := range e {
		if name, val, ok := strings.Cut(kv, "="); ok && name == k {
			v = val // the last one set wins
		}
	}
	return v
}
