package tui

import (
	"context"
	"errors"
	"fmt"
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
	Now      func() time.Time // clock (tests inject a fixed one); nil = time.Now
}

// New returns the app's model for c.
func New(c Cluster, o Options) *Model {
	return newModel(c, o, true)
}

// Run shows the app full screen (alternate screen, mouse) until the player
// quits or ctx ends. It does not close c: leaving the cluster is the
// caller's. A fatal refusal from the cluster is returned as an error once the
// screen is restored. Signals are the caller's too: Run catches none, so a
// caller that wants them to end the app cancels ctx.
func Run(ctx context.Context, c Cluster, o Options) error {
	dark := true
	if lipgloss.ColorProfile() == termenv.Ascii {
		o.NoColor = true // no colours here: draw with attributes alone
	}
	if o.NoColor {
		// Attributes (bold, reverse for the cursors) but no colour: none
		// of the app's styles has one.
		lipgloss.SetColorProfile(termenv.ANSI)
	} else {
		dark = lipgloss.HasDarkBackground()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := newModel(c, o, dark)
	m.done = ctx.Done()
	scr := &screen{out: os.Stdout}
	p := newProgram(ctx, &drawn{m: m, scr: scr})
	restore, err := terminal(p)
	if err != nil {
		return err
	}
	if err := show(p, scr, restore); err != nil {
		if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	if m.fatal != nil {
		return fmt.Errorf("gridlock: %w", m.fatal)
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
