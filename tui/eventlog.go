package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

const maxLog = 200 // event log entries kept

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

// eventLog is what the sidebar's event log shows, and what it has logged
// once and must not log again.
type eventLog struct {
	log     []logEntry
	logSeen map[string]bool
	primary string // log key of the last primary logged
}

// logAdd logs text, keeping the last maxLog entries in time order: a
// node's notice can arrive after what it led to (an app that starts gets
// its node's election notices after the primary it found).
func (l *eventLog) logAdd(t time.Time, k logKind, text string) {
	if text == "" {
		return
	}
	i := len(l.log)
	for i > 0 && l.log[i-1].t.After(t) {
		i--
	}
	l.log = slices.Insert(l.log, i, logEntry{t, k, text})
	if len(l.log) > maxLog {
		l.log = append(l.log[:0], l.log[len(l.log)-maxLog:]...)
	}
}

// logOnce logs text unless key was logged already (until forgotten).
func (l *eventLog) logOnce(key string, t time.Time, k logKind, text string) {
	if l.logSeen[key] {
		return
	}
	if len(l.logSeen) > 4*maxLog {
		clear(l.logSeen)
	}
	l.logSeen[key] = true
	l.logAdd(t, k, text)
}

// logDown and logUp log a node's going and coming once per change.
func (l *eventLog) logDown(id wire.NodeID, t time.Time, text string) {
	delete(l.logSeen, fmt.Sprintf("up:%d", id))
	l.logOnce(fmt.Sprintf("down:%d", id), t, logBad, text)
}

func (l *eventLog) logUp(id wire.NodeID, t time.Time, text string) {
	delete(l.logSeen, fmt.Sprintf("down:%d", id))
	l.logOnce(fmt.Sprintf("up:%d", id), t, logGood, text)
}

// logPrimary logs a primary once per epoch: how the app first found it, or
// that it was elected.
func (l *eventLog) logPrimary(id wire.NodeID, term uint64, t time.Time) {
	if id == 0 {
		return
	}
	k := fmt.Sprintf("primary:%d:%d", id, term)
	if l.logSeen[k] {
		return
	}
	text := fmt.Sprintf("n%d elected (epoch %d)", id, term)
	if l.primary == "" {
		text = fmt.Sprintf("n%d is primary (epoch %d)", id, term)
	}
	l.primary = k
	delete(l.logSeen, fmt.Sprintf("down:%d", id))
	l.logOnce(k, t, logLead, text)
}

func (m *Model) eventLines(w, n int) []string {
	th := m.th
	out := make([]string, n)
	blank := spaces(w)
	for i := range out {
		out[i] = blank
	}
	if n <= 0 {
		return out
	}
	if len(m.log) == 0 {
		out[0] = fit(" "+th.hint.r("no events yet"), w)
		return out
	}
	loc := m.now().Location()
	tw := w - 2 - 9
	var rev []string
	for i := len(m.log) - 1; i >= 0 && len(rev) < n; i-- {
		e := m.log[i]
		p := th.text
		switch e.kind {
		case logGood:
			p = th.ok
		case logBad:
			p = th.err
		case logWarn:
			p = th.warn
		case logLead:
			p = th.gold
		case logDim:
			p = th.dim
		}
		text := shorten(e.text, tw)
		ls := wrap(text, tw, tw)
		if len(ls) > 2 {
			ls = []string{ls[0], truncate(strings.Join(ls[1:], " "), tw)}
		}
		for j := len(ls) - 1; j >= 0; j-- {
			stamp := spaces(8)
			if j == 0 {
				stamp = th.dim.r(e.t.In(loc).Format("15:04:05"))
			}
			rev = append(rev, fit(" "+stamp+" "+p.r(ls[j]), w))
		}
	}
	k := min(len(rev), n)
	for i := 0; i < k; i++ {
		out[i] = rev[k-1-i]
	}
	return out
}

// shorten abbreviates a log line that does not fit in w columns.
func shorten(text string, w int) string {
	for _, r := range [][2]string{{"(epoch ", "(e"}, {" is primary ", " primary "}, {"election: ", ""}} {
		if width(text) <= w {
			break
		}
		text = strings.Replace(text, r[0], r[1], 1)
	}
	return text
}
