package node

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gridlock-game/gridlock/node/store"
	"github.com/gridlock-game/gridlock/replica"
	"github.com/gridlock-game/gridlock/wire"
)

// Node is a replica on the network: the core, driven by one goroutine, with
// discovery, peer links and the client service around it.
type Node struct {
	opts     Options
	log      *slog.Logger
	core     *replica.Core
	instance uint64
	id       atomic.Uint32 // 0 until chosen
	idFixed  bool          // the id was given or is its data's: kept in a collision
	started  time.Time     // the monotonic clock's origin

	store  *store.Store
	loaded *store.Loaded // what the store held at start, until the core has it

	// The disk writer (durable.go); saving: the loop waits for a write
	// before it takes the next Ready.
	saveJobs    chan saveJob
	saveDone    chan saveDone
	writerDone  chan struct{}
	saving      bool
	outstanding int // jobs given to the writer and not yet done

	refMu   sync.Mutex
	refused map[wire.NodeID]refusedPeer // peers refused for their settings

	inbox    chan input
	quit     chan struct{}
	quitCtx  context.Context // ends with quit: for dials
	cancel   context.CancelFunc
	stopOnce sync.Once
	done     chan struct{}
	failed   atomic.Pointer[error] // why it stopped by itself (Err)
	// startLast is the log's last index when the core was made (idTaken).
	startLast uint64
	wg        sync.WaitGroup

	disc    *discovery
	peerLn  net.Listener
	clientL net.Listener
	peers   map[wire.NodeID]*peerState
	links   *linkSet
	svc     *service

	handshakes pendingHandshakes // inbound peer handshakes under way
	behind     behindNote        // the nodes that played on when it left (behind.go)
	clusterID  atomic.Uint64     // the core's ClusterID, for discovery
	inMu       sync.Mutex
	inbound    map[wire.NodeID]net.Conn // each peer's newest inbound link

	mu       sync.Mutex // guards what other goroutines read
	view     wire.ClusterView
	notices  []wire.Notice
	nNotices int // notices ever published
	watchers []chan struct{}
	viewAt   time.Time

	pushed   wire.ClusterView // the view last pushed to clients (loop only)
	pushedAt time.Time

	limited logLimiter
}

// peerState is what the runtime knows of a peer's whereabouts.
type peerState struct {
	instance   uint64
	peerAddr   string
	clientAddr string
	advertise  string
	lastSeen   time.Time
	retired    []uint64 // instances a newer one replaced, newest last
}

type inputKind uint8

const (
	inPeer inputKind = iota + 1
	inBeacon
	inLinkDown
	inClient
	inClientGone
	inClientNew
	inCall
)

type input struct {
	kind   inputKind
	from   wire.NodeID
	msg    wire.Message
	src    *net.UDPAddr
	client *clientConn
	call   func()
	link   *outLink // inLinkDown of an outbound link
}

// Start binds the node's sockets, finds its id if it has none, and runs it
// until ctx ends or Close is called.
func Start(ctx context.Context, o Options) (*Node, error) {
	o.fill()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	n := &Node{
		opts:     o,
		log:      o.Logger,
		instance: binary.LittleEndian.Uint64(b[:]),
		started:  time.Now(),
		refused:  map[wire.NodeID]refusedPeer{},
		inbox:    make(chan input, 4096),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		peers:    map[wire.NodeID]*peerState{},
	}
	n.log = slog.New(nodeHandler{o.Logger.Handler(), n})
	n.quitCtx, n.cancel = context.WithCancel(context.Background())
	var err error
	if n.peerLn, err = o.PeerNetwork.Listen(ctx, net.JoinHostPort(o.Listen, strconv.Itoa(o.ReplicationPort))); err != nil {
		return nil, fmt.Errorf("replication port: %w", err)
	}
	if n.clientL, err = o.Network.Listen(ctx, net.JoinHostPort(o.Listen, strconv.Itoa(o.TCPPort))); err != nil {
		n.peerLn.Close()
		return nil, fmt.Errorf("client port: %w", err)
	}
	if n.disc, err = newDiscovery(ctx, n); err != nil {
		n.peerLn.Close()
		n.clientL.Close()
		return nil, err
	}
	n.id.Store(uint32(o.ID))
	n.links = newLinkSet(n)
	n.svc = newService(n)
	if err := n.openStore(); err != nil {
		n.closeSockets()
		return nil, err
	}
	n.idFixed = o.ID != 0 || n.store != nil
	if n.ID() != 0 {
		if err := n.boot(ctx); err != nil {
			n.closeSockets()
			return nil, err
		}
		return n, nil
	}
	// Without an id the node first listens to the cluster for one: in the
	// background, so that an app draws its first frame at once. Clients
	// that connect meanwhile wait in the listener's backlog.
	go func() {
		id, err := n.chooseID(ctx)
		if err == nil {
			n.id.Store(uint32(id))
			err = n.boot(ctx)
		}
		if err != nil {
			n.log.Error("node did not start", "error", err)
			n.closeSockets()
			close(n.done)
		}
	}()
	return n, nil
}

