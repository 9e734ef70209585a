package tui

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"
	"golang.org/x/sys/unix"
)

// The app draws its frames itself, when they change. Bubble Tea's renderer
// flushes on a 60 Hz ticker that runs whether or not anything changed,
// which was most of what an idle app cost; here an idle app sleeps, and a
// key or a cluster event is drawn at once (at most one frame every
// minFrame, so a burst of events costs one frame, not hundreds).
const minFrame = 8 * time.Millisecond

// screen writes frames to a terminal, sending only the lines that changed.
type screen struct {
	out    io.Writer
	width  int
	height int
	lines  []string // what is on the terminal (nil: unknown, redraw all)
	buf    bytes.Buffer
}

const (
	seqAltScreenOn  = "\x1b[?1049h"
	seqAltScreenOff = "\x1b[?1049l"
	seqCursorHide   = "\x1b[?25l"
	seqCursorShow   = "\x1b[?25h"
	seqMouseOn      = "\x1b[?1002h\x1b[?1006h" // cell motion, SGR coordinates
	seqMouseOff     = "\x1b[?1002l\x1b[?1006l"
	seqPasteOn      = "\x1b[?2004h"
	seqPasteOff     = "\x1b[?2004l"
	seqClear        = "\x1b[2J"
	seqEraseLine    = "\x1b[K"
	seqEraseBelow   = "\x1b[J"
)

// Without autowrap a line that the terminal draws wider than the app
// measured it (an emoji sequence that the terminal does not join, say) is
// cut at the right edge instead of running onto the next line, which on
// the last line would scroll the whole frame up.
const (
	seqWrapOff = "\x1b[?7l"
	seqWrapOn  = "\x1b[?7h"
)

func (s *screen) start() {
	_, _ = io.WriteString(s.out, seqAltScreenOn+seqWrapOff+seqClear+seqCursorHide+seqMouseOn+seqPasteOn)
}

func (s *screen) stop() {
	_, _ = io.WriteString(s.out, seqPasteOff+seqMouseOff+seqCursorShow+seqWrapOn+seqAltScreenOff)
}

// resize forgets what is on the terminal: the next frame is drawn whole.
func (s *screen) resize(w, h int) {
	s.width, s.height = w, h
	s.lines = nil
}

// draw puts view on the terminal.
func (s *screen) draw(view string) {
	lines := strings.Split(view, "\n")
	if s.height > 0 && len(lines) > s.height {
		lines = lines[:s.height]
	}
	s.buf.Reset()
	if s.lines == nil {
		s.buf.WriteString(seqClear)
	}
	for i, l := range lines {
		if s.lines != nil && i < len(s.lines) && s.lines[i] == l {
			continue
		}
		w := ansi.StringWidth(l)
		if s.width > 0 && w > s.width {
			l = ansi.Truncate(l, s.width, "")
			lines[i] = l
			w = s.width
		}
		fmt.Fprintf(&s.buf, "\x1b[%d;1H", i+1)
		s.buf.WriteString(l)
		if s.width <= 0 || w < s.width {
			// A whole line has nothing to erase after it; and without
			// autowrap the cursor stays on its last cell, which an erase
			// would clear.
			s.buf.WriteString(seqEraseLine)
		}
	}
	if s.lines != nil && len(lines) < len(s.lines) {
		fmt.Fprintf(&s.buf, "\x1b[%d;1H%s", len(lines)+1, seqEraseBelow)
	}
	s.lines = lines
	if s.buf.Len() > 0 {
		_, _ = s.out.Write(s.buf.Bytes())
	}
}

// frameMsg asks for a frame that was held back by minFrame.
type frameMsg struct{}

// redrawMsg: the terminal lost frames; the next one is drawn whole.
type redrawMsg struct{}

// contMsg: the process was stopped and has been continued in the
// foreground. Its shell took the terminal meanwhile (cooked mode, the
// normal screen, its prompt over the frame): the app takes it back and
// draws the next frame whole.
type contMsg struct{}

