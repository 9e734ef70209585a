package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
	"github.com/gridlock-game/gridlock/wire"
)

// Timings of what the screen shows for a while.
const (
	flashFor     = 1500 * time.Millisecond // a rejected move
	scoredFor    = 1000 * time.Millisecond // a move that scored
	recoveredFor = 10 * time.Second        // "failover took …" after a failover
	roomsEvery   = 2 * time.Second         // at most one silent rooms query per this
	maxLocal     = 100                     // local chat lines kept
	maxLog       = 200                     // event log entries kept
	maxHistory   = 50                      // chat input history
)

type focus uint8

const (
	focusBoard focus = iota
	focusChat
)

type overlay uint8

const (
	ovNone overlay = iota
	ovHelp
	ovRooms
)

// Messages of the app's own commands.
type (
	clusterMsg       struct{}               // events are waiting
	clusterClosedMsg struct{}               // Notify was closed
	tickMsg          struct{ at time.Time } // time passed
)

// sent is a command waiting for its Ack.
type sent struct {
	cmd      game.Command
	row, col int
}

// flash is a move's outcome shown on its cell and beside the board.
type flash struct {
	row, col int
	digit    uint8
	text     string
	ok       bool
	until    time.Time
}

type lineKind uint8

const (
	lineInfo lineKind = iota
	lineError
)

// localLine is a line of the chat pane that only this app shows (errors,
// answers to /who and /whereami). It follows chat line `after` of its room.
type localLine struct {
	room  string
	after uint64
	kind  lineKind
	text  string
}

type logKind uint8

const (
	logInfo logKind = iota
	logGood
	logBad
	logWarn
	logLead
	logDim
)

type logEntry struct {
	t    time.Time
	kind logKind
	text string
}

// query is what a Query was for.
type query struct {
	kind wire.QueryKind
	show bool   // the player asked (else: completion refresh)
	room string // QueryWho: the room asked about
}

// claimGuess is the claim this app expects to hold while a Claim or Release
// is unanswered.
type claimGuess struct {
	seq      uint64
	has      bool
	row, col int
}

// Model is the app: a tea.Model.
type Model struct {
	c    Cluster
	o    Options
	now  func() time.Time
	done <-chan struct{}

	th     *theme
	keys   keyMap
	help   help.Model
	lay    layout
	layKey layoutKey

	width, height int

	room   *game.RoomView
	view   *wire.ClusterView
	status client.Status
	fatal  error
	closed bool

	focus   focus
	overlay overlay
	row     int
	col     int

	pending map[uint64]sent
	placing map[int]uint8 // board index -> digit of an unanswered Place
	claim   claimGuess
	flash   flash

	input   textinput.Model
	history []string
	histPos int
	hint    string
	locals  []localLine
	scroll  int

	rooms    []game.RoomSummary
	roomsSel int
	roomsAt  time.Time
	queries  map[uint64]query

	log     []logEntry
	logSeen map[string]bool
	primary string // log key of the last primary logged

	failSince time.Time
	recovered time.Time
	failTook  time.Duration

	tickAt time.Time // when the tick under way is due (zero: none)
	cache  viewCache
}

func newModel(c Cluster, o Options, dark bool) *Model {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	th := newTheme(o.NoColor, dark)
	ti := textinput.New()
	ti.Prompt = ""
	ti.CharLimit = game.MaxChatRunes
	ti.Placeholder = "say something, or /help"
	ti.Cursor.SetMode(cursor.CursorStatic)
	ti.PlaceholderStyle = th.hintStyle
	ti.TextStyle = th.textStyle
	ti.Cursor.TextStyle = th.textStyle
	m := &Model{
		c:       c,
		o:       o,
		now:     now,
		th:      th,
		keys:    newKeyMap(),
		help:    newHelp(th),
		input:   ti,
		pending: map[uint64]sent{},
		placing: map[int]uint8{},
		queries: map[uint64]query{},
		logSeen: map[string]bool{},
	}
	return m
}

// Init starts listening to the cluster.
func (m *Model) Init() tea.Cmd {
	return func() tea.Msg { return clusterMsg{} }
}

