package sshd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/charmbracelet/ssh"
	"github.com/muesli/termenv"
	gossh "golang.org/x/crypto/ssh"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/tui"
	"github.com/gridlock-game/gridlock/wire"
)

// Why a session ended, other than the player quitting.
var (
	errGone        = errors.New("the connection closed")
	errNodeStopped = errors.New("the node stopped")
	errFull        = errors.New("full")
	errReplaced    = errors.New("the player connected again with the same key")
)

type idleError struct{ d time.Duration }

func (e idleError) Error() string { return fmt.Sprintf("no key for %v", e.d) }

// session runs one SSH session: the app, as a client of the cluster.
func (s *Server) session(sess ssh.Session) {
	if c, ok := sess.Context().Value(connKey{}).(*conn); ok {
		c.start()
	}
	log := s.log.With("user", sess.User(), "from", sess.RemoteAddr().String())
	pty, windows, ok := sess.Pty()
	if !ok {
		log.Info("ssh session refused: no terminal", "command", sess.RawCommand())
		fmt.Fprintf(sess.Stderr(), "gridlock is a full-screen game: it needs a terminal (ssh -t, or leave out the command)\n")
		_ = sess.Exit(1)
		return
	}
	if cmd := sess.RawCommand(); cmd != "" {
		log.Info("ssh session refused: a command", "command", cmd)
		fmt.Fprintf(sess, "gridlock takes no command here, just the game: ssh to it with none\n")
		_ = sess.Exit(1)
		return
	}
	if err := s.admit(); err != nil {
		msg := fmt.Sprintf("gridlock: this server is full (%d players): try again later, or another server of the cluster", s.o.MaxSessions)
		if !errors.Is(err, errFull) {
			msg = "gridlock: this server is shutting down: " + s.elsewhere()
		}
		log.Info("ssh session refused", "why", err)
		fmt.Fprintf(sess, "%s\n", msg)
		_ = sess.Exit(1)
		return
	}
	defer s.done()

	ctx, cancel := context.WithCancelCause(s.ctx)
	defer cancel(nil)
	defer context.AfterFunc(sess.Context(), func() { cancel(errGone) })()
	go func() {
		select {
		case <-s.o.Node.Done():
			cancel(errNodeStopped)
		case <-ctx.Done():
		}
	}()

	start := time.Now()
	t := s.newTerm(sess, pty, windows)
	defer t.close()
	s.mu.Lock()
	s.terms[t] = sess.User()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.terms, t)
		s.mu.Unlock()
	}()
	go t.watchIdle(ctx, cancel, s.o.IdleTimeout)
	key := "keyboard-interactive"
	if pk := sess.PublicKey(); pk != nil {
		key = gossh.FingerprintSHA256(pk)
	}
	log.Info("ssh session", "key", key, "term", pty.Term, "size", fmt.Sprintf("%dx%d", pty.Window.Width, pty.Window.Height),
		"colors", profileName(t.r.ColorProfile(), t.noColor), "dark", t.r.HasDarkBackground())

	name, quit, err := s.playSafe(ctx, cancel, sess, t, log)
	cause := context.Cause(ctx)
	msg := ""
	switch {
	case quit:
		msg = fmt.Sprintf("gridlock: bye, %s.", name)
	case errors.Is(err, tui.ErrLeft):
		msg = "gridlock: no name, no game. Bye."
	case errors.Is(cause, errGone):
	case errors.As(cause, new(idleError)) && sess.PublicKey() == nil:
		msg = fmt.Sprintf("gridlock: closed after %v without a key. Bye.", s.o.IdleTimeout)
	case errors.As(cause, new(idleError)):
		msg = fmt.Sprintf("gridlock: closed after %v without a key. Your game is kept a little while: ssh again with the same key to resume.", s.o.IdleTimeout)
	case errors.Is(cause, errReplaced):
		msg = fmt.Sprintf("gridlock: you connected again as %s with the same key: the game goes on there, and this connection ends here.", name)
	case errors.Is(cause, errNodeStopped):
		msg = fmt.Sprintf("gridlock: server n%d stopped: %s.", s.o.Node.ID(), s.elsewhere())
	case cause != nil:
		msg = fmt.Sprintf("gridlock: server n%d: %v: %s.", s.o.Node.ID(), cause, s.elsewhere())
	case err != nil:
		msg = fmt.Sprintf("gridlock: %v", err)
	}
	why := "quit"
	if !quit {
		why = fmt.Sprint(err)
		if cause != nil {
			why = cause.Error()
		}
	}
	log.Info("ssh session ended", "name", name, "why", why, "took", time.Since(start).Round(time.Millisecond), "dropped_frames", t.out.dropped())
	if !errors.Is(cause, errGone) {
		t.finish(msg)
	}
	code := 1
	if quit {
		code = 0
	}
	_ = sess.Exit(code)
}

// admit counts a new session in, unless the server is full or stopping.
func (s *Server) admit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return context.Cause(s.ctx)
	}
	if s.sessions >= s.o.MaxSessions {
		return errFull
	}
	s.sessions++
	s.wg.Add(1)
	return nil
}

func (s *Server) done() {
	s.mu.Lock()
	s.sessions--
	s.mu.Unlock()
	s.wg.Done()
}