// boot makes the core and starts the node's goroutines.
func (n *Node) boot(ctx context.Context) error {
	if err := n.newCore(); err != nil {
		return err
	}
	n.loadBehind()
	n.clusterID.Store(n.core.ClusterID())
	o := n.opts
	n.log.Info("node started", "cluster", o.Cluster, "client", n.ClientAddr(), "replication", n.peerLn.Addr().String(),
		"group", o.Group, "iface", o.Iface, "peers", o.Peers, "quorum", o.Config.Quorum)
	n.wg.Add(3)
	if len(o.Peers) > 0 {
		n.wg.Add(1)
		go n.disc.resolvePeers()
	}
	go n.disc.run()
	go n.acceptPeers()
	go n.svc.accept()
	go n.loop(ctx)
	return nil
}

func (n *Node) newCore() error {
	cfg := n.opts.Config
	cfg.ID = n.ID()
	cfg.Durable = n.opts.DataDir != ""
	if cfg.Seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		cfg.Seed = binary.LittleEndian.Uint64(b[:])
	}
	if cfg.Life == 0 {
		cfg.Life = n.instance // this process's epochs are its own
	}
	if cfg.ClusterID == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		cfg.ClusterID = binary.LittleEndian.Uint64(b[:]) | 1
	}
	if n.opts.DataDir != "" && n.store == nil {
		s, _, err := store.Open(n.opts.DataDir, store.Meta{Cluster: n.opts.Cluster, Node: uint16(cfg.ID)}, store.Options{Fsync: n.opts.Fsync, Logger: n.log})
		if err != nil {
			return err
		}
		n.store = s
	}
	r, err := n.restored()
	if err != nil {
		return err
	}
	n.loaded = nil
	c, err := replica.RestartCore(cfg, n.mono(), r)
	if err != nil {
		return err
	}
	n.core, n.startLast = c, c.LastIndex()
	return nil
}

// ID is the node's id.
func (n *Node) ID() wire.NodeID { return wire.NodeID(n.id.Load()) }

// refusedPeer is a peer refused for its settings.
type refusedPeer struct {
	why        string
	at, logged time.Time
}

// mono is the core's clock: monotonic time since the node started (a
// stepped wall clock must not stop or rush its timers).
func (n *Node) mono() int64 { return n.monoAt(time.Now()) }

func (n *Node) monoAt(t time.Time) int64 { return int64(t.Sub(n.started)) + int64(time.Second) }

// ClientAddr is the address the client listener is bound to.
func (n *Node) ClientAddr() string { return n.clientL.Addr().String() }

// PeerAddr is the address the peer listener is bound to.
func (n *Node) PeerAddr() string { return n.peerLn.Addr().String() }

// Dial connects to addr as a client on the node's machine would: through
// the node's Network (an app's embedded client dials its node with it).
func (n *Node) Dial(ctx context.Context, addr string) (net.Conn, error) {
	return n.opts.Network.Dial(ctx, addr)
}

// advertise is the client address to give to clients elsewhere.
func (n *Node) advertise() string {
	if n.opts.Advertise != "" {
		return n.opts.Advertise
	}
	return n.ClientAddr()
}

// Done is closed when the node has stopped.
func (n *Node) Done() <-chan struct{} { return n.done }

