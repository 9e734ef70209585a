package tui

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// Cluster is all the app needs from the cluster: events to draw, and a way to send.
type Cluster interface {
	Notify() <-chan struct{}                       // receives (coalesced) when events are waiting
	Drain() []client.Event                         // takes the waiting events, oldest first
	Send(cmd game.Command) uint64                  // queues a command; returns its sequence number; never blocks
	Query(kind wire.QueryKind, room string) uint64 // answer arrives as a Replied event
}

// Options configure the app.
type Options struct {
	Name string      // the player's name
	Self wire.NodeID // this app's embedded node (0 in `gridlock connect`): marked in the sidebar
	// SelfFunc, if set, is asked for Self instead (an embedded node
	// chooses its id after the app has started).
	SelfFunc func() wire.NodeID
	PID      int              // this process, shown next to the node so a presenter knows what to kill (0: hidden)
	NoColor  bool             // NO_COLOR set
	Watch    bool             // a spectator's app: it looks, and does not move
	Now      func() time.Time // clock (tests inject a fixed one); nil = time.Now
	// Terminal is where the app runs (nil: this process's terminal).
	Terminal *Terminal
	// QuitOnRefusal ends Run as soon as the cluster refuses the player
	// (a *RefusedError), for a caller that asks for another name, rather
	// than showing the refusal until a key is pressed.
	QuitOnRefusal bool
	// Presenter, if set, adds the presenter panel and its keys (gridlock demo).
	Presenter Presenter
}

// Terminal is a terminal other than this process's own, such as an SSH
// session's: the app reads its keys from In, draws on Out, and takes its
// size, colours and background from here rather than from the process.
type Terminal struct {
	In  io.Reader // the keys, as the terminal sends them (it is in raw mode)
	Out io.Writer // the frames; a write must not block for long: the app waits for it
	// Sizes gives the terminal's size: the first at once, then each change.
	Sizes <-chan Size
	// Redraw receives when the terminal lost frames (a slow link dropped
	// them): the next frame is drawn whole.
	Redraw <-chan struct{}
	// Renderer holds the terminal's colour profile and background, set
	// with its SetColorProfile and SetHasDarkBackground (nil: no colours).
	Renderer *lipgloss.Renderer
}

// Size is a terminal's size in cells.
type Size struct{ Width, Height int }

// RefusedError is Run's error when the cluster refused the player for good
// (the name is taken, say).
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return "gridlock: " + e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

// New returns the app's model for c.
func New(c Cluster, o Options) *Model {
	return newModel(c, o, lipgloss.DefaultRenderer(), true)
}

// Run shows the app full screen (alternate screen, mouse) until the player
// quits or ctx ends. It does not close c: leaving the cluster is the
// caller's. A fatal refusal from the cluster is returned as a
// *RefusedError once the screen is restored. Signals are the caller's too:
// Run catches none, so a caller that wants them to end the app cancels ctx.
func Run(ctx context.Context, c Cluster, o Options) error {
	r, dark := renderer(o.Terminal, &o.NoColor)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := newModel(c, o, r, dark)
	m.done = ctx.Done()
	if err := runOn(ctx, m, o.Terminal); err != nil {
		return err
	}
	if m.fatal != nil {
		return &RefusedError{Err: m.fatal}
	}
	return nil
}

// renderer is the renderer for t (nil: this process's terminal) and
// whether its background is dark. Where it has no colours, *noColor is
// set: the app then draws with attributes alone (bold, reverse for the
// cursors), as it does with NO_COLOR.
func renderer(t *Terminal, noColor *bool) (*lipgloss.Renderer, bool) {
	r := lipgloss.DefaultRenderer()
	if t != nil {
		r = t.Renderer
		if r == nil {
			r = lipgloss.NewRenderer(io.Discard)
			r.SetColorProfile(termenv.Ascii)
		}
	}
	if r.ColorProfile() == termenv.Ascii {
		*noColor = true
	}
	if *noColor {
		// Attributes but no colour: none of the app's styles has one.
		r.SetColorProfile(termenv.ANSI)
		return r, true
	}
	return r, r.HasDarkBackground()
}

// runOn runs model full screen on t (nil: this process's terminal) until
// it quits or ctx ends.
func runOn(ctx context.Context, model tea.Model, t *Terminal) error {
	var (
		scr     *screen
		p       *tea.Program
		restore func()
	)
	if t == nil {
		scr = &screen{out: os.Stdout}
		p = newProgram(ctx, &drawn{m: model, scr: scr})
		var err error
		if restore, err = terminal(p); err != nil {
			return err
		}
	} else {
		scr = &screen{out: t.Out}
		p = newProgram(ctx, &drawn{m: model, scr: scr}, tea.WithInput(t.In), tea.WithOutput(io.Discard))
		restore = remote(p, t)
	}
	if err := show(p, scr, restore); err != nil {
		if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	return nil
}

// newProgram runs model without Bubble Tea's renderer, signal handler and
// panic recovery: its recovery prints the trace onto the alternate screen,
// which is then left, and the trace with it.
func newProgram(ctx context.Context, model tea.Model, opts ...tea.ProgramOption) *tea.Program {
	return tea.NewProgram(model, append([]tea.ProgramOption{tea.WithoutRenderer(), tea.WithContext(ctx),
		tea.WithoutSignalHandler(), tea.WithoutCatchPanics()}, opts...)...)
}

// show runs p on scr and then puts the terminal back (restore), also when
// the model panics: the panic goes on, and its trace is printed on the
// normal screen.
func show(p *tea.Program, scr *screen, restore func()) error {
	scr.start()
	defer func() {
		scr.stop()
		restore()
	}()
	_, err := p.Run()
	return err
}

// self is this app's embedded node (0: none, or not chosen yet).
func (m *Model) self() wire.NodeID {
	if m.o.SelfFunc != nil {
		return m.o.SelfFunc()
	}
	return m.o.Self
}
