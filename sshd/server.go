package sshd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	gossh "golang.org/x/crypto/ssh"
)

// Options configure a Server.
type Options struct {
	Addr string // where to listen (host:port)
	Node Node   // the node the sessions reach the cluster through

	// KeyDir keeps the host key and the session secret (made when
	// missing): the node's data directory, or a state directory.
	KeyDir string
	// Secret is the cluster secret, if any: session tokens are then
	// derived from it, so every server of the cluster gives a key the same
	// session.
	Secret []byte
	// AuthorizedKeys, if set, is an authorized_keys file: only its keys
	// play (no keyboard-interactive login).
	AuthorizedKeys string

	MaxSessions      int           // sessions at once (default 100)
	MaxHandshakes    int           // connections in their handshake at once (default 64)
	HandshakeTimeout time.Duration // from connect to a session started (default 10 s)
	IdleTimeout      time.Duration // no key for this long ends a session (default 30 min; <0: never)
	JoinWait         time.Duration // how long a session waits to be in the game (or refused) before the app starts anyway (default 2 s)
	OutputQueue      int           // bytes of output queued per session before frames are dropped (default 256 KiB)

	Logger *slog.Logger
}

func (o *Options) fill() {
	if o.MaxSessions == 0 {
		o.MaxSessions = 100
	}
	if o.MaxHandshakes == 0 {
		o.MaxHandshakes = 64
	}
	if o.HandshakeTimeout == 0 {
		o.HandshakeTimeout = 10 * time.Second
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 30 * time.Minute
	}
	if o.JoinWait == 0 {
		o.JoinWait = 2 * time.Second
	}
	if o.OutputQueue == 0 {
		o.OutputQueue = 256 << 10
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Limits on what a connection may ask before its session starts.
const (
	maxChannels = 4  // session channels at once on one connection
	maxEnv      = 64 // environment variables a session may set
	maxEnvSize  = 4096
)

// Server serves the app over SSH.
type Server struct {
	o      Options
	log    *slog.Logger
	srv    *ssh.Server
	ln     net.Listener
	hub    *hub
	signer gossh.Signer
	secret []byte
	auth   *authorizedKeys // nil: every key plays

	ctx    context.Context // ends every session, with the reason as its cause
	cancel context.CancelCauseFunc
	served chan struct{}

	conns      atomic.Int64  // connections open
	handshakes chan struct{} // a slot per connection in its handshake
	refused    rateLog

	mu       sync.Mutex
	sessions int
	terms    map[*term]string   // the sessions' terminals, by SSH user
	tokens   map[string]*holder // the session tokens of the sessions here
	wg       sync.WaitGroup     // session handlers
}

// ErrStopping is the cause sessions end with when the server stops.
var ErrStopping = errors.New("this server is shutting down")

// Listen starts serving on o.Addr.
func Listen(o Options) (*Server, error) {
	o.fill()
	if o.Node == nil {
		return nil, errors.New("sshd: no node")
	}
	s := &Server{o: o, log: o.Logger.With("part", "ssh"), handshakes: make(chan struct{}, o.MaxHandshakes),
		tokens: map[string]*holder{}, terms: map[*term]string{}, served: make(chan struct{})}
	signer, err := hostKey(o.KeyDir)
	if err != nil {
		return nil, err
	}
	s.signer = signer
	if s.secret, err = tokenSecret(o.KeyDir, o.Secret); err != nil {
		return nil, err
	}
	if o.AuthorizedKeys != "" {
		if s.auth, err = loadAuthorizedKeys(o.AuthorizedKeys, s.log); err != nil {
			return nil, fmt.Errorf("authorized keys: %w", err)
		}
	}
	opts := []ssh.Option{
		wish.WithVersion("gridlock"),
		wish.WithPublicKeyAuth(s.publicKey),
		wish.WithMiddleware(func(ssh.Handler) ssh.Handler { return s.session }),
		func(srv *ssh.Server) error {
			srv.AddHostKey(signer)
			srv.ConnCallback = s.connected
			srv.ConnectionFailedCallback = s.failed
			srv.ChannelHandlers = map[string]ssh.ChannelHandler{"session": s.sessionChannel}
			return nil
		},
	}
	if s.auth == nil {
		// A game: anyone with a terminal plays, key or not.
		opts = append(opts, wish.WithKeyboardInteractiveAuth(func(ssh.Context, gossh.KeyboardInteractiveChallenge) bool { return true }))
	}
	if s.srv, err = wish.NewServer(opts...); err != nil {
		return nil, err
	}
	if s.ln, err = net.Listen("tcp", o.Addr); err != nil {
		return nil, fmt.Errorf("ssh: %w", err)
	}
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	s.hub = newHub(o.Node, s.ctx.Done())
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, ssh.ErrServerClosed) && s.ctx.Err() == nil {
			s.log.Error("ssh server stopped", "error", err)
		}
	}()
	s.log.Info("serving the game over ssh", "addr", s.ln.Addr().String(), "host_key", gossh.FingerprintSHA256(signer.PublicKey()),
		"keys", map[bool]string{true: "any", false: o.AuthorizedKeys}[s.auth == nil])
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// HostKey is the server's public host key.
func (s *Server) HostKey() gossh.PublicKey { return s.signer.PublicKey() }

// Connections is the number of connections open (in their handshake or
// in session).
func (s *Server) Connections() int { return int(s.conns.Load()) }

// droppedFrames counts the times frames were dropped for the sessions of
// SSH user user that are under way.
func (s *Server) droppedFrames(user string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for t, u := range s.terms {
		if u == user {
			n += t.out.dropped()
		}
	}
	return n
}

// Sessions is the number of sessions under way.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// Shutdown stops the server: it stops listening, ends every session with a
// message that says why (cause; ErrStopping if nil), and waits for them to
// have said it, or ctx to end; then it closes every connection.
func (s *Server) Shutdown(ctx context.Context, cause error) error {
	if cause == nil {
		cause = ErrStopping
	}
	s.cancel(cause)
	s.ln.Close()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
		// The clients close their connections when they see their
		// sessions end; a moment for that, so that they do not see the
		// connection cut first. Then the rest are closed.
		cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		_ = s.srv.Shutdown(cctx)
		cancel()
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.srv.Close()
	<-s.served
	return err
}

// publicKey admits a key: any (it is a game), or those of the authorized
// keys file.
func (s *Server) publicKey(_ ssh.Context, key ssh.PublicKey) bool {
	return s.auth == nil || s.auth.allows(key)
}

// conn is a connection with its limits: a slot among the handshakes under
// way until its session starts, and a deadline for that.
type conn struct {
	net.Conn
	s        *Server
	timer    *time.Timer
	started  atomic.Bool // a session started: the handshake limits are over
	channels atomic.Int32
	once     sync.Once
	slot     sync.Once
}

type connKey struct{}

// connected admits a new connection, or closes it at once when there are
// too many in their handshake.
func (s *Server) connected(ctx ssh.Context, nc net.Conn) net.Conn {
	select {
	case s.handshakes <- struct{}{}:
	default:
		s.refused.note(s.log, "ssh connection refused: too many handshakes under way", "limit", s.o.MaxHandshakes, "from", nc.RemoteAddr().String())
		nc.Close()
		return nil
	}
	s.conns.Add(1)
	c := &conn{Conn: nc, s: s}
	c.timer = time.AfterFunc(s.o.HandshakeTimeout, func() {
		if !c.started.Load() {
			s.log.Debug("ssh connection closed: no session started in time", "from", nc.RemoteAddr().String(), "timeout", s.o.HandshakeTimeout)
			nc.Close()
		}
	})
	ctx.SetValue(connKey{}, c)
	return c
}

// start: the connection's session started.
func (c *conn) start() {
	c.started.Store(true)
	c.timer.Stop()
	c.releaseSlot()
}

func (c *conn) releaseSlot() { c.slot.Do(func() { <-c.s.handshakes }) }

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.timer.Stop()
		c.releaseSlot()
		c.s.conns.Add(-1)
	})
	return err
}