// wait returns when the cluster has events (or the app is done).
func (m *Model) wait() tea.Cmd {
	ch, done := m.c.Notify(), m.done
	return func() tea.Msg {
		select {
		case _, ok := <-ch:
			if !ok {
				return clusterClosedMsg{}
			}
			return clusterMsg{}
		case <-done:
			return nil
		}
	}
}

// Update handles one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case clusterMsg:
		for _, ev := range m.c.Drain() {
			m.apply(ev)
		}
		cmds = append(cmds, m.wait())
	case clusterClosedMsg:
		for _, ev := range m.c.Drain() {
			m.apply(ev)
		}
		m.closed = true
	case tickMsg:
		if msg.at.Equal(m.tickAt) || !m.now().Before(m.tickAt) {
			m.tickAt = time.Time{}
		}
	case tea.KeyMsg:
		cmd, quit := m.onKey(msg)
		if quit {
			return m, tea.Quit
		}
		cmds = append(cmds, cmd)
	case tea.MouseMsg:
		m.onMouse(msg)
	default:
		if m.focus == focusChat {
			var cmd tea.Cmd
			m.input, cmd = m.input.Update(msg)
			cmds = append(cmds, cmd)
		}
	}
	m.expire()
	m.relayout()
	cmds = append(cmds, m.tick())
	return m, tea.Batch(cmds...)
}

// expire forgets what is no longer shown.
func (m *Model) expire() {
	now := m.now()
	if !m.flash.until.IsZero() && !now.Before(m.flash.until) {
		m.flash = flash{}
	}
	if !m.recovered.IsZero() && now.Sub(m.recovered) >= recoveredFor {
		m.recovered = time.Time{}
	}
}

// tick schedules a tickMsg for the next moment something on screen changes
// with time, and nothing while nothing does: an idle app sleeps.
func (m *Model) tick() tea.Cmd {
	now := m.now()
	var next time.Duration
	soonest := func(d time.Duration) {
		if d > 0 && (next == 0 || d < next) {
			next = d
		}
	}
	// A count of whole seconds left until t changes when the time left
	// passes a whole second.
	secondsLeft := func(t time.Time) {
		if left := t.Sub(now); left > 0 {
			if d := left % time.Second; d > 0 {
				soonest(d)
			} else {
				soonest(time.Second)
			}
		}
	}
	if m.status.State == client.Failover {
		soonest(100 * time.Millisecond) // the seconds since, in tenths
	}
	if !m.flash.until.IsZero() {
		soonest(m.flash.until.Sub(now))
	}
	if !m.recovered.IsZero() {
		soonest(m.recovered.Add(recoveredFor).Sub(now))
	}
	if m.room != nil && m.room.State == game.RoundOver && m.room.NextRoundAt != 0 {
		secondsLeft(time.Unix(0, m.room.NextRoundAt))
	}
	if until, ok := m.myClaimUntil(); ok {
		secondsLeft(until)
	}
	if next == 0 {
		return nil
	}
	at := now.Add(next)
	if m.tickAt.After(now) && !at.Before(m.tickAt) {
		return nil // one is due sooner
	}
	m.tickAt = at
	return tea.Tick(next, func(time.Time) tea.Msg { return tickMsg{at: at} })
}

// ---- cluster events ----

func (m *Model) apply(ev client.ClientEvent) {
	t := ev.Time
	if t.IsZero() {
		t = m.now()
	}
	// what the event carries first, then the status it comes with: a
	// notice of a suspicion explains the failover that follows it
	defer func() {
		if ev.Status.State != 0 {
			m.setStatus(ev.Status, t)
		}
	}()
	switch ev.Kind {
	case client.KindRoom:
		if ev.Room != nil {
			m.setRoom(ev.Room, ev.Events, t)
		}
	case client.KindAck:
		if ev.Ack != nil {
			m.onAck(*ev.Ack)
		}
	case client.KindView:
		if ev.View != nil {
			m.setView(ev.View, t)
		}
	case client.KindReply:
		if ev.Reply != nil {
			m.onReply(ev.Reply)
		}
	case client.KindNotice:
		if ev.Notice != nil {
			m.onNotice(*ev.Notice, t)
		}
	case client.KindFatal:
		m.fatal = ev.Err
		if m.fatal == nil {
			m.fatal = errors.New("the cluster refused this player")
		}
	}
}

