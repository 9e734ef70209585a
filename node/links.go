package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// Peer links: each node dials every peer it learns of and sends on that
// connection; it receives on the connections peers dial to it. Either
// connection breaking is a suspicion at once. A link starts with a
// PeerHello each way (name, instance, challenge) and a PeerAuth each way
// (the answer, an HMAC with the cluster secret).

const (
	linkQueue      = 8192     // frames waiting for a slow peer before the link is cut
	linkQueueBytes = 64 << 20 // and bytes
	handshakeTime  = 2 * time.Second
	// maxHandshakes bounds the inbound peer connections not yet
	// authenticated: a flood of connections that never say hello cannot
	// hold more than this many goroutines and buffers (handshakes.go).
	maxHandshakes = 64
	// handshakeMaxFrame bounds a frame read before a peer is authenticated.
	handshakeMaxFrame = 8 << 10
)

type linkSet struct {
	n   *Node
	out map[wire.NodeID]*outLink
	// sent: frames just went to a peer. Its answer comes at once (an
	// append's ack), or the next append while players play (an ack's):
	// the inbound links poll for it then (wire.Reader.SpinAfter).
	sent wire.Expect
}

type outLink struct {
	id     wire.NodeID
	addr   string
	sq     *sendQueue
	closed chan struct{}
	once   sync.Once
	up     atomic.Bool // handshake done
}

func newLinkSet(n *Node) *linkSet { return &linkSet{n: n, out: map[wire.NodeID]*outLink{}} }

// ensure starts dialing a peer if there is no link to it.
func (ls *linkSet) ensure(id wire.NodeID, addr string) {
	if addr == "" {
		return
	}
	if l := ls.out[id]; l != nil {
		if l.addr == addr {
			return
		}
		ls.drop(id) // it moved
	}
	l := &outLink{id: id, addr: addr, sq: newSendQueue(linkQueue, linkQueueBytes), closed: make(chan struct{})}
	ls.out[id] = l
	ls.n.wg.Add(1)
	go ls.run(l)
}

// sendFrames sends encoded frames to a peer; without a link they are
// dropped (the core resends what matters).
func (ls *linkSet) sendFrames(id wire.NodeID, buf []byte) {
	l := ls.out[id]
	if l == nil {
		if ps := ls.n.peers[id]; ps != nil {
			ls.ensure(id, ps.peerAddr)
			l = ls.out[id]
		}
		if l == nil {
			return
		}
	}
	if err := l.sq.push(buf); errors.Is(err, errQueueFull) {
		ls.n.log.Warn("peer link congested: cutting it", "peer", fmt.Sprintf("n%d", id))
		ls.drop(id)
		ls.n.core.LinkDown(id)
		return
	}
	ls.sent.Mark()
}

func (ls *linkSet) drop(id wire.NodeID) {
	if l := ls.out[id]; l != nil {
		delete(ls.out, id)
		l.once.Do(func() { close(l.closed) })
	}
}

func (ls *linkSet) closeAll() {
	for id := range ls.out {
		ls.drop(id)
	}
}