// awayMsg: the process has been continued in the background. The shell
// has the terminal: frames wait until a continue in the foreground (fg),
// instead of being drawn over the shell's prompt.
type awayMsg struct{}

// drawn wraps a model (the app's, or the name screen's): it runs the model
// and draws what it shows after every message that may have changed it.
type drawn struct {
	m       tea.Model
	scr     *screen
	last    time.Time // the last frame
	pending bool      // a frameMsg is on its way
	sized   bool
	away    bool // continued in the background: nothing is drawn
}

func (d *drawn) Init() tea.Cmd { return d.m.Init() }

func (d *drawn) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case frameMsg:
		d.pending = false
	case redrawMsg:
		d.scr.resize(d.scr.width, d.scr.height)
	case awayMsg:
		d.away = true
	case contMsg:
		d.away = false
		d.scr.start()
		d.scr.resize(d.scr.width, d.scr.height)
	case tea.WindowSizeMsg:
		d.scr.resize(msg.Width, msg.Height)
		d.sized = true
		d.last = time.Time{}
		_, cmd = d.m.Update(msg)
	default:
		_, cmd = d.m.Update(msg)
	}
	if !d.sized || d.pending || d.away {
		return d, cmd
	}
	if wait := minFrame - time.Since(d.last); wait > 0 {
		d.pending = true
		return d, tea.Batch(cmd, tea.Tick(wait, func(time.Time) tea.Msg { return frameMsg{} }))
	}
	d.scr.draw(d.m.View())
	d.last = time.Now()
	return d, cmd
}

// View is empty: frames are drawn by Update.
func (d *drawn) View() string { return "" }

// terminal puts the terminal in raw mode and reports its size to p, now and
// on every SIGWINCH, until the returned function restores it; after a
// SIGCONT that finds the app in the foreground it puts it in raw mode again
// and has the screen set up anew (contMsg). (Bubble Tea does this itself
// only with its own renderer.)
func terminal(p *tea.Program) (restore func(), err error) {
	in, out := os.Stdin.Fd(), os.Stdout.Fd()
	if !term.IsTerminal(in) || !term.IsTerminal(out) {
		return nil, fmt.Errorf("the app needs a terminal (stdin and stdout)")
	}
	state, err := term.MakeRaw(in)
	if err != nil {
		return nil, fmt.Errorf("raw mode: %w", err)
	}
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	cont := make(chan os.Signal, 1)
	signal.Notify(cont, syscall.SIGCONT)
	stop := make(chan struct{})
	done := make(chan struct{})
	size := func() {
		if w, h, err := term.GetSize(out); err == nil {
			p.Send(tea.WindowSizeMsg{Width: w, Height: h})
		}
	}
	go func() {
		defer close(done)
		size()
		for {
			select {
			case <-winch:
				size()
			case <-cont:
				// In the background a change of the terminal's mode would
				// stop the process again: the shell's fg continues it
				// once more, in the foreground.
				if !foreground(in) {
					p.Send(awayMsg{})
					continue
				}
				_, _ = term.MakeRaw(in)
				p.Send(contMsg{})
				size()
			case <-stop:
				return
			}
		}
	}()
	return func() {
		signal.Stop(winch)
		signal.Stop(cont)
		close(stop)
		<-done
		_ = term.Restore(in, state)
	}, nil
}

// foreground reports whether this process's group has the terminal fd.
func foreground(fd uintptr) bool {
	pgrp, err := unix.IoctlGetInt(int(fd), unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}

// remote reports t's sizes and lost frames to p until the returned
// function is called. (A remote terminal is in raw mode already: its
// client put it there.)
func remote(p *tea.Program, t *Terminal) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			var msg tea.Msg
			select {
			case sz, ok := <-t.Sizes:
				if !ok {
					return
				}
				msg = tea.WindowSizeMsg{Width: sz.Width, Height: sz.Height}
			case <-t.Redraw:
				msg = redrawMsg{}
			case <-quit:
				return
			}
			// Send waits for the program to take it, or to have ended.
			p.Send(msg)
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}