// boardOK reports whether the room has a board to draw.
func boardOK(r *game.RoomView) bool {
	if r == nil {
		return false
	}
	n := int(r.Puzzle.Size)
	return n >= 1 && n <= 9 && len(r.Board) == n*n && r.Puzzle.BoxRows > 0 && r.Puzzle.BoxCols > 0
}

func (m *Model) size() int {
	if !boardOK(m.room) {
		return 0
	}
	return int(m.room.Puzzle.Size)
}

func (m *Model) setRoom(r *game.RoomView, evs []game.Event, t time.Time) {
	prev := m.room
	m.room = r
	if prev == nil || prev.Name != r.Name {
		m.scroll = 0
		m.flash = flash{}
		m.claim = claimGuess{}
		clear(m.placing)
		m.overlay = closeRooms(m.overlay)
	} else if prev.Round != r.Round {
		clear(m.placing)
	}
	if n := m.size(); n > 0 {
		m.row = min(m.row, n-1)
		m.col = min(m.col, n-1)
		m.keys.setSize(n)
	}
	for _, e := range evs {
		m.onGameEvent(e, t)
	}
}

func closeRooms(o overlay) overlay {
	if o == ovRooms {
		return ovNone
	}
	return o
}

func (m *Model) me() string {
	if m.status.Name != "" {
		return m.status.Name
	}
	return m.o.Name
}

func (m *Model) isMe(name string) bool {
	return name != "" && game.NameKey(name) == game.NameKey(m.me())
}

func (m *Model) onGameEvent(e game.Event, t time.Time) {
	switch e.Kind {
	case game.EvJoined:
		m.logAdd(t, logGood, e.Name+" joined #"+e.Room)
	case game.EvLeft:
		m.logAdd(t, logDim, e.Name+" left #"+e.Room)
	case game.EvRoundOver:
		if e.Name != "" {
			m.logAdd(t, logLead, fmt.Sprintf("%s won round %d", e.Name, e.Round))
		} else {
			m.logAdd(t, logInfo, fmt.Sprintf("round %d over", e.Round))
		}
	case game.EvRoundStarted:
		m.logAdd(t, logDim, fmt.Sprintf("round %d started", e.Round))
	case game.EvViewChange:
		m.logPrimary(wire.NodeID(e.Node), e.Epoch, t)
	case game.EvRollback:
		text := "rolled back " + rolledBack(e)
		m.logAdd(t, logWarn, text)
		if m.isMe(e.Name) && e.Cmd == game.CmdPlace {
			m.setFlash(int(e.Row), int(e.Col), e.Digit, "your "+rolledBackWhat(e)+" was rolled back", false)
		}
	}
}

func cellName(row, col int) string { return fmt.Sprintf("r%dc%d", row+1, col+1) }

func rolledBackWhat(e game.Event) string {
	switch e.Cmd {
	case game.CmdPlace:
		return fmt.Sprintf("%d at %s", e.Digit, cellName(int(e.Row), int(e.Col)))
	case game.CmdClaim:
		return "claim on " + cellName(int(e.Row), int(e.Col))
	case game.CmdChat:
		return "message"
	}
	return e.Cmd.String()
}

func rolledBack(e game.Event) string {
	who := e.Name
	if who == "" {
		who = "someone"
	}
	return who + "'s " + rolledBackWhat(e)
}

// setStatus follows the connection, for the status line and the log.
func (m *Model) setStatus(s client.Status, t time.Time) {
	old := m.status
	m.status = s
	if s.State == old.State && s.Node == old.Node && s.Epoch == old.Epoch && s.Lost == old.Lost {
		return
	}
	since := s.Since
	if since.IsZero() {
		since = t
	}
	switch s.State {
	case client.Failover:
		if old.State != client.Failover {
			m.failSince = since
			m.recovered = time.Time{}
		}
		if s.Lost != 0 {
			m.logDown(s.Lost, t, fmt.Sprintf("n%d lost", s.Lost))
		}
	case client.Connected:
		if old.State == client.Failover && !m.failSince.IsZero() {
			m.failTook = since.Sub(m.failSince)
			m.recovered = since
			m.failSince = time.Time{}
		}
		if s.Node != 0 {
			m.logPrimary(s.Node, s.Epoch.Term(), t)
		}
	case client.Closed:
		if old.State != client.Closed {
			m.logAdd(t, logBad, "disconnected")
		}
	}
}