// flushAll waits (up to d) for queued frames to leave.
func (ls *linkSet) flushAll(d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		busy := false
		for _, l := range ls.out {
			if l.up.Load() && !l.sq.idle() {
				busy = true
			}
		}
		if !busy {
			time.Sleep(5 * time.Millisecond) // the last write in flight
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// run keeps one outbound link: dial, handshake, write; on failure report
// the link down and dial again with backoff, until dropped.
func (ls *linkSet) run(l *outLink) {
	n := ls.n
	defer n.wg.Done()
	backoff := 20 * time.Millisecond
	for {
		select {
		case <-l.closed:
			return
		case <-n.quit:
			return
		default:
		}
		// A link that broke, or a port that refuses, means the peer's
		// process is gone; a dial that times out says nothing.
		ctx, cancel := context.WithTimeout(n.quitCtx, time.Second)
		conn, err := n.opts.PeerNetwork.Dial(ctx, l.addr)
		cancel()
		if err == nil {
			n.userTimeout(conn)
		}
		down := errors.Is(err, syscall.ECONNREFUSED)
		if err == nil {
			var wasUp bool
			err, wasUp = ls.serve(l, conn)
			down = wasUp
			if wasUp {
				backoff = 20 * time.Millisecond
			}
		}
		if err != nil && !errors.Is(err, net.ErrClosed) {
			n.log.Debug("peer link down", "peer", fmt.Sprintf("n%d", l.id), "error", err)
		}
		if down {
			select {
			case n.inbox <- input{kind: inLinkDown, from: l.id, link: l}:
			case <-n.quit:
				return
			}
		}
		select {
		case <-l.closed:
			return
		case <-n.quit:
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Second)
	}
}

// serve runs an established outbound connection until it fails; wasUp says
// whether the handshake had succeeded.
func (ls *linkSet) serve(l *outLink, conn net.Conn) (err error, wasUp bool) {
	n := ls.n
	defer conn.Close()
	r := wire.NewReader(conn, wire.PeerLimits.MaxFrame)
	if _, err := n.handshake(conn, r, l.id); err != nil {
		return err, false
	}
	l.up.Store(true)
	defer l.up.Store(false)
	err = ls.write(l, conn, r)
	return err, true
}

func (ls *linkSet) write(l *outLink, conn net.Conn, r *wire.Reader) error {
	n := ls.n
	// The peer never writes after the handshake: a read returns only when
	// the connection breaks.
	var broken error
	stop := make(chan struct{})
	done := make(chan struct{})
	defer close(done)
	readErr := make(chan error, 1)
	go func() {
		_, err := r.ReadFrame()
		if err == nil {
			err = errors.New("unexpected frame on an outbound link")
		}
		readErr <- err
	}()
	go func() {
		select {
		case broken = <-readErr:
		case <-l.closed:
		case <-n.quit:
		case <-done:
		}
		close(stop)
	}()
	l.sq.attach(conn)
	defer l.sq.detach()
	err := l.sq.writer(conn, stop, 2*time.Second)
	if errors.Is(err, net.ErrClosed) {
		<-stop
		if broken != nil {
			return broken
		}
	}
	return err
}

// handshake authenticates a peer connection in both directions and returns
// the peer's id. want is the id expected on the other side (0 on an accepted
// connection). The side that dialed proves itself first; the side that
// accepted answers the challenge only once the dialer has passed its own, so
// that a stranger who connects learns no MAC it could replay elsewhere.
func (n *Node) handshake(conn net.Conn, r *wire.Reader, want wire.NodeID) (wire.NodeID, error) {
	_ = conn.SetDeadline(time.Now().Add(handshakeTime))
	defer conn.SetDeadline(time.Time{})
	// Nothing before the handshake is done needs more than a few KiB (a
	// PeerHello, a PeerAuth, an Error): a stranger must not make this node
	// buffer PeerLimits' 16 MiB per connection before it has proved anything.
	r.SetMaxFrame(handshakeMaxFrame)
	defer r.SetMaxFrame(wire.PeerLimits.MaxFrame)
	dialer := want != 0
	nonce, err := wire.NewNonce(rand.Reader)
	if err != nil {
		return 0, err
	}
	mine := &wire.PeerHello{Version: wire.Version, Cluster: n.opts.Cluster, From: n.ID(), Instance: n.instance, Quorum: n.opts.Config.Quorum, Nonce: nonce}
	if err := wire.WriteFrame(conn, mine); err != nil {
		return 0, err
	}
	m, err := r.ReadMessage(wire.PeerLimits)
	if err != nil {
		return 0, refuseBad(conn, err)
	}
	hello, ok := m.(*wire.PeerHello)
	if !ok {
		return 0, refuse(conn, wire.ErrUnexpected, "a peer link starts with a peer hello")
	}
	if err := wire.CheckVersion(hello.Version); err != nil {
		return 0, refuse(conn, wire.ErrBadVersion, err.Error())
	}
	if hello.Cluster != n.opts.Cluster {
		return 0, refuse(conn, wire.ErrAuth, fmt.Sprintf("this is cluster %q, not %q", n.opts.Cluster, hello.Cluster))
	}
	if hello.From == 0 || hello.From == n.ID() || (want != 0 && hello.From != want) {
		return 0, refuse(conn, wire.ErrAuth, fmt.Sprintf("unexpected peer id n%d", hello.From))
	}
	if hello.Quorum != n.opts.Config.Quorum {
		why := settingsMismatch(hello.Quorum, n.opts.Config.Quorum)
		n.refuse(hello.From, why)
		return 0, refuse(conn, wire.ErrSettings, fmt.Sprintf("n%d refuses n%d: %s", n.ID(), hello.From, why))
	}
	answer := func() error {
		auth := &wire.PeerAuth{From: n.ID(), MAC: wire.PeerMAC(n.opts.Secret, hello.Nonce, n.opts.Cluster, n.ID())}
		return wire.WriteFrame(conn, auth)
	}
	if dialer {
		if err := answer(); err != nil {
			return 0, err
		}
	}
	m, err = r.ReadMessage(wire.PeerLimits)
	if err != nil {
		return 0, refuseBad(conn, err)
	}
	if e, ok := m.(*wire.Error); ok {
		return 0, fmt.Errorf("refused by n%d: %s: %s", hello.From, e.Code, e.Text)
	}
	theirs, ok := m.(*wire.PeerAuth)
	if !ok || theirs.From != hello.From || !wire.VerifyPeer(n.opts.Secret, nonce, n.opts.Cluster, hello.From, theirs.MAC) {
		n.limited.warn(n.log, "peer-auth", "peer failed authentication (wrong or missing secret): not letting it join or vote",
			"claims", fmt.Sprintf("n%d", hello.From), "from", conn.RemoteAddr().String())
		return 0, refuse(conn, wire.ErrAuth, "authentication failed")
	}
	if !dialer {
		if err := answer(); err != nil {
			return 0, err
		}
	}
	return hello.From, nil
}

// refuseBad answers a frame that could not be decoded with an Error frame;
// other errors (the connection broke) are returned as they are.
func refuseBad(conn net.Conn, err error) error {
	if wire.CodeOf(err) == 0 {
		return err
	}
	e := wire.ErrorFor(err)
	return refuse(conn, e.Code, e.Text)
}

// refuse sends an Error frame and reports the refusal as an error.
func refuse(conn net.Conn, code wire.ErrCode, text string) error {
	_ = conn.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	_ = wire.WriteFrame(conn, &wire.Error{Code: code, Text: text})
	return &refusal{code: code, text: text}
}

// refusal is the error of a connection this node refused.
type refusal struct {
	code wire.ErrCode
	text string
}

func (r *refusal) Error() string { return fmt.Sprintf("%s: %s", r.code, r.text) }

func refused(err error) bool {
	var r *refusal
	return errors.As(err, &r)
}

// acceptPeers takes inbound peer connections and reads them.
func (n *Node) acceptPeers() {
	defer n.wg.Done()
	for {
		conn, err := n.peerLn.Accept()
		if err == nil {
			n.userTimeout(conn)
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if old := n.handshakes.add(conn, maxHandshakes); old != nil {
			n.limited.warn(n.log, "peer-flood", "too many peer connections in their handshake: closing the oldest", "from", old.RemoteAddr().String())
			old.Close()
		}
		n.wg.Add(1)
		go n.readPeer(conn)
	}
}

func (n *Node) readPeer(conn net.Conn) {
	defer n.wg.Done()
	defer conn.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-n.quit:
			conn.Close()
		case <-stop:
		}
	}()
	r := wire.NewReader(conn, wire.PeerLimits.MaxFrame)
	id, err := n.handshake(conn, r, 0)
	n.handshakes.done(conn)
	if err != nil {
		if refused(err) {
			n.limited.warn(n.log, "peer-refused", "peer connection refused", "from", conn.RemoteAddr().String(), "error", err)
		} else {
			n.log.Debug("peer connection dropped in its handshake", "from", conn.RemoteAddr().String(), "error", err)
		}
		return
	}
	n.adoptInbound(id, conn)
	r.SpinAfter(&n.links.sent)
	for {
		m, err := r.ReadMessage(wire.PeerLimits)
		if err != nil {
			if code := wire.CodeOf(err); code != 0 {
				n.log.Warn("bad frame from a peer: closing the link", "peer", fmt.Sprintf("n%d", id), "error", err)
				_ = refuse(conn, code, err.Error())
			}
			break
		}
		pm, ok := m.(wire.PeerMessage)
		if from, _ := headerOf(pm, ok); !ok || from != id {
			n.log.Warn("peer sent a message that is not its own: closing the link", "peer", fmt.Sprintf("n%d", id), "type", m.Type())
			_ = refuse(conn, wire.ErrUnexpected, "peer messages only, in the sender's name")
			break
		}
		select {
		case n.inbox <- input{kind: inPeer, from: id, msg: pm}:
		case <-n.quit:
			return
		}
	}
	if !n.dropInbound(id, conn) {
		return // a newer link from the peer replaced this one
	}
	select {
	case n.inbox <- input{kind: inLinkDown, from: id}:
	case <-n.quit:
	}
}

// adoptInbound makes conn the peer's inbound link and closes the one it
// replaces. A peer dials again only when its old link broke on its side,
// but across a partition this side may not know: the old connection stays
// open until a keepalive finds it dead, and that must not be taken for the
// new link breaking.
func (n *Node) adoptInbound(id wire.NodeID, conn net.Conn) {
	n.inMu.Lock()
	defer n.inMu.Unlock()
	if n.inbound == nil {
		n.inbound = map[wire.NodeID]net.Conn{}
	}
	if old := n.inbound[id]; old != nil {
		old.Close()
	}
	n.inbound[id] = conn
}

// dropInbound forgets conn and says whether it was the peer's current link.
func (n *Node) dropInbound(id wire.NodeID, conn net.Conn) bool {
	n.inMu.Lock()
	defer n.inMu.Unlock()
	if n.inbound[id] != conn {
		return false
	}
	delete(n.inbound, id)
	return true
}

func headerOf(pm wire.PeerMessage, ok bool) (wire.NodeID, wire.Epoch) {
	if !ok {
		return 0, wire.Epoch{}
	}
	return pm.Header()
}

// userTimeout makes a peer connection give up on sent data that stays
// unacknowledged for two suspicion timeouts (a partition), instead of
// retransmitting for many minutes: the link then breaks, and a fresh one is
// dialled when the network heals.
func (n *Node) userTimeout(conn net.Conn) { setUserTimeout(conn, 2*n.opts.Config.Suspicion) }

// settingsMismatch says why a peer with quorum mode theirs cannot join a
// node with mine.
func settingsMismatch(theirs, mine bool) string {
	mode := func(q bool) string {
		if q {
			return "quorum mode (--quorum=on)"
		}
		return "availability mode (--quorum=off)"
	}
	return fmt.Sprintf("it runs in %s, this cluster in %s: every node of a cluster needs the same setting", mode(theirs), mode(mine))
}

// refuse records a peer refused for its settings, with one log line per
// peer and reason (and at most one a minute after that); status shows it.
// The first refusal for a reason is told to the players too (the app's
// events): the refused node's player would else find a game of their own,
// and the others a node that seems down, with no word why.
func (n *Node) refuse(id wire.NodeID, why string) {
	n.refMu.Lock()
	r := n.refused[id]
	tell := r.why != why
	if tell || time.Since(r.logged) > time.Minute {
		n.log.Warn("refused a node whose settings differ", "peer", fmt.Sprintf("n%d", id), "why", why)
		r.logged = time.Now()
	}
	r.why, r.at = why, time.Now()
	n.refused[id] = r
	n.refMu.Unlock()
	if !tell {
		return
	}
	nt := wire.Notice{Time: time.Now().UnixNano(), Kind: wire.NoticeRefused, Node: id,
		Text: fmt.Sprintf("n%d cannot join this game: %s", id, why)}
	select {
	case n.inbox <- input{kind: inCall, call: func() { n.publish([]wire.Notice{nt}) }}:
	default: // a loop this far behind has worse to tell; the log has it
	}
}
