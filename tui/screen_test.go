package tui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

func TestScreenSendsOnlyChangedLines(t *testing.T) {
	var out bytes.Buffer
	s := &screen{out: &out}
	s.resize(10, 3)
	s.draw("one\ntwo\nthree")
	if got := out.String(); !strings.HasPrefix(got, seqClear) || !strings.Contains(got, "\x1b[3;1Hthree"+seqEraseLine) {
		t.Fatalf("first frame: %q", got)
	}
	out.Reset()
	s.draw("one\nTWO\nthree")
	if got, want := out.String(), "\x1b[2;1HTWO"+seqEraseLine; got != want {
		t.Fatalf("second frame wrote %q, want %q", got, want)
	}
	out.Reset()
	s.draw("one\nTWO\nthree")
	if out.Len() != 0 {
		t.Fatalf("an unchanged frame wrote %q", out.String())
	}
	// A shorter frame erases what was below it.
	s.draw("one")
	if got, want := out.String(), "\x1b[2;1H"+seqEraseBelow; got != want {
		t.Fatalf("shorter frame wrote %q, want %q", got, want)
	}
	// After a resize everything is drawn again; lines are cut to the width
	// and the frame to the height.
	out.Reset()
	s.resize(4, 2)
	s.draw("\x1b[1mbold text\x1b[0m\nb\nc")
	got := out.String()
	if !strings.HasPrefix(got, seqClear) || !strings.Contains(got, "\x1b[2;1Hb") || strings.Contains(got, "c") || strings.Contains(got, "text") {
		t.Fatalf("after resize: %q", got)
	}
}

// panicky panics in Update, as a bug in the model would.
type panicky struct{}

func (panicky) Init() tea.Cmd                       { return func() tea.Msg { return struct{}{} } }
func (panicky) Update(tea.Msg) (tea.Model, tea.Cmd) { panic("bug in Update") }
func (panicky) View() string                        { return "" }

// A panic in the model leaves the alternate screen and restores the
// terminal before it goes on, so that its trace is seen.
func TestPanicRestoresTheTerminal(t *testing.T) {
	var out bytes.Buffer
	scr := &screen{out: &out}
	restored := false
	p := newProgram(context.Background(), panicky{}, tea.WithInput(nil), tea.WithOutput(io.Discard))
	defer func() {
		r := recover()
		if r != "bug in Update" {
			t.Errorf("recovered %v, want the model's panic", r)
		}
		if !restored || !strings.HasSuffix(out.String(), seqAltScreenOff) {
			t.Errorf("terminal restored %v, screen output %q: want both before the panic goes on", restored, out.String())
		}
	}()
	err := show(p, scr, func() { restored = true })
	t.Fatalf("show returned %v: the panic was swallowed", err)
}

// still is a model that always shows the same two lines.
type still struct{}

func (still) Init() tea.Cmd                       { return nil }
func (still) Update(tea.Msg) (tea.Model, tea.Cmd) { return still{}, nil }
func (still) View() string                        { return "top\nbottom" }

// After a stop and a continue the shell has had the terminal: the app sets
// the screen up again and draws every line, not only the changed ones.
func TestContinuedAppTakesTheScreenBack(t *testing.T) {
	var out bytes.Buffer
	d := &drawn{m: still{}, scr: &screen{out: &out}}
	d.Update(tea.WindowSizeMsg{Width: 20, Height: 5})
	if !strings.Contains(out.String(), "bottom") {
		t.Fatalf("first frame: %q", out.String())
	}
	out.Reset()
	d.last = time.Time{}
	d.Update(contMsg{})
	got := out.String()
	if !strings.HasPrefix(got, seqAltScreenOn) || !strings.Contains(got, "\x1b[1;1Htop") || !strings.Contains(got, "\x1b[2;1Hbottom") {
		t.Fatalf("after SIGCONT the app wrote %q: want the screen set up and the whole frame", got)
	}
}

// The app turns autowrap off while it runs, and on again when it leaves:
// a line the terminal draws wider than measured must not scroll the frame.
func TestScreenTurnsAutowrapOffWhileItRuns(t *testing.T) {
	var out bytes.Buffer
	s := &screen{out: &out}
	s.start()
	if !strings.Contains(out.String(), "\x1b[?7l") {
		t.Fatalf("start wrote %q: autowrap is left on", out.String())
	}
	// A line as wide as the terminal is not followed by an erase, which
	// would clear its last cell.
	out.Reset()
	s.resize(5, 2)
	s.draw("abcde\nab")
	if got, want := out.String(), seqClear+"\x1b[1;1Habcde\x1b[2;1Hab"+seqEraseLine; got != want {
		t.Fatalf("frame wrote %q, want %q", got, want)
	}
	out.Reset()
	s.stop()
	if got := out.String(); !strings.Contains(got, "\x1b[?7h") || !strings.HasSuffix(got, seqAltScreenOff) {
		t.Fatalf("stop wrote %q: want autowrap back on, then the normal screen", got)
	}
}

// Continued in the background (kill -CONT without fg), the app leaves the
// terminal to the shell: no frame is drawn over its prompt until the app
// is continued in the foreground again.
func TestAppInTheBackgroundDrawsNothing(t *testing.T) {
	var out bytes.Buffer
	d := &drawn{m: still{}, scr: &screen{out: &out}}
	d.Update(tea.WindowSizeMsg{Width: 20, Height: 5})
	out.Reset()
	d.last = time.Time{}
	d.Update(awayMsg{})
	d.Update(tea.WindowSizeMsg{Width: 20, Height: 5})
	d.Update(redrawMsg{})
	if got := out.String(); got != "" {
		t.Fatalf("in the background the app wrote %q", got)
	}
	d.last = time.Time{}
	d.Update(contMsg{})
	if got := out.String(); !strings.HasPrefix(got, seqAltScreenOn) || !strings.Contains(got, "\x1b[2;1Hbottom") {
		t.Fatalf("back in the foreground the app wrote %q: want the screen set up and the whole frame", got)
	}
}