// Leave stops the node gracefully: a primary tells its peers at once, so
// that they elect without waiting for suspicion. It returns when the node
// has stopped or ctx ends.
func (n *Node) Leave(ctx context.Context) error {
	select {
	case n.inbox <- input{kind: inCall, call: func() {
		n.log.Info("leaving")
		n.noteBehind()
		n.core.Leave()
		n.flush()
		n.links.flushAll(200 * time.Millisecond)
		n.stop()
	}}:
	case <-n.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-n.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the node at once (as a crash would, but releasing sockets).
func (n *Node) Close() {
	n.stop()
	<-n.done
}

func (n *Node) stop() {
	n.stopOnce.Do(func() {
		close(n.quit)
		n.cancel()
	})
}

func (n *Node) closeSockets() {
	n.peerLn.Close()
	n.clientL.Close()
	if n.disc != nil {
		n.disc.close()
	}
	if n.store != nil {
		if err := n.store.Close(); err != nil {
			n.log.Error("closing the data directory", "error", err)
		}
		n.store = nil
	}
}

// loop is the one goroutine that owns the core.
func (n *Node) loop(ctx context.Context) {
	n.startWriter()
	defer func() {
		n.stop() // when ctx ended: the other goroutines watch quit
		n.stopWriter()
		n.closeSockets()
		n.links.closeAll()
		n.svc.closeAll()
		n.wg.Wait()
		close(n.done)
	}()
	// The core's timers are heartbeats and timeouts of hundreds of
	// milliseconds, and it is told the time on every turn. A turn comes
	// with every message, command or broken link, and else when the core
	// says it is due (replica/due.go): an idle node wakes once a period,
	// with its peers.
	step := max(n.opts.Config.Heartbeat/2, time.Millisecond)
	ticker := time.NewTimer(step)
	defer ticker.Stop()
	forgetEvery := time.NewTicker(5 * time.Second)
	defer forgetEvery.Stop()
	var idle <-chan time.Time // nil: wait; closed: do not wait (sends are due)
	closed := make(chan time.Time)
	close(closed)
	for {
		idle = nil
		if n.svc.sending() {
			idle = closed
		}
		var first *input
		select {
		case <-ctx.Done():
			return
		case <-n.quit:
			return
		case <-ticker.C:
		case <-forgetEvery.C:
			n.forgetGone()
		case in := <-n.inbox:
			first = &in
		case in := <-n.svc.in:
			first = &in
		case d := <-n.saveDone:
			if !n.saved(d) {
				return
			}
		case <-idle:
		}
		now := time.Now()
		n.core.SetWall(now.UnixNano())
		n.core.Tick(n.monoAt(now))
		if first != nil {
			n.handle(*first)
			// Take what else is waiting, so that one Ready carries it all:
			// the peers' first, so that no client's keeps them waiting.
		more:
			for i := 0; i < maxInputs; i++ {
				select {
				case in := <-n.inbox:
					n.handle(in)
					continue
				default:
				}
				select {
				case in := <-n.svc.in:
					n.handle(in)
				default:
					break more
				}
			}
		}
		select {
		case <-n.quit:
			return
		default:
		}
		n.tellBehind()
		t1 := time.Now()
		n.turnReady()
		t2 := time.Now()
		n.svc.pushLater(now)
		n.svc.send()
		ticker.Reset(n.sleep(step))
		if d := time.Since(now); d > slowTurn {
			n.limited.warn(n.log, "slow-turn", "slow turn of the node's loop", "took", d.Round(time.Millisecond),
				"inputs", t1.Sub(now).Round(time.Millisecond), "process", t2.Sub(t1).Round(time.Millisecond), "clients", len(n.svc.clients))
		}
	}
}

// sleep is how long the loop may wait for its next turn: until the core's
// next timer, or a step while the service has pushes waiting.
func (n *Node) sleep(step time.Duration) time.Duration {
	now := time.Now()
	d := time.Duration(n.core.Due() - n.monoAt(now))
	if n.svc.pushesLater() {
		d = min(d, step)
	}
	return max(d, time.Millisecond)
}

// slowTurn is a turn of the loop worth a warning: the core may take the
// node for paused if turns get near the suspicion timeout.
const slowTurn = 100 * time.Millisecond

// maxInputs bounds the inputs one turn of the loop takes, and so the work
// of the turn.
const maxInputs = 128

func (n *Node) handle(in input) {
	switch in.kind {
	case inCall:
		in.call()
	case inBeacon:
		n.onBeacon(in.msg.(*wire.Beacon), in.src)
	case inPeer:
		if pm, ok := in.msg.(wire.PeerMessage); ok {
			n.core.Step(pm)
		}
	case inLinkDown:
		if in.link != nil && n.links.out[in.from] != in.link {
			break // a link dropped on purpose: a newer one speaks for the peer
		}
		n.core.LinkDown(in.from)
	default:
		n.svc.handle(in)
	}
}

// onBeacon learns a peer's addresses and hands the beacon to the core.
func (n *Node) onBeacon(b *wire.Beacon, src *net.UDPAddr) {
	if b.From == n.ID() {
		if b.Instance != n.instance {
			if n.opts.ID == 0 && n.yieldsID(b) {
				n.reID(b)
				return
			}
			if n.idTaken(b, src) {
				return
			}
			n.disc.warn(src, "another node claims this node's id", "id", fmt.Sprintf("n%d", b.From))
		}
		return
	}
	ps := n.peers[b.From]
	if ps == nil {
		ps = &peerState{}
		n.peers[b.From] = ps
	}
	if slices.Contains(ps.retired, b.Instance) {
		if time.Since(ps.lastSeen) < n.opts.Config.Suspicion {
			// An older process's beacon, late or replayed (a MAC does
			// not date it): taken for a restart, it would break the
			// links of the process that runs now.
			return
		}
		// The newer one is silent: the older may run after all (a
		// newcomer with its id that stopped at once, say).
		ps.retired = slices.DeleteFunc(ps.retired, func(x uint64) bool { return x == b.Instance })
	}
	if ps.instance != 0 && ps.instance != b.Instance {
		// The same id in a new process: whatever we had with the old
		// one is gone.
		n.log.Info("peer restarted", "peer", fmt.Sprintf("n%d", b.From))
		n.links.drop(b.From)
		n.core.LinkDown(b.From)
		ps.retired = append(ps.retired, ps.instance)
		if len(ps.retired) > 8 {
			ps.retired = ps.retired[1:]
		}
	}
	ps.instance = b.Instance
	ps.peerAddr = fillHost(b.PeerAddr, src)
	ps.clientAddr = fillHost(b.ClientAddr, src)
	ps.advertise = b.Advertise
	ps.lastSeen = time.Now()
	n.heardBehind(b.From)
	n.links.ensure(b.From, ps.peerAddr)
	n.core.Step(b)
}

// fillHost completes an address whose host is missing or unspecified with
// the host the beacon came from.
func fillHost(addr string, src *net.UDPAddr) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || src == nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return net.JoinHostPort(src.IP.String(), port)
	}
	return addr
}