func (m *Model) setView(v *wire.ClusterView, t time.Time) {
	old := m.view
	m.view = v
	if old == nil {
		return
	}
	was := make(map[wire.NodeID]bool, len(old.Nodes))
	for _, n := range old.Nodes {
		was[n.ID] = n.Alive
	}
	for _, n := range v.Nodes {
		alive, known := was[n.ID]
		switch {
		case !known && n.Alive:
			m.logUp(n.ID, t, fmt.Sprintf("n%d is up", n.ID))
		case known && alive && !n.Alive:
			m.logDown(n.ID, t, fmt.Sprintf("n%d down", n.ID))
		case known && !alive && n.Alive:
			m.logUp(n.ID, t, fmt.Sprintf("n%d is back", n.ID))
		}
		delete(was, n.ID)
	}
	for id, alive := range was {
		if alive {
			m.logDown(id, t, fmt.Sprintf("n%d left", id))
		}
	}
	if v.Primary != 0 && (v.Primary != old.Primary || v.Epoch != old.Epoch) {
		m.logPrimary(v.Primary, v.Epoch.Term(), t)
	}
}

func (m *Model) onNotice(n wire.Notice, t time.Time) {
	if n.Time != 0 {
		t = time.Unix(0, n.Time)
	}
	switch n.Kind {
	case wire.NoticeDetail:
		return // for the log file
	case wire.NoticeSuspected:
		m.logDown(n.Node, t, fmt.Sprintf("n%d suspected", n.Node))
	case wire.NoticeLeft:
		m.logDown(n.Node, t, fmt.Sprintf("n%d is leaving", n.Node))
	case wire.NoticeViewDrop:
		m.logDown(n.Node, t, n.Text)
	case wire.NoticeJoined, wire.NoticeViewJoin:
		m.logUp(n.Node, t, n.Text)
	case wire.NoticeElected, wire.NoticeFollowing:
		m.logPrimary(n.Node, n.Epoch.Term(), t)
	case wire.NoticeElection:
		m.logOnce("notice:"+n.Text, t, logWarn, n.Text)
	case wire.NoticeRollback, wire.NoticeNoQuorum, wire.NoticeStepDown:
		m.logOnce("notice:"+n.Text, t, logWarn, n.Text)
	default:
		m.logOnce("notice:"+n.Text, t, logDim, n.Text)
	}
}

// ---- the event log ----

func (m *Model) logAdd(t time.Time, k logKind, text string) {
	if text == "" {
		return
	}
	m.log = append(m.log, logEntry{t, k, text})
	if len(m.log) > maxLog {
		m.log = append(m.log[:0], m.log[len(m.log)-maxLog:]...)
	}
}

// logOnce logs text unless key was logged already (until forgotten).
func (m *Model) logOnce(key string, t time.Time, k logKind, text string) {
	if m.logSeen[key] {
		return
	}
	if len(m.logSeen) > 4*maxLog {
		clear(m.logSeen)
	}
	m.logSeen[key] = true
	m.logAdd(t, k, text)
}

// logDown and logUp log a node's going and coming once per change.
func (m *Model) logDown(id wire.NodeID, t time.Time, text string) {
	delete(m.logSeen, fmt.Sprintf("up:%d", id))
	m.logOnce(fmt.Sprintf("down:%d", id), t, logBad, text)
}

func (m *Model) logUp(id wire.NodeID, t time.Time, text string) {
	delete(m.logSeen, fmt.Sprintf("down:%d", id))
	m.logOnce(fmt.Sprintf("up:%d", id), t, logGood, text)
}

// logPrimary logs a primary once per epoch: how the app first found it, or
// that it was elected.
func (m *Model) logPrimary(id wire.NodeID, term uint64, t time.Time) {
	if id == 0 {
		return
	}
	k := fmt.Sprintf("primary:%d:%d", id, term)
	if m.logSeen[k] {
		return
	}
	text := fmt.Sprintf("n%d elected (epoch %d)", id, term)
	if m.primary == "" {
		text = fmt.Sprintf("n%d is primary (epoch %d)", id, term)
	}
	m.primary = k
	delete(m.logSeen, fmt.Sprintf("down:%d", id))
	m.logOnce(k, t, logLead, text)
}

// ---- acks and replies ----