// playSafe is play, where a panic in the app ends this session (with
// the stack in the log) rather than the server and every other session.
func (s *Server) playSafe(ctx context.Context, end context.CancelCauseFunc, sess ssh.Session, t *term, log *slog.Logger) (name string, quit bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("the app failed", "panic", r, "stack", string(debug.Stack()))
			quit, err = false, errors.New("the game stopped on an error of its own (the server logged it): connect again to resume")
		}
	}()
	return s.play(ctx, end, sess, t, log)
}

// play finds the player a name and runs the app until the player quits
// (quit) or ctx ends (end ends it). The name is the SSH user name unless
// it is not a valid one or is taken in the game; then the player is asked
// for another.
func (s *Server) play(ctx context.Context, end context.CancelCauseFunc, sess ssh.Session, t *term, log *slog.Logger) (name string, quit bool, err error) {
	name, why := sess.User(), ""
	if n, ok := game.NormalizeName(name); ok {
		name = n
	} else {
		why = fmt.Sprintf("%q is not a name here: a name is 1 to %d letters, digits, spaces or signs", name, game.MaxNameRunes)
		name = ""
	}
	for {
		if why != "" {
			scr, end := t.screen()
			name, err = tui.AskName(ctx, tui.AskOptions{Why: why, Name: name, NoColor: t.noColor, Terminal: scr})
			end()
			if err != nil {
				return name, false, err
			}
		}
		token := sessionToken(s.secret, sess.PublicKey(), name)
		h, err := s.claim(ctx, token, end)
		if err != nil {
			return name, false, err
		}
		quit, why, err = s.runClaimed(ctx, t, name, token, sess.PublicKey() != nil, h, log)
		if why == "" {
			return name, quit, err
		}
		log.Info("ssh player refused", "name", name, "why", why)
	}
}

// runClaimed is run, and gives the token back however it ends.
func (s *Server) runClaimed(ctx context.Context, t *term, name, token string, resumable bool, h *holder, log *slog.Logger) (quit bool, why string, err error) {
	defer s.unclaim(token, h)
	return s.run(ctx, t, name, token, resumable, log)
}

// run joins the game as name and runs the app. A refusal (the name is
// taken, say) comes back as why. A session that is not resumable (no key:
// its token is a fresh one) is closed however it ends, so that its name
// is not held for a player who cannot come back to it.
func (s *Server) run(ctx context.Context, t *term, name, token string, resumable bool, log *slog.Logger) (quit bool, why string, err error) {
	l := s.hub.local()
	defer l.close()
	c := client.Dial(context.Background(), client.ClientOptions{
		Name: name, Token: token, Addrs: []string{s.o.Node.ClientAddr()}, Local: l, Dial: s.dial,
		Logger: log.With("name", name),
	})
	defer c.Close() // (again, after Leave: at once)
	// Wait a moment to be in the game, so that a refusal is answered with
	// the name screen at once; if the cluster is slow to answer (no
	// primary yet), the app shows that it is looking.
	wctx, cancel := context.WithTimeout(ctx, s.o.JoinWait)
	err = c.WaitConnected(wctx)
	cancel()
	if err != nil && wctx.Err() == nil {
		c.Close()
		return false, err.Error(), nil
	}
	scr, end := t.screen()
	err = tui.Run(ctx, c, tui.Options{Name: name, SelfFunc: s.o.Node.ID, NoColor: t.noColor, Terminal: scr, QuitOnRefusal: true})
	end()
	if re := (*tui.RefusedError)(nil); errors.As(err, &re) {
		c.Close()
		return false, re.Err.Error(), nil
	}
	if err == nil && ctx.Err() == nil {
		// The player quit: the session closes, and the name is free at
		// once. Otherwise (the connection lost, idle, the server stopping)
		// it waits for the player to come back.
		c.Leave(context.Background())
		return true, "", nil
	}
	if !resumable {
		c.Leave(context.Background())
	}
	c.Close()
	if err == nil || errors.Is(err, context.Canceled) {
		err = context.Cause(ctx)
	}
	return false, "", err
}

// holder is the session here that plays with a session token.
type holder struct {
	end      context.CancelCauseFunc
	released chan struct{}
}

// claim takes a session token for this session (end ends it). A session
// here that has it (the same key and name in another terminal, or a
// connection the player left that the server has not seen go yet) is
// ended first: the newest connection is the player's.
func (s *Server) claim(ctx context.Context, token string, end context.CancelCauseFunc) (*holder, error) {
	for {
		s.mu.Lock()
		old := s.tokens[token]
		if old == nil {
			h := &holder{end: end, released: make(chan struct{})}
			s.tokens[token] = h
			s.mu.Unlock()
			return h, nil
		}
		s.mu.Unlock()
		old.end(errReplaced)
		select {
		case <-old.released:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

func (s *Server) unclaim(token string, h *holder) {
	s.mu.Lock()
	if s.tokens[token] == h {
		delete(s.tokens, token)
	}
	s.mu.Unlock()
	close(h.released)
}

func profileName(p termenv.Profile, noColor bool) string {
	if noColor {
		return "none (NO_COLOR)"
	}
	switch p {
	case termenv.TrueColor:
		return "truecolor"
	case termenv.ANSI256:
		return "256"
	case termenv.ANSI:
		return "16"
	}
	return "none"
}

// elsewhere tells a player whose server is going where to play on: another
// server of the cluster, if the node knew one.
func (s *Server) elsewhere() string {
	for _, n := range s.o.Node.View().Nodes {
		if n.ID != s.o.Node.ID() && n.Role != wire.RoleRefused {
			return "the game goes on: connect to another server of the cluster"
		}
	}
	return "it was the cluster's only server: ssh again once it is back"
}