// forgetGone drops peers not heard from for a minute.
func (n *Node) forgetGone() {
	for id, ps := range n.peers {
		if time.Since(ps.lastSeen) > time.Minute && !n.core.Alive(id) {
			delete(n.peers, id)
			n.core.Forget(id)
			n.links.drop(id)
		}
	}
}

// process acts on what the core produced: each peer gets its messages in
// one write, at once; what players get is queued (see service.send).
func (n *Node) process(rd replica.Ready) {
	if len(rd.Messages) > 0 {
		n.sendMessages(rd.Messages)
	}
	n.svc.committed(rd)
	n.svc.answerReads(rd.Reads)
	for _, nt := range rd.Notices {
		n.log.Info(nt.Text, "epoch", nt.Epoch.Term())
		if nt.Kind == wire.NoticeSuspected && nt.Node != n.ID() {
			// Whatever link it had may be dead without knowing it: dial
			// afresh when it is heard again.
			n.links.drop(nt.Node)
		}
	}
	if rd.RoleChanged || len(rd.Notices) > 0 || time.Since(n.lastViewAt()) > n.opts.Config.Heartbeat {
		n.publish(rd.Notices)
	}
}

// sendMessages encodes the messages for each peer into one buffer, in
// order, and sends it.
func (n *Node) sendMessages(msgs []replica.Envelope) {
	type batch struct {
		to  wire.NodeID
		buf []byte
	}
	var batches []batch
	for _, env := range msgs {
		if env.To == 0 {
			if b, ok := env.Msg.(*wire.Beacon); ok {
				n.disc.send(b)
			}
			continue
		}
		k := len(batches)
		for i := range batches {
			if batches[i].to == env.To {
				k = i
				break
			}
		}
		if k == len(batches) {
			batches = append(batches, batch{to: env.To})
		}
		buf, err := wire.AppendFrame(batches[k].buf, env.Msg)
		if err != nil {
			n.log.Error("message not sent", "to", fmt.Sprintf("n%d", env.To), "type", env.Msg.Type(), "error", err)
			continue
		}
		batches[k].buf = buf
	}
	for _, b := range batches {
		if len(b.buf) > 0 {
			n.links.sendFrames(b.to, b.buf)
		}
	}
}