func (m *Model) onAck(a client.Ack) {
	s, ok := m.pending[a.Seq]
	delete(m.pending, a.Seq)
	cmd := a.Cmd
	if cmd == nil {
		cmd = s.cmd
	}
	if m.claim.seq != 0 && a.Seq == m.claim.seq {
		m.claim = claimGuess{}
	}
	err := a.Result.Err
	switch c := cmd.(type) {
	case game.Place:
		row, col := int(c.Row), int(c.Col)
		if ok {
			row, col = s.row, s.col
		}
		if n := m.size(); n > 0 && row < n && col < n {
			delete(m.placing, row*n+col)
		}
		if err != nil {
			m.setFlash(row, col, c.Digit, reason(err, a.Result.Points), false)
		} else {
			m.setFlash(row, col, c.Digit, fmt.Sprintf("+%d", a.Result.Points), true)
		}
	case game.Claim:
		if err != nil {
			m.setFlash(int(c.Row), int(c.Col), 0, reason(err, 0), false)
		}
	case game.Release:
		if err != nil && err.Code != game.ErrNotClaimed {
			m.setFlash(m.row, m.col, 0, err.Error(), false)
		}
	default:
		if err != nil {
			m.addLocal(lineError, err.Error())
		}
	}
}

// reason is a rejection as the board says it.
func reason(err *game.Error, points int32) string {
	switch err.Code {
	case game.ErrWrong:
		if points == 0 {
			points = -3
		}
		return "wrong: " + signed(points)
	case game.ErrClaimed:
		if err.Who == "" {
			return "cell is claimed"
		}
		return "claimed by " + err.Who
	case game.ErrGiven:
		return "cell is a given"
	case game.ErrRoundOver:
		return "the round is over"
	}
	return err.Error()
}

// signed writes points with a real minus sign.
func signed(p int32) string {
	if p < 0 {
		return fmt.Sprintf("−%d", -p)
	}
	return fmt.Sprintf("+%d", p)
}

func (m *Model) setFlash(row, col int, digit uint8, text string, ok bool) {
	d := flashFor
	if ok {
		d = scoredFor
	}
	m.flash = flash{row: row, col: col, digit: digit, text: text, ok: ok, until: m.now().Add(d)}
}

func (m *Model) flashOn() bool {
	return !m.flash.until.IsZero() && m.now().Before(m.flash.until)
}

func (m *Model) onReply(r *wire.QueryReply) {
	q, ok := m.queries[r.Seq]
	delete(m.queries, r.Seq)
	if !ok {
		if r.Rooms != nil {
			m.rooms = r.Rooms
		}
		return
	}
	switch q.kind {
	case wire.QueryRooms:
		m.rooms = r.Rooms
		if q.show {
			m.overlay = ovRooms
			m.roomsSel = 0
			for i, s := range m.rooms {
				if m.room != nil && s.Name == m.room.Name {
					m.roomsSel = i
				}
			}
		}
	case wire.QueryWho:
		room := q.room
		if room == "" && m.room != nil {
			room = m.room.Name
		}
		if len(r.Members) == 0 {
			m.addLocal(lineInfo, "#"+room+" is empty")
			return
		}
		names := make([]string, len(r.Members))
		for i, mv := range r.Members {
			names[i] = mv.Name
			if !mv.Online {
				names[i] += " (away)"
			}
		}
		m.addLocal(lineInfo, fmt.Sprintf("in #%s: %s", room, strings.Join(names, ", ")))
	}
}

// addLocal adds a line to the chat pane of the current room.
func (m *Model) addLocal(k lineKind, text string) {
	l := localLine{kind: k, text: text}
	if m.room != nil {
		l.room = m.room.Name
		if n := len(m.room.Chat); n > 0 {
			l.after = m.room.Chat[n-1].N
		}
	}
	m.locals = append(m.locals, l)
	if len(m.locals) > maxLocal {
		m.locals = append(m.locals[:0], m.locals[len(m.locals)-maxLocal:]...)
	}
	m.scroll = 0
}

// ---- claims ----

// myClaim is the cell this player holds, as far as the app knows.
func (m *Model) myClaim() (row, col int, ok bool) {
	if m.claim.seq != 0 {
		return m.claim.row, m.claim.col, m.claim.has
	}
	if m.room == nil {
		return 0, 0, false
	}
	for _, c := range m.room.Claims {
		if m.isMe(c.Owner) {
			return int(c.Row), int(c.Col), true
		}
	}
	return 0, 0, false
}