func (s *Server) failed(nc net.Conn, err error) {
	s.log.Debug("ssh handshake failed", "from", nc.RemoteAddr().String(), "error", err)
}

// sessionChannel opens a session channel, at most maxChannels at once on
// a connection, and keeps what it may ask before its shell within bounds.
func (s *Server) sessionChannel(srv *ssh.Server, sc *gossh.ServerConn, nc gossh.NewChannel, ctx ssh.Context) {
	c, _ := ctx.Value(connKey{}).(*conn)
	if c == nil {
		nc.Reject(gossh.ConnectionFailed, "no connection")
		return
	}
	if c.channels.Add(1) > maxChannels {
		c.channels.Add(-1)
		nc.Reject(gossh.ResourceShortage, "too many sessions on one connection")
		return
	}
	defer c.channels.Add(-1)
	ssh.DefaultSessionHandler(srv, sc, boundedChannel{nc}, ctx)
}

// boundedChannel refuses environment variables past a few, or too long:
// the session would keep them all.
type boundedChannel struct{ gossh.NewChannel }

func (b boundedChannel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, reqs, err := b.NewChannel.Accept()
	if err != nil {
		return ch, reqs, err
	}
	out := make(chan *gossh.Request)
	go func() {
		defer close(out)
		env := 0
		for r := range reqs {
			if r.Type == "env" {
				env++
				if env > maxEnv || len(r.Payload) > maxEnvSize {
					if r.WantReply {
						_ = r.Reply(false, nil)
					}
					continue
				}
			}
			out <- r
		}
	}()
	return ch, out, nil
}

// rateLog logs a line at most every 10 s, with the count of the events
// since the last one.
type rateLog struct {
	mu    sync.Mutex
	last  time.Time
	count int
}

func (r *rateLog) note(log *slog.Logger, msg string, args ...any) {
	r.mu.Lock()
	r.count++
	if time.Since(r.last) < 10*time.Second {
		r.mu.Unlock()
		return
	}
	n := r.count
	r.count, r.last = 0, time.Now()
	r.mu.Unlock()
	log.Warn(msg, append(args, "times", n)...)
}