// myClaimUntil is when the player's claim expires, if the player has one.
func (m *Model) myClaimUntil() (time.Time, bool) {
	if m.room == nil {
		return time.Time{}, false
	}
	for _, c := range m.room.Claims {
		if m.isMe(c.Owner) && c.Until != 0 {
			return time.Unix(0, c.Until), true
		}
	}
	return time.Time{}, false
}

// ---- sending ----

func (m *Model) send(cmd game.Command, row, col int) uint64 {
	if len(m.pending) >= 4096 {
		clear(m.pending) // answers that never came
	}
	seq := m.c.Send(cmd)
	m.pending[seq] = sent{cmd: cmd, row: row, col: col}
	return seq
}

func (m *Model) query(kind wire.QueryKind, room string, show bool) {
	seq := m.c.Query(kind, room)
	m.queries[seq] = query{kind: kind, show: show, room: room}
	if kind == wire.QueryRooms {
		m.roomsAt = m.now()
	}
}

// checkCell says why a move on the cursor's cell cannot succeed, or "".
func (m *Model) checkCell() string {
	r := m.room
	if r.State == game.RoundOver {
		return "the round is over"
	}
	c := r.Board[m.row*int(r.Puzzle.Size)+m.col]
	switch {
	case c.Given:
		return "cell is a given"
	case c.Digit != 0:
		return "cell is already filled"
	}
	return ""
}

func (m *Model) place(d int) {
	n := m.size()
	if n == 0 || d < 1 || d > n {
		return
	}
	if why := m.checkCell(); why != "" {
		m.setFlash(m.row, m.col, uint8(d), why, false)
		return
	}
	m.send(game.Place{Row: uint8(m.row), Col: uint8(m.col), Digit: uint8(d)}, m.row, m.col)
	m.placing[m.row*n+m.col] = uint8(d)
}

func (m *Model) toggleClaim() {
	if m.size() == 0 {
		return
	}
	if r, c, ok := m.myClaim(); ok && r == m.row && c == m.col {
		seq := m.send(game.Release{}, m.row, m.col)
		m.claim = claimGuess{seq: seq}
		return
	}
	if why := m.checkCell(); why != "" {
		m.setFlash(m.row, m.col, 0, why, false)
		return
	}
	seq := m.send(game.Claim{Row: uint8(m.row), Col: uint8(m.col)}, m.row, m.col)
	m.claim = claimGuess{seq: seq, has: true, row: m.row, col: m.col}
}

// ---- keys ----

func (m *Model) onKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	if m.fatal != nil {
		return nil, true
	}
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
		// Keys typed faster than they are read arrive as one message, whose
		// name may be "left", "up" or "enter": take them one at a time.
		var cmds []tea.Cmd
		for _, r := range msg.Runes {
			cmd, quit := m.onKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt})
			cmds = append(cmds, cmd)
			if quit {
				return tea.Batch(cmds...), true
			}
		}
		return tea.Batch(cmds...), false
	}
	if key.Matches(msg, m.keys.ForceQuit) {
		return nil, true
	}
	switch m.overlay {
	case ovHelp:
		m.overlay = ovNone
		return nil, false
	case ovRooms:
		if cmd, done := m.roomsKey(msg); done {
			return cmd, false
		}
	}
	if m.focus == focusChat {
		return m.chatKey(msg), false
	}
	return m.boardKey(msg)
}

func (m *Model) boardKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	n := m.size()
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return nil, true
	case key.Matches(msg, k.Up):
		m.row = max(m.row-1, 0)
	case key.Matches(msg, k.Down):
		m.row = max(min(m.row+1, n-1), 0)
	case key.Matches(msg, k.Left):
		m.col = max(m.col-1, 0)
	case key.Matches(msg, k.Right):
		m.col = max(min(m.col+1, n-1), 0)
	case msg.Type == tea.KeyRunes && len(msg.Runes) == 1 && msg.Runes[0] >= '0' && msg.Runes[0] <= '9':
		m.place(int(msg.Runes[0] - '0'))
	case key.Matches(msg, k.Claim):
		m.toggleClaim()
	case key.Matches(msg, k.Chat):
		return m.setFocus(focusChat), false
	case key.Matches(msg, k.Slash):
		cmd := m.setFocus(focusChat)
		m.input.SetValue("/")
		m.input.CursorEnd()
		return cmd, false
	case key.Matches(msg, k.Rooms):
		m.query(wire.QueryRooms, "", true)
	case key.Matches(msg, k.Help):
		m.overlay = ovHelp
	case key.Matches(msg, k.Back):
		m.flash = flash{}
	}
	return nil, false
}

func (m *Model) roomsKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Back, k.Rooms):
		m.overlay = ovNone
	case key.Matches(msg, k.Up):
		m.roomsSel = max(m.roomsSel-1, 0)
	case key.Matches(msg, k.Down):
		m.roomsSel = max(min(m.roomsSel+1, len(m.rooms)-1), 0)
	case key.Matches(msg, k.Join):
		m.overlay = ovNone
		if m.roomsSel < len(m.rooms) {
			name := m.rooms[m.roomsSel].Name
			if m.room == nil || name != m.room.Name {
				m.send(game.JoinRoom{Name: name}, 0, 0)
			}
		}
		return m.setFocus(focusBoard), true
	default:
		m.overlay = ovNone
		return nil, false
	}
	return nil, true
}

func (m *Model) setFocus(f focus) tea.Cmd {
	m.focus = f
	m.hint = ""
	if f == focusChat {
		if m.roomsAt.IsZero() || m.now().Sub(m.roomsAt) >= roomsEvery {
			m.query(wire.QueryRooms, "", false)
		}
		return m.input.Focus()
	}
	m.input.Blur()
	return nil
}

func (m *Model) chatKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		return m.setFocus(focusBoard)
	case "tab":
		if m.complete() {
			return nil
		}
		return m.setFocus(focusBoard)
	case "enter":
		m.hint = ""
		m.submit()
		return nil
	case "up":
		m.recall(-1)
		return nil
	case "down":
		m.recall(1)
		return nil
	case "pgup":
		m.scroll += max(m.lay.chatN-1, 1)
		return nil
	case "pgdown":
		m.scroll = max(m.scroll-max(m.lay.chatN-1, 1), 0)
		return nil
	}
	m.hint = ""
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return cmd
}

// recall steps through the lines sent before.
func (m *Model) recall(d int) {
	if len(m.history) == 0 {
		return
	}
	m.histPos = max(min(m.histPos+d, len(m.history)), 0)
	if m.histPos == len(m.history) {
		m.input.SetValue("")
	} else {
		m.input.SetValue(m.history[m.histPos])
	}
	m.input.CursorEnd()
}

func (m *Model) submit() {
	text := strings.TrimSpace(m.input.Value())
	m.input.Reset()
	if text == "" {
		return
	}
	if len(m.history) == 0 || m.history[len(m.history)-1] != text {
		m.history = append(m.history, text)
		if len(m.history) > maxHistory {
			m.history = m.history[1:]
		}
	}
	m.histPos = len(m.history)
	m.scroll = 0
	if strings.HasPrefix(text, "/") {
		m.command(text)
		return
	}
	line, ok := game.NormalizeChat(text)
	if !ok {
		m.addLocal(lineError, (&game.Error{Code: game.ErrBadText}).Error())
		return
	}
	m.send(game.Chat{Text: line}, 0, 0)
}

// ---- mouse ----

func (m *Model) onMouse(msg tea.MouseMsg) {
	if m.fatal != nil || m.lay.tooSmall {
		return
	}
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		m.scroll++
		return
	case tea.MouseButtonWheelDown:
		m.scroll = max(m.scroll-1, 0)
		return
	}
	if msg.Action != tea.MouseActionPress || msg.Button != tea.MouseButtonLeft {
		return
	}
	if m.overlay != ovNone {
		m.overlay = ovNone
	}
	if r, c, ok := m.lay.cellAt(msg.X, msg.Y); ok && m.size() > 0 {
		m.row, m.col = r, c
		if m.focus != focusBoard {
			m.setFocus(focusBoard)
		}
		return
	}
	if m.lay.inInput(msg.X, msg.Y) && m.focus != focusChat {
		m.setFocus(focusChat)
	}
}
